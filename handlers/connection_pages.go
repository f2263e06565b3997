package handlers

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/junction-dev/junction"
	"github.com/junction-dev/junction/views"
)

// newConnectionView loads the project, the component (for component routes) and the service
// of the create connection page.
func (h *Handler) newConnectionView(c echo.Context, serviceID string) (views.NewConnectionView, error) {
	ctx := c.Request().Context()
	var v views.NewConnectionView
	p, err := h.Projects.FindProject(ctx, c.Param("p"))
	if err != nil {
		return v, err
	}
	if !p.Can.Write {
		return v, junction.Errorf(junction.EFORBIDDEN, "Viewers cannot create connections.")
	}
	v.Project = p
	if c.Param("c") != "" {
		if v.Component, err = h.Components.FindComponent(ctx, p.Handle, c.Param("c")); err != nil {
			return v, err
		}
	}
	if v.Environments, err = h.environmentNames(c); err != nil {
		return v, err
	}
	if serviceID != "" {
		if v.Service, err = h.Services.FindService(ctx, serviceID); err != nil {
			return v, err
		}
		if err := v.Service.ConnectableFrom(p.Handle); err != nil {
			return v, err
		}
	}
	return v, nil
}

// NewConnectionPage shows the create connection form, or a service picker first:
// GET /projects/:p/connections/new and /projects/:p/components/:c/connections/new.
func (h *Handler) NewConnectionPage(c echo.Context) error {
	v, err := h.newConnectionView(c, c.QueryParam("service"))
	if err != nil {
		return err
	}
	if v.Service == nil {
		v.Query = c.QueryParam("q")
		found, _, _, err := h.Services.FindServices(c.Request().Context(),
			junction.ServiceFilter{Query: v.Query, Page: junction.NewPage(1, 30)})
		if err != nil {
			return err
		}
		for _, s := range found {
			if s.ConnectableFrom(v.Project.Handle) == nil {
				v.Picker = append(v.Picker, s)
			}
		}
	} else {
		v.Form = views.ConnectionForm{Name: junction.SuggestConnectionName(v.Service.Name), Endpoints: map[string]string{}, Credentials: map[string]string{}}
	}
	return render(c, http.StatusOK, views.NewConnectionPage(h.page(c, "New connection", "projects"), v))
}

// CreateConnectionForm handles the create connection form: POST /projects/:p/connections and
// /projects/:p/components/:c/connections.
func (h *Handler) CreateConnectionForm(c echo.Context) error {
	v, err := h.newConnectionView(c, c.FormValue("service_id"))
	if err != nil {
		return err
	}
	if v.Service == nil {
		return junction.Errorf(junction.EINVALID, "Pick a service to connect to.")
	}
	v.Form = views.ConnectionForm{Name: c.FormValue("name"), Description: c.FormValue("description"), Endpoints: map[string]string{},
		Credentials: credentialChoices(c, v.Environments)}
	for _, env := range v.Environments {
		if e := c.FormValue("endpoints." + env); e != "" {
			v.Form.Endpoints[env] = e
		}
	}
	conn := &junction.Connection{Name: v.Form.Name, Description: v.Form.Description, Project: v.Project.Handle,
		Service: junction.ServiceRef{ID: v.Service.ID}, Endpoints: v.Form.Endpoints, Credentials: v.Form.Credentials}
	if v.Component != nil {
		conn.Component = v.Component.Handle
	}
	if err := h.Connections.CreateConnection(c.Request().Context(), conn); isFormError(err) {
		v.Form.Errors, v.Form.Message = junction.ErrorFields(err), ""
		if len(v.Form.Errors) == 0 {
			v.Form.Message = junction.ErrorMessage(err)
		}
		return render(c, formStatus(err), views.NewConnectionPage(h.page(c, "New connection", "projects"), v))
	} else if err != nil {
		return err
	}
	return h.redirect(c, "/connections/"+conn.ID, "Connection "+conn.Name+" created.")
}

// credentialChoices reads the credential selects of a connection form (credentials.<env>);
// nil when the form has none.
func credentialChoices(c echo.Context, envs []string) map[string]string {
	var chosen map[string]string
	for _, env := range envs {
		if name := c.FormValue("credentials." + env); name != "" {
			if chosen == nil {
				chosen = map[string]string{}
			}
			chosen[env] = name
		}
	}
	return chosen
}

func (h *Handler) connectionView(c echo.Context, reveal bool) (views.ConnectionView, error) {
	conn, err := h.Connections.FindConnection(c.Request().Context(), c.Param("id"), reveal)
	if err != nil {
		return views.ConnectionView{}, err
	}
	envs, err := h.environmentNames(c)
	if err != nil {
		return views.ConnectionView{}, err
	}
	mappedBy, err := h.Connections.MappedBy(c.Request().Context(), conn.ID)
	if err != nil {
		return views.ConnectionView{}, err
	}
	v := views.ConnectionView{Connection: conn, Environments: envs, MappedBy: mappedBy,
		Edit: views.ConnectionForm{Name: conn.Name, Description: conn.Description, Credentials: conn.Credentials}}
	if conn.Service.Kind == junction.KindDatabase && conn.CanEdit {
		// The settings form offers the database's credentials per environment.
		if v.Service, err = h.Services.FindService(c.Request().Context(), conn.Service.ID); err != nil {
			return views.ConnectionView{}, err
		}
	}
	v.Rotatable = conn.Rotatable
	// The snippets use the names each mapping component gives the parameters.
	for _, pc := range mappedBy {
		project, component, _ := strings.Cut(pc, "/")
		mappings, err := h.Mappings.FindMappings(c.Request().Context(), project, component)
		if err != nil {
			return views.ConnectionView{}, err
		}
		names := map[string]string{}
		for _, m := range mappings {
			if m.ConnectionID == conn.ID {
				names[m.Parameter] = m.Env
			}
		}
		if len(names) == 0 {
			continue
		}
		if pc == c.QueryParam("component") {
			v.UsageIndex = len(v.Usage)
		}
		v.Usage = append(v.Usage, views.UsageNames{Component: pc, Names: names})
	}
	return v, nil
}

// ConnectionPage shows a connection: GET /connections/:id (?reveal=true without JavaScript).
func (h *Handler) ConnectionPage(c echo.Context) error {
	reveal, _ := strconv.ParseBool(c.QueryParam("reveal"))
	v, err := h.connectionView(c, reveal)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.ConnectionPage(h.page(c, v.Connection.Name, "projects"), v))
}

// ConnectionParameters is the parameter table that Reveal swaps in:
// GET /connections/:id/parameters?reveal=true.
func (h *Handler) ConnectionParameters(c echo.Context) error {
	reveal, _ := strconv.ParseBool(c.QueryParam("reveal"))
	v, err := h.connectionView(c, reveal)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.ConnectionParameters(v.Connection, v.Environments))
}

// UpdateConnectionForm handles the connection settings form: POST /connections/:id.
func (h *Handler) UpdateConnectionForm(c echo.Context) error {
	name, description := c.FormValue("name"), c.FormValue("description")
	envs, err := h.environmentNames(c)
	if err != nil {
		return err
	}
	upd := junction.ConnectionUpdate{Name: &name, Description: &description, Credentials: credentialChoices(c, envs)}
	conn, err := h.Connections.UpdateConnection(c.Request().Context(), c.Param("id"), upd)
	if isFormError(err) {
		v, verr := h.connectionView(c, false)
		if verr != nil {
			return verr
		}
		v.Edit = views.ConnectionForm{Name: name, Description: description, Credentials: upd.Credentials, Errors: junction.ErrorFields(err)}
		return render(c, formStatus(err), views.ConnectionPage(h.page(c, v.Connection.Name, "projects"), v))
	} else if err != nil {
		return err
	}
	return h.redirect(c, "/connections/"+conn.ID, "Connection saved.")
}

// DeleteConnectionForm deletes a connection after confirmation: POST /connections/:id/delete.
func (h *Handler) DeleteConnectionForm(c echo.Context) error {
	ctx := c.Request().Context()
	conn, err := h.Connections.FindConnection(ctx, c.Param("id"), false)
	if err != nil {
		return err
	}
	if !conn.CanEdit {
		return junction.Errorf(junction.EFORBIDDEN, "Viewers cannot delete connections.")
	}
	if c.FormValue("confirm") != "yes" {
		mappedBy, err := h.Connections.MappedBy(ctx, conn.ID)
		if err != nil {
			return err
		}
		return render(c, http.StatusOK, views.ConnectionDeletePage(h.page(c, "Delete "+conn.Name, "projects"), conn, mappedBy))
	}
	// The confirmation page listed the components that map it: confirming removes them too.
	if err := h.Connections.DeleteConnection(ctx, conn.ID, true); err != nil {
		return err
	}
	back := "/projects/" + conn.Project
	if conn.Scope == junction.ScopeComponent {
		back += "/components/" + conn.Component
	}
	return h.redirect(c, back, "Connection "+conn.Name+" deleted.")
}

// RotatePage shows who shares the secret before rotating it: GET /connections/:id/rotate.
func (h *Handler) RotatePage(c echo.Context) error {
	ctx := c.Request().Context()
	conn, err := h.Connections.FindConnection(ctx, c.Param("id"), false)
	if err != nil {
		return err
	}
	if !conn.CanEdit {
		return junction.Errorf(junction.EFORBIDDEN, "Viewers cannot rotate secrets.")
	}
	shared, err := h.Connections.SharedWith(ctx, conn.ID)
	if err != nil {
		return err
	}
	env := c.QueryParam("environment")
	var components []string
	for _, s := range shared {
		mapped, err := h.Connections.MappedBy(ctx, s.ID)
		if err != nil {
			return err
		}
		for _, m := range mapped {
			if !slices.Contains(components, m) {
				components = append(components, m)
			}
		}
	}
	return render(c, http.StatusOK, views.RotatePage(h.page(c, "Rotate "+conn.Name, "projects"), conn, env, shared, components))
}

// RotateForm rotates the secret: POST /connections/:id/rotate.
func (h *Handler) RotateForm(c echo.Context) error {
	env := c.FormValue("environment")
	grace, err := junction.ParseGrace(c.FormValue("grace"))
	if err != nil {
		return err
	}
	rot, err := h.Connections.RotateWithGrace(c.Request().Context(), c.Param("id"), env, grace)
	if err != nil {
		return err
	}
	msg := "New secret in " + env + " for " + strconv.Itoa(len(rot.Shared)) + " connection(s)."
	if rot.PreviousValidUntil != nil {
		msg += " The previous one works until " + rot.PreviousValidUntil.UTC().Format("2006-01-02 15:04 UTC") + "."
	}
	return h.redirect(c, "/connections/"+c.Param("id"), msg)
}
