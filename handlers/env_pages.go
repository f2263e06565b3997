package handlers

import (
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/junction-dev/junction"
	"github.com/junction-dev/junction/views"
)

// envView loads the mapping editor: the connections the component may use, its mappings
// (or the suggested names) and the preview of one environment.
func (h *Handler) envView(c echo.Context, environment string, reveal bool) (views.EnvView, error) {
	ctx := c.Request().Context()
	var v views.EnvView
	p, err := h.Projects.FindProject(ctx, c.Param("p"))
	if err != nil {
		return v, err
	}
	comp, err := h.Components.FindComponent(ctx, p.Handle, c.Param("c"))
	if err != nil {
		return v, err
	}
	v.Project, v.Component = p, comp
	if v.Connections, err = h.Connections.FindConnections(ctx,
		junction.ConnectionFilter{Project: p.Handle, Component: comp.Handle, WithProjectConnections: true}); err != nil {
		return v, err
	}
	if v.Environments, err = h.environmentNames(c); err != nil {
		return v, err
	}
	mappings, err := h.Mappings.FindMappings(ctx, p.Handle, comp.Handle)
	if err != nil {
		return v, err
	}
	v.Mapped, v.Names = map[string]bool{}, map[string]map[string]string{}
	for _, conn := range v.Connections {
		v.Names[conn.ID] = map[string]string{}
		for _, prm := range conn.Parameters {
			v.Names[conn.ID][prm.Name] = junction.SuggestEnvName(conn.Name, prm.Name)
		}
	}
	for _, m := range mappings {
		v.Mapped[m.ConnectionID] = true
		if v.Names[m.ConnectionID] != nil {
			v.Names[m.ConnectionID][m.Parameter] = m.Env
		}
	}
	var choreo []junction.ChoreoConnection
	for _, conn := range v.Connections {
		if v.Mapped[conn.ID] {
			choreo = append(choreo, junction.ChoreoConnection{ID: conn.ID, Name: conn.Name, Env: v.Names[conn.ID]})
		}
	}
	v.ChoreoWarning, v.ChoreoBadNames = junction.ChoreoSchema11Warning(choreo), junction.ChoreoInvalidConnectionNames(choreo)
	v.PreviewEnv = environment
	if !slices.Contains(v.Environments, environment) {
		v.PreviewEnv = v.Environments[0]
	}
	v.Revealed = reveal
	if v.Preview, err = h.Mappings.Env(ctx, p.Handle, comp.Handle, v.PreviewEnv, reveal); err != nil {
		return v, err
	}
	if _, err := junction.FormatJS(v.Preview); err != nil {
		v.ConfigJSRefused = junction.ErrorMessage(err)
	}
	return v, nil
}

// EnvPage is the mapping editor: GET /projects/:p/components/:c/env.
func (h *Handler) EnvPage(c echo.Context) error {
	reveal, _ := strconv.ParseBool(c.QueryParam("reveal"))
	v, err := h.envView(c, c.QueryParam("environment"), reveal)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.EnvPage(h.page(c, "Environment of "+v.Component.Name, "projects"), v))
}

// mappingForm reads the editor: the included connections and their variable names.
func mappingForm(form url.Values, v *views.EnvView) map[string]map[string]string {
	included := map[string]bool{}
	for _, id := range form["connections"] {
		included[id] = true
	}
	names := map[string]map[string]string{}
	v.Mapped = map[string]bool{}
	for _, conn := range v.Connections {
		for _, prm := range conn.Parameters {
			if typed, ok := form[conn.ID+"."+prm.Name]; ok {
				v.Names[conn.ID][prm.Name] = typed[0]
			}
		}
		if included[conn.ID] {
			v.Mapped[conn.ID] = true
			names[conn.ID] = v.Names[conn.ID]
		}
	}
	return names
}

// SaveMappings saves the editor, all or nothing: POST /projects/:p/components/:c/env.
func (h *Handler) SaveMappings(c echo.Context) error {
	v, err := h.envView(c, c.QueryParam("environment"), false)
	if err != nil {
		return err
	}
	form, err := c.FormParams()
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "The form could not be read.")
	}
	names := mappingForm(form, &v)
	if _, err := h.Mappings.ReplaceMappings(c.Request().Context(), v.Project.Handle, v.Component.Handle, names); isFormError(err) {
		v.Errors = junction.ErrorFields(err)
		return render(c, formStatus(err), views.EnvPage(h.page(c, "Environment of "+v.Component.Name, "projects"), v))
	} else if err != nil {
		return err
	}
	return h.redirect(c, "/projects/"+v.Project.Handle+"/components/"+v.Component.Handle+"/env", "Mappings saved.")
}

// ValidateMappings checks the editor as it is typed, without saving, and answers the
// message of every field to swap in place: POST /projects/:p/components/:c/env/validate.
func (h *Handler) ValidateMappings(c echo.Context) error {
	v, err := h.envView(c, "", false)
	if err != nil {
		return err
	}
	form, err := c.FormParams()
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "The form could not be read.")
	}
	names := mappingForm(form, &v)
	conns := map[string]junction.MappedConnection{}
	for _, conn := range v.Connections {
		mc := junction.MappedConnection{Name: conn.Name}
		for _, prm := range conn.Parameters {
			mc.Parameters = append(mc.Parameters, prm.Name)
		}
		conns[conn.ID] = mc
	}
	v.Errors = junction.ErrorFields(junction.ValidateComponentMappings(conns, names))
	return render(c, http.StatusOK, views.MappingErrors(v))
}

// CreateRuntimeTokenForm creates a runtime token: POST /projects/:p/components/:c/runtime-tokens.
// It ends in a 303 to the component page, which shows the token once from a one-time flash.
func (h *Handler) CreateRuntimeTokenForm(c echo.Context) error {
	ctx := c.Request().Context()
	token, secret, err := h.Mappings.IssueRuntimeToken(ctx, c.Param("p"), c.Param("c"),
		junction.RuntimeTokenRequest{Environment: c.FormValue("environment"), Name: c.FormValue("name")})
	page := componentPath(c.Param("p"), c.Param("c"))
	if isFormError(err) {
		h.Sessions.Flash(c, "error", formErrorLine(err))
		return h.redirect(c, page+"#runtime-heading", "")
	} else if err != nil {
		return err
	}
	h.Sessions.FlashToken(c, page, views.NewToken{Name: token.Name, Secret: secret, Environment: token.Environment})
	return h.redirect(c, page+"#runtime-heading", "")
}

// formErrorLine is an error of a small inline form as one line for a flash message.
func formErrorLine(err error) string {
	msg := junction.ErrorMessage(err)
	for _, field := range slices.Sorted(maps.Keys(junction.ErrorFields(err))) {
		msg += " " + junction.ErrorFields(err)[field]
	}
	return msg
}

// componentPath is the page of a component.
func componentPath(project, component string) string {
	return "/projects/" + url.PathEscape(project) + "/components/" + url.PathEscape(component)
}

// RevokeRuntimeTokenForm revokes a runtime token: POST .../runtime-tokens/:id/delete.
func (h *Handler) RevokeRuntimeTokenForm(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return junction.Errorf(junction.ENOTFOUND, "Runtime token not found.")
	}
	if err := h.Mappings.RevokeRuntimeToken(c.Request().Context(), c.Param("p"), c.Param("c"), id); err != nil {
		return err
	}
	return h.redirect(c, "/projects/"+c.Param("p")+"/components/"+c.Param("c"), "Runtime token revoked. It stops working at once.")
}
