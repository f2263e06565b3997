package handlers

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/junction-dev/junction"
	"github.com/junction-dev/junction/views"
)

// auditFilter reads ?actor=&action=&project=&target=&since=&until= (dates as 2006-01-02,
// or times as RFC 3339).
func auditFilter(c echo.Context) (junction.AuditFilter, error) {
	page, err := pageParam(c)
	if err != nil {
		return junction.AuditFilter{}, err
	}
	f := junction.AuditFilter{Actor: c.QueryParam("actor"), Action: c.QueryParam("action"), Project: c.QueryParam("project"),
		Target: c.QueryParam("target"), Page: page}
	fields := junction.FieldErrors{}
	for name, dst := range map[string]*time.Time{"since": &f.Since, "until": &f.Until} {
		v := c.QueryParam(name)
		if v == "" {
			continue
		}
		if t, err := time.Parse(time.RFC3339, v); err == nil {
			*dst = t
			continue
		}
		t, err := time.Parse("2006-01-02", v)
		if err != nil {
			fields.Add(name, "Use a date such as 2026-11-27 or a time such as 2026-11-27T10:00:00Z.")
			continue
		}
		if name == "until" {
			t = t.Add(24 * time.Hour) // the whole day
		}
		*dst = t
	}
	return f, fields.Err()
}

// APIAudit lists the audit log: GET /api/v1/audit (admins), with filters; format=jsonl
// streams every matching entry, one JSON object a line.
func (h *Handler) APIAudit(c echo.Context) error {
	f, err := auditFilter(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	switch c.QueryParam("format") {
	case "", "json":
	case "jsonl":
		started := false
		enc := json.NewEncoder(c.Response())
		err := h.Audit.EachAudit(ctx, f, func(e *junction.AuditEntry) error {
			if !started {
				c.Response().Header().Set(echo.HeaderContentType, "application/jsonl; charset=utf-8")
				c.Response().WriteHeader(http.StatusOK)
				started = true
			}
			return enc.Encode(e)
		})
		if err != nil {
			return err // once started, the error handler leaves the cut stream alone
		}
		if !started {
			c.Response().Header().Set(echo.HeaderContentType, "application/jsonl; charset=utf-8")
			return c.NoContent(http.StatusOK)
		}
		return nil
	default:
		return &junction.Error{Code: junction.EINVALID, Message: "Use format=json or format=jsonl.",
			Fields: map[string]string{"format": "Use json or jsonl."}}
	}
	list, total, err := h.Audit.FindAudit(ctx, f)
	if err != nil {
		return err
	}
	return writeList(c, list, total, f.Page)
}

// AuditPage shows the audit log with filters: GET /audit (admins).
func (h *Handler) AuditPage(c echo.Context) error {
	f, err := auditFilter(c)
	if junction.ErrorCode(err) == junction.EINVALID {
		f.Since, f.Until = time.Time{}, time.Time{}
	} else if err != nil {
		return err
	}
	list, total, err := h.Audit.FindAudit(c.Request().Context(), f)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.AuditPage(h.page(c, "Audit log", "audit"), views.AuditView{
		Entries: list, Total: total, Filter: f, Query: c.QueryParams()}))
}

// historyOf renders the History tab of one thing.
func (h *Handler) historyOf(c echo.Context, targetType, id, heading, back string, crumbs []views.Crumb) error {
	list, err := h.History.History(c.Request().Context(), targetType, id)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.HistoryPage(h.page(c, heading, ""), views.HistoryView{
		Heading: heading, Crumbs: crumbs, Back: back, Entries: list}))
}

// ConnectionHistoryPage is a connection's History tab: GET /connections/:id/history.
func (h *Handler) ConnectionHistoryPage(c echo.Context) error {
	conn, err := h.Connections.FindConnection(c.Request().Context(), c.Param("id"), false)
	if err != nil {
		return err
	}
	return h.historyOf(c, "connection", conn.ID, "History of "+conn.Name, "/connections/"+conn.ID,
		[]views.Crumb{{Label: "Projects", URL: "/projects"}, {Label: conn.Project, URL: "/projects/" + conn.Project}, {Label: conn.Name, URL: "/connections/" + conn.ID}})
}

// ServiceHistoryPage is a service's History tab: GET /services/:id/history.
func (h *Handler) ServiceHistoryPage(c echo.Context) error {
	svc, err := h.Services.FindService(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return h.historyOf(c, "service", svc.ID, "History of "+svc.DisplayName(), "/services/"+svc.ID,
		[]views.Crumb{{Label: "Catalog", URL: "/services"}, {Label: svc.DisplayName(), URL: "/services/" + svc.ID}})
}

// ProjectHistoryPage is a project's History tab: GET /projects/:p/history.
func (h *Handler) ProjectHistoryPage(c echo.Context) error {
	p, err := h.Projects.FindProject(c.Request().Context(), c.Param("p"))
	if err != nil {
		return err
	}
	return h.historyOf(c, "project", p.Handle, "History of "+p.Name, "/projects/"+p.Handle,
		[]views.Crumb{{Label: "Projects", URL: "/projects"}, {Label: p.Handle, URL: "/projects/" + p.Handle}})
}

// MappingHistoryPage is the History tab of a component's variables:
// GET /projects/:p/components/:c/env/history.
func (h *Handler) MappingHistoryPage(c echo.Context) error {
	return h.renderMappingHistory(c, http.StatusOK, "")
}

func (h *Handler) renderMappingHistory(c echo.Context, status int, problem string) error {
	ctx := c.Request().Context()
	project, component := c.Param("p"), c.Param("c")
	versions, err := h.Mappings.MappingHistory(ctx, project, component)
	if err != nil {
		return err
	}
	p, err := h.Projects.FindProject(ctx, project)
	if err != nil {
		return err
	}
	conns, err := h.Connections.FindConnections(ctx, junction.ConnectionFilter{Project: project, Component: component, WithProjectConnections: true})
	if err != nil {
		return err
	}
	names := map[string]string{}
	for _, conn := range conns {
		names[conn.ID] = conn.Name
	}
	return render(c, status, views.MappingHistoryPage(h.page(c, "History of "+component+"'s variables", "projects"), views.MappingHistoryView{
		Project: project, Component: component, Versions: versions, Names: names, CanWrite: p.Role.CanWrite(), Error: problem}))
}

// RestoreMappingsForm restores a version: POST /projects/:p/components/:c/env/restore.
func (h *Handler) RestoreMappingsForm(c echo.Context) error {
	version, err := strconv.Atoi(c.FormValue("version"))
	if err != nil {
		return &junction.Error{Code: junction.EINVALID, Message: "Choose a version to restore.", Fields: map[string]string{"version": "Required."}}
	}
	if _, err := h.Mappings.RestoreMappings(c.Request().Context(), c.Param("p"), c.Param("c"), version); isFormError(err) {
		return h.renderMappingHistory(c, formStatus(err), junction.ErrorMessage(err))
	} else if err != nil {
		return err
	}
	return h.redirect(c, "/projects/"+c.Param("p")+"/components/"+c.Param("c")+"/env/history", "Version "+strconv.Itoa(version)+" restored as a new version.")
}

// APIMappingHistory lists the versions of a component's mappings:
// GET /api/v1/projects/:p/components/:c/mappings/history.
func (h *Handler) APIMappingHistory(c echo.Context) error {
	list, err := h.Mappings.MappingHistory(c.Request().Context(), c.Param("p"), c.Param("c"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"items": list})
}

// APIRestoreMappings makes an earlier version current:
// POST /api/v1/projects/:p/components/:c/mappings/restore {"version":N}.
func (h *Handler) APIRestoreMappings(c echo.Context) error {
	var body struct {
		Version int `json:"version"`
	}
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	if body.Version <= 0 {
		return &junction.Error{Code: junction.EINVALID, Message: "Name the version to restore.", Fields: map[string]string{"version": "Required."}}
	}
	list, err := h.Mappings.RestoreMappings(c.Request().Context(), c.Param("p"), c.Param("c"), body.Version)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"items": list})
}

// APIFinishRotation ends a rotation's grace period at once:
// POST /api/v1/connections/:id/rotate/finish {"environment":"development"}.
func (h *Handler) APIFinishRotation(c echo.Context) error {
	var body struct {
		Environment string `json:"environment"`
	}
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	if body.Environment == "" {
		return &junction.Error{Code: junction.EINVALID, Message: "Name the environment.", Fields: map[string]string{"environment": "Required."}}
	}
	if err := h.Connections.FinishRotation(c.Request().Context(), c.Param("id"), body.Environment); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"environment": body.Environment, "previous_valid_until": nil})
}

// FinishRotationForm is the "Finish now" button: POST /connections/:id/rotate/finish.
func (h *Handler) FinishRotationForm(c echo.Context) error {
	env := c.FormValue("environment")
	if err := h.Connections.FinishRotation(c.Request().Context(), c.Param("id"), env); err != nil {
		return err
	}
	return h.redirect(c, "/connections/"+c.Param("id"), "The previous secret in "+env+" no longer works.")
}

// recordForbidden records an authorization denial (outcome denied) for the signed-in user:
// the action the request attempted and what it was about.
func (h *Handler) recordForbidden(c echo.Context, message string) {
	ctx := c.Request().Context()
	if h.Audit == nil || junction.UserFromContext(ctx) == nil {
		return
	}
	e := junction.AuditEntry{Action: deniedAction(c), Project: c.Param("p"), Component: c.Param("c"),
		Details: map[string]any{"method": c.Request().Method, "route": c.Path(), "reason": message}}
	switch id := c.Param("id"); {
	case id != "" && (strings.HasPrefix(c.Path(), "/services") || strings.HasPrefix(c.Path(), "/api/v1/services")):
		e.Target = junction.AuditTarget{Type: "service", ID: id}
	case id != "" && strings.Contains(c.Path(), "/connections/:id"):
		e.Target = junction.AuditTarget{Type: "connection", ID: id}
	case e.Component != "":
		e.Target = junction.AuditTarget{Type: "component", ID: e.Project + "/" + e.Component, Name: e.Component}
	case e.Project != "":
		e.Target = junction.AuditTarget{Type: "project", ID: e.Project, Name: e.Project}
	default:
		e.Target = junction.AuditTarget{Type: "route", ID: c.Request().URL.Path}
	}
	if err := h.Audit.RecordDenied(ctx, e); err != nil {
		h.Logger.Error("audit", "err", err)
	}
}

// deniedActions name the action each route attempts, for the entries of denials.
var deniedActions = map[string]string{
	"POST /projects": "project.create", "POST /api/v1/projects": "project.create",
	"POST /projects/:p": "project.update", "PATCH /api/v1/projects/:p": "project.update",
	"POST /projects/:p/delete": "project.delete", "DELETE /api/v1/projects/:p": "project.delete",
	"POST /projects/:p/members": "member.set", "PUT /api/v1/projects/:p/members/:email": "member.set",
	"POST /projects/:p/members/remove": "member.remove", "DELETE /api/v1/projects/:p/members/:email": "member.remove",
	"POST /projects/:p/components": "component.create", "POST /api/v1/projects/:p/components": "component.create",
	"POST /projects/:p/components/:c": "component.update", "PATCH /api/v1/projects/:p/components/:c": "component.update",
	"POST /projects/:p/components/:c/delete": "component.delete", "DELETE /api/v1/projects/:p/components/:c": "component.delete",
	"POST /projects/:p/connections": "connection.create", "POST /api/v1/projects/:p/connections": "connection.create",
	"POST /projects/:p/components/:c/connections": "connection.create", "POST /api/v1/projects/:p/components/:c/connections": "connection.create",
	"POST /connections/:id": "connection.update", "PATCH /api/v1/connections/:id": "connection.update",
	"POST /connections/:id/delete": "connection.delete", "DELETE /api/v1/connections/:id": "connection.delete",
	"POST /connections/:id/rotate": "connection.rotate", "POST /api/v1/connections/:id/rotate": "connection.rotate",
	"POST /connections/:id/rotate/finish": "connection.rotate_finish", "POST /api/v1/connections/:id/rotate/finish": "connection.rotate_finish",
	"GET /connections/:id": "secret.reveal", "GET /api/v1/connections/:id": "secret.reveal", "GET /connections/:id/parameters": "secret.reveal",
	"GET /projects/:p/components/:c/env": "secret.reveal", "GET /api/v1/projects/:p/components/:c/env": "secret.reveal",
	"POST /projects/:p/components/:c/env": "mappings.replace", "PUT /api/v1/projects/:p/components/:c/mappings/:id": "mappings.replace",
	"DELETE /api/v1/projects/:p/components/:c/mappings/:id": "mappings.delete",
	"POST /projects/:p/components/:c/env/restore":           "mappings.restore", "POST /api/v1/projects/:p/components/:c/mappings/restore": "mappings.restore",
	"POST /projects/:p/components/:c/import": "mappings.import", "PUT /api/v1/projects/:p/components/:c/component.yaml": "mappings.import",
	"POST /projects/:p/components/:c/runtime-tokens": "runtime_token.create", "POST /api/v1/projects/:p/components/:c/runtime-tokens": "runtime_token.create",
	"POST /projects/:p/components/:c/runtime-tokens/:id/delete": "runtime_token.revoke", "DELETE /api/v1/projects/:p/components/:c/runtime-tokens/:id": "runtime_token.revoke",
	"POST /services/third-party": "service.register", "POST /services/database": "service.register", "POST /api/v1/services": "service.register",
	"POST /projects/:p/components/:c/endpoints": "service.register",
	"POST /services/:id":                        "service.update", "PATCH /api/v1/services/:id": "service.update",
	"POST /services/:id/listing": "service.unlist", "POST /services/:id/delete": "service.delete", "DELETE /api/v1/services/:id": "service.delete",
	"POST /environments": "environment.create", "POST /api/v1/environments": "environment.create",
	"POST /users": "user.create",
	"GET /audit":  "audit.read", "GET /api/v1/audit": "audit.read",
}

func deniedAction(c echo.Context) string {
	if a, ok := deniedActions[c.Request().Method+" "+c.Path()]; ok {
		return a
	}
	return "access"
}
