package handlers

import (
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/junction-dev/junction"
	"github.com/junction-dev/junction/views"
)

// catalogFilter reads the catalog's query parameters. Unknown kinds, visibilities or sorts
// are EINVALID so that the API can say which parameter was wrong.
func catalogFilter(c echo.Context, defaultPerPage int) (junction.ServiceFilter, error) {
	page, err := pageParam(c)
	if err != nil {
		return junction.ServiceFilter{}, err
	}
	if c.QueryParam("per_page") == "" {
		page.PerPage = defaultPerPage
	}
	f := junction.ServiceFilter{
		Query:      c.QueryParam("q"),
		Kind:       junction.ServiceKind(c.QueryParam("kind")),
		Visibility: junction.Visibility(c.QueryParam("visibility")),
		Project:    c.QueryParam("project"),
		Sort:       c.QueryParam("sort"),
		Page:       page,
	}
	if unlisted := c.QueryParam("unlisted"); unlisted != "" {
		f.Unlisted, err = strconv.ParseBool(unlisted)
		if err != nil {
			return f, &junction.Error{Code: junction.EINVALID, Message: "unlisted must be true or false.",
				Fields: map[string]string{"unlisted": "Use true or false."}}
		}
	}
	// Invalid filters are reported and dropped, so a page can still show the catalog.
	fields := junction.FieldErrors{}
	if f.Kind != "" && !f.Kind.Valid() {
		fields.Add("kind", "Use internal, third-party or database.")
		f.Kind = ""
	}
	if f.Visibility != "" && !f.Visibility.Valid() {
		fields.Add("visibility", "Use project, organization or public.")
		f.Visibility = ""
	}
	switch f.Sort {
	case "", junction.SortRelevance, junction.SortName, junction.SortNewest:
	default:
		fields.Add("sort", "Use relevance, name or newest.")
		f.Sort = ""
	}
	return f, fields.Err()
}

// ServicesPage is the catalog: GET /services. A search from the page's own search box (htmx)
// gets only the part of the page that changes.
func (h *Handler) ServicesPage(c echo.Context) error {
	ctx := c.Request().Context()
	// The address keeps only the parameters that say something: a form submitted with empty
	// fields (?q=twil&kind=&sort=) is redirected to its canonical URL, or for htmx pushed as it.
	if canonical, ok := withoutEmptyParams(c.Request().URL); !ok {
		if c.Request().Header.Get("HX-Request") != "true" {
			return c.Redirect(http.StatusSeeOther, canonical)
		}
		c.Response().Header().Set("HX-Push-Url", canonical)
	}
	// A hand-edited URL with a bad filter shows the catalog without that filter.
	f, err := catalogFilter(c, junction.DefaultCatalogPerPage)
	if err != nil && junction.ErrorCode(err) != junction.EINVALID {
		return err
	}
	services, total, facets, err := h.Services.FindServices(ctx, f)
	if err != nil {
		return err
	}
	canRegister, err := h.Services.CanRegisterServices(ctx)
	if err != nil {
		return err
	}
	v := views.CatalogView{Filter: f, Services: services, Total: total, Facets: facets, CanRegister: canRegister}
	if c.Request().Header.Get("HX-Request") == "true" && c.Request().Header.Get("HX-Target") == "catalog" &&
		c.Request().Header.Get("HX-History-Restore-Request") != "true" {
		return render(c, http.StatusOK, views.Catalog(v))
	}
	return render(c, http.StatusOK, views.ServicesPage(h.page(c, "Services", "services"), v))
}

// withoutEmptyParams returns the request's path and query without empty parameters, and
// whether there were none to drop.
func withoutEmptyParams(u *url.URL) (string, bool) {
	if u.RawQuery == "" {
		return u.Path, true
	}
	q := u.Query()
	clean := true
	for name, values := range q {
		kept := slices.DeleteFunc(slices.Clone(values), func(v string) bool { return strings.TrimSpace(v) == "" })
		if len(kept) != len(values) {
			clean = false
		}
		if len(kept) == 0 {
			delete(q, name)
		} else {
			q[name] = kept
		}
	}
	if clean {
		return u.RequestURI(), true
	}
	if len(q) == 0 {
		return u.Path, false
	}
	return u.Path + "?" + q.Encode(), false
}

func (h *Handler) environmentNames(c echo.Context) ([]string, error) {
	envs, err := h.Environments.FindEnvironments(c.Request().Context())
	if err != nil {
		return nil, err
	}
	names := make([]string, len(envs))
	for i, e := range envs {
		names[i] = e.Name
	}
	return names, nil
}

// ServicePage shows a service: GET /services/:id.
func (h *Handler) ServicePage(c echo.Context) error {
	ctx := c.Request().Context()
	svc, err := h.Services.FindService(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	envs, err := h.environmentNames(c)
	if err != nil {
		return err
	}
	projects, _, err := h.Projects.FindProjects(ctx, junction.ProjectFilter{Page: junction.NewPage(1, junction.MaxPerPage)})
	if err != nil {
		return err
	}
	// The Connect entry point offers the projects that may connect to this service.
	writable := slices.DeleteFunc(projects, func(p *junction.Project) bool {
		return !p.Can.Write || svc.ConnectableFrom(p.Handle) != nil
	})
	components := map[string][]*junction.Component{}
	for _, p := range writable {
		list, _, err := h.Components.FindComponents(ctx, p.Handle, junction.NewPage(1, junction.MaxPerPage))
		if err != nil {
			return err
		}
		components[p.Handle] = list
	}
	consumers, err := h.Connections.FindConsumers(ctx, svc.ID)
	if err != nil {
		return err
	}
	v := views.ServiceView{Service: svc, Environments: envs, Projects: writable, Components: components, Consumers: consumers}
	return render(c, http.StatusOK, views.ServicePage(h.page(c, svc.DisplayName(), "services"), v))
}

// ConnectService is the Connect entry point of a service page: GET /services/:id/connect
// sends the user to the new connection form of the chosen project (?project=P), or of one
// of its components (?project=P&component=C, or the form's ?target=P/C).
func (h *Handler) ConnectService(c echo.Context) error {
	ctx := c.Request().Context()
	svc, err := h.Services.FindService(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	project, component := c.QueryParam("project"), c.QueryParam("component")
	if target := c.QueryParam("target"); target != "" {
		project, component, _ = strings.Cut(target, "/")
	}
	p, err := h.Projects.FindProject(ctx, project)
	if err != nil {
		return err
	}
	if !p.Can.Write {
		return junction.Errorf(junction.EFORBIDDEN, "Viewers cannot create connections in project %q.", p.Handle)
	}
	if err := svc.ConnectableFrom(p.Handle); err != nil {
		return err
	}
	if component != "" {
		comp, err := h.Components.FindComponent(ctx, p.Handle, component)
		if err != nil {
			return err
		}
		return c.Redirect(http.StatusSeeOther, componentPath(p.Handle, comp.Handle)+"/connections/new?service="+url.QueryEscape(svc.ID))
	}
	return c.Redirect(http.StatusSeeOther, "/projects/"+url.PathEscape(p.Handle)+"/connections/new?service="+url.QueryEscape(svc.ID))
}

// SetServiceListing removes a service from the catalog or returns it: POST /services/:id/listing.
func (h *Handler) SetServiceListing(c echo.Context) error {
	listed := c.FormValue("listed") == "true"
	if err := h.Services.SetServiceListed(c.Request().Context(), c.Param("id"), listed); err != nil {
		return err
	}
	msg := "Removed from the catalog. Existing connections keep working."
	if listed {
		msg = "Back in the catalog."
	}
	return h.redirect(c, "/services/"+c.Param("id"), msg)
}

// DeleteService unpublishes an internal service after confirmation: POST /services/:id/delete.
func (h *Handler) DeleteService(c echo.Context) error {
	ctx := c.Request().Context()
	svc, err := h.Services.FindService(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	if c.FormValue("confirm") != "yes" {
		if !svc.CanEdit {
			return junction.Errorf(junction.EFORBIDDEN, "You cannot change this service.")
		}
		return render(c, http.StatusOK, views.ServiceDeletePage(h.page(c, "Unpublish "+svc.DisplayName(), "services"), svc))
	}
	if err := h.Services.DeleteService(ctx, svc.ID); err != nil {
		return err
	}
	return h.redirect(c, "/projects/"+svc.Project+"/components/"+svc.Component, "Endpoint "+svc.Name+" unpublished.")
}

// NewServicePage lets the user choose what to register: GET /services/new.
func (h *Handler) NewServicePage(c echo.Context) error {
	if err := h.requireRegister(c); err != nil {
		return err
	}
	return render(c, http.StatusOK, views.ServiceNewPage(h.page(c, "Register a service", "services")))
}

// requireRegister stops users who may not register services before they fill in a form.
func (h *Handler) requireRegister(c echo.Context) error {
	ok, err := h.Services.CanRegisterServices(c.Request().Context())
	if err != nil {
		return err
	} else if !ok {
		return junction.Errorf(junction.EFORBIDDEN, "Only admins and project developers can register services.")
	}
	return nil
}

// splitTags reads a comma- or space-separated tag list.
func splitTags(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' })
}

// NewThirdPartyPage shows the register third-party form: GET /services/new/third-party.
func (h *Handler) NewThirdPartyPage(c echo.Context) error {
	if err := h.requireRegister(c); err != nil {
		return err
	}
	envs, err := h.environmentNames(c)
	if err != nil {
		return err
	}
	form := views.ThirdPartyForm{
		Parameters: []views.ParameterRow{{}},
		Endpoints:  []views.EndpointRow{{Environments: map[string]bool{envs[0]: true}, Values: []string{""}}},
	}
	return render(c, http.StatusOK, views.ThirdPartyNewPage(h.page(c, "Register a third-party API", "services"), form, envs))
}

var rowField = regexp.MustCompile(`^(parameters|endpoints)\[(\d{1,2})\]\.`)

// parseThirdPartyForm reads the rows of the third-party form. Row fields are named like
// parameters[0].name and endpoints[1].values[0] (the value of parameter 0).
func parseThirdPartyForm(values url.Values) views.ThirdPartyForm {
	f := views.ThirdPartyForm{
		Name: values.Get("name"), Version: values.Get("version"),
		Description: values.Get("description"), Tags: values.Get("tags"),
	}
	rows := map[string]int{}
	for key := range values {
		if m := rowField.FindStringSubmatch(key); m != nil {
			n, _ := strconv.Atoi(m[2])
			rows[m[1]] = max(rows[m[1]], n+1)
		}
	}
	for i := range min(rows["parameters"], junction.MaxParameters+1) {
		f.Parameters = append(f.Parameters, views.ParameterRow{
			Name:   values.Get(rowKey("parameters", i, "name")),
			Secret: values.Get(rowKey("parameters", i, "secret")) == "true",
		})
	}
	for j := range min(rows["endpoints"], junction.MaxEndpoints+1) {
		e := views.EndpointRow{
			Name:         values.Get(rowKey("endpoints", j, "name")),
			URL:          values.Get(rowKey("endpoints", j, "url")),
			Environments: map[string]bool{},
		}
		for _, env := range values[rowKey("endpoints", j, "environments")] {
			e.Environments[env] = true
		}
		for i := range f.Parameters {
			e.Values = append(e.Values, values.Get(rowKey("endpoints", j, "values["+strconv.Itoa(i)+"]")))
		}
		f.Endpoints = append(f.Endpoints, e)
	}
	return f
}

func rowKey(list string, i int, field string) string {
	return list + "[" + strconv.Itoa(i) + "]." + field
}

// applyRowOp adds or removes a row as the button pressed asks; it reports false for "save".
func applyRowOp(f *views.ThirdPartyForm, op string) bool {
	name, arg, _ := strings.Cut(op, ":")
	i, _ := strconv.Atoi(arg)
	switch name {
	case "add-parameter":
		f.Parameters = append(f.Parameters, views.ParameterRow{})
		for j := range f.Endpoints {
			f.Endpoints[j].Values = append(f.Endpoints[j].Values, "")
		}
	case "remove-parameter":
		if i >= 0 && i < len(f.Parameters) {
			f.Parameters = slices.Delete(f.Parameters, i, i+1)
			for j := range f.Endpoints {
				if i < len(f.Endpoints[j].Values) {
					f.Endpoints[j].Values = slices.Delete(f.Endpoints[j].Values, i, i+1)
				}
			}
		}
	case "add-endpoint":
		f.Endpoints = append(f.Endpoints, views.EndpointRow{Environments: map[string]bool{}, Values: make([]string, len(f.Parameters))})
	case "remove-endpoint":
		if i >= 0 && i < len(f.Endpoints) {
			f.Endpoints = slices.Delete(f.Endpoints, i, i+1)
		}
	default:
		return false
	}
	return true
}

// thirdPartyService turns the form into the service it describes.
func thirdPartyService(f views.ThirdPartyForm) *junction.Service {
	svc := &junction.Service{Kind: junction.KindThirdParty, Name: f.Name, Version: f.Version,
		Description: f.Description, Tags: splitTags(f.Tags)}
	for _, p := range f.Parameters {
		svc.Parameters = append(svc.Parameters, junction.ServiceParameter{Name: strings.TrimSpace(p.Name), Secret: p.Secret})
	}
	for _, e := range f.Endpoints {
		endpoint := junction.Endpoint{Name: e.Name, URL: e.URL, Values: map[string]string{}}
		endpoint.Environments = slices.Sorted(maps.Keys(e.Environments))
		for i, p := range svc.Parameters {
			if i < len(e.Values) {
				endpoint.Values[p.Name] = e.Values[i]
			}
		}
		svc.Endpoints = append(svc.Endpoints, endpoint)
	}
	return svc
}

// CreateThirdParty handles the third-party form: POST /services/third-party. Its add and
// remove buttons submit the form too and get it back with the row added or removed.
func (h *Handler) CreateThirdParty(c echo.Context) error {
	values, err := c.FormParams()
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "The form could not be read.")
	}
	envs, err := h.environmentNames(c)
	if err != nil {
		return err
	}
	form := parseThirdPartyForm(values)
	page := h.page(c, "Register a third-party API", "services")
	if applyRowOp(&form, values.Get("op")) {
		return render(c, http.StatusOK, views.ThirdPartyNewPage(page, form, envs))
	}
	svc := thirdPartyService(form)
	if err := h.Services.CreateService(c.Request().Context(), svc); isFormError(err) {
		formFailed(err, &form.Errors, &form.Message)
		return render(c, formStatus(err), views.ThirdPartyNewPage(page, form, envs))
	} else if err != nil {
		return err
	}
	return h.redirect(c, "/services/"+svc.ID, svc.Name+" "+svc.Version+" is in the catalog.")
}

// NewDatabasePage shows the register database form: GET /services/new/database.
func (h *Handler) NewDatabasePage(c echo.Context) error {
	if err := h.requireRegister(c); err != nil {
		return err
	}
	envs, err := h.environmentNames(c)
	if err != nil {
		return err
	}
	form := views.DatabaseForm{Engine: "postgres", Values: map[string]map[string]string{}}
	return render(c, http.StatusOK, views.DatabaseNewPage(h.page(c, "Register a database", "services"), form, envs))
}

var credentialRowField = regexp.MustCompile(`^credentials\.([^\[\]]+)\[(\d{1,2})\]\.`)

// databaseFormValues reads the database form and the service it describes. The default
// credential's fields are values.<env>.Username and .Password; the other credentials are rows
// named like credentials.<env>[1].name. Rows left entirely empty are no credential.
func databaseFormValues(values url.Values, envs []string) (views.DatabaseForm, *junction.Service) {
	form := views.DatabaseForm{Name: values.Get("name"), Description: values.Get("description"),
		Tags: values.Get("tags"), Engine: values.Get("engine"), Values: map[string]map[string]string{},
		Credentials: map[string][]views.CredentialRow{}}
	rows := map[string]int{}
	for key := range values {
		if m := credentialRowField.FindStringSubmatch(key); m != nil && slices.Contains(envs, m[1]) {
			n, _ := strconv.Atoi(m[2])
			rows[m[1]] = max(rows[m[1]], n+1)
		}
	}
	svc := &junction.Service{Kind: junction.KindDatabase, Name: form.Name, Description: form.Description,
		Tags: splitTags(form.Tags), Engine: form.Engine, Values: map[string]map[string]string{},
		Credentials: map[string][]junction.DatabaseCredential{}}
	for _, env := range envs {
		form.Values[env] = map[string]string{}
		for _, p := range junction.DatabaseParameters {
			form.Values[env][p.Name] = values.Get("values." + env + "." + p.Name)
		}
		svc.Values[env] = maps.Clone(form.Values[env])
		for i := range min(rows[env], junction.MaxCredentials) {
			field := func(name string) string { return values.Get(rowKey("credentials."+env, i, name)) }
			row := views.CredentialRow{Name: strings.TrimSpace(field("name")), Username: field(junction.ParamUsername), Password: field(junction.ParamPassword)}
			form.Credentials[env] = append(form.Credentials[env], row)
			if row.Name != "" || strings.TrimSpace(row.Username) != "" || row.Password != "" {
				svc.Credentials[env] = append(svc.Credentials[env], junction.DatabaseCredential{Name: row.Name, Username: row.Username, Password: row.Password})
			}
		}
	}
	return form, svc
}

// applyCredentialOp adds or removes a credential row as the button pressed asks
// (add-credential:<env>, remove-credential:<env>:<row>); it reports false for "save".
func applyCredentialOp(f *views.DatabaseForm, op string, envs []string) bool {
	name, arg, _ := strings.Cut(op, ":")
	env, row, _ := strings.Cut(arg, ":")
	if !slices.Contains(envs, env) {
		return name == "add-credential" || name == "remove-credential"
	}
	switch name {
	case "add-credential":
		if len(f.Credentials[env])+1 < junction.MaxCredentials {
			f.Credentials[env] = append(f.Credentials[env], views.CredentialRow{})
		}
	case "remove-credential":
		if i, err := strconv.Atoi(row); err == nil && i >= 0 && i < len(f.Credentials[env]) {
			f.Credentials[env] = slices.Delete(f.Credentials[env], i, i+1)
		}
	default:
		return false
	}
	return true
}

// databaseFormFailed fills the form's errors; a conflict (a credential that connections
// still use) also says why above the form, since its row may be gone from the form.
func databaseFormFailed(err error, form *views.DatabaseForm) {
	formFailed(err, &form.Errors, &form.Message)
	if junction.ErrorCode(err) == junction.ECONFLICT {
		form.Message = junction.ErrorMessage(err)
	}
}

// formFailed fills a form's field errors, or its message when the error names no field.
func formFailed(err error, fields *views.Errors, message *string) {
	*fields, *message = junction.ErrorFields(err), ""
	if len(*fields) == 0 {
		*message = junction.ErrorMessage(err)
	}
}

// CreateDatabase handles the database form: POST /services/database. Its add and remove
// credential buttons submit the form too and get it back with the row added or removed.
func (h *Handler) CreateDatabase(c echo.Context) error {
	values, err := c.FormParams()
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "The form could not be read.")
	}
	envs, err := h.environmentNames(c)
	if err != nil {
		return err
	}
	form, svc := databaseFormValues(values, envs)
	page := h.page(c, "Register a database", "services")
	if applyCredentialOp(&form, values.Get("op"), envs) {
		return render(c, http.StatusOK, views.DatabaseNewPage(page, form, envs))
	}
	if err := h.Services.CreateService(c.Request().Context(), svc); isFormError(err) {
		databaseFormFailed(err, &form)
		return render(c, formStatus(err), views.DatabaseNewPage(page, form, envs))
	} else if err != nil {
		return err
	}
	return h.redirect(c, "/services/"+svc.ID, svc.Name+" is in the catalog.")
}

// databaseEditForm is the edit form of a database service: a stored password is left
// empty, with the environment (or the credential) marked as having one.
func databaseEditForm(svc *junction.Service) views.DatabaseForm {
	f := views.DatabaseForm{ID: svc.ID, Name: svc.Name, Description: svc.Description, Tags: strings.Join(svc.Tags, ", "),
		Engine: svc.Engine, Values: map[string]map[string]string{}, HasPassword: map[string]bool{},
		Credentials: map[string][]views.CredentialRow{}, CredentialPasswords: map[string]bool{}}
	for env, vals := range svc.Values {
		f.Values[env] = maps.Clone(vals)
		if vals[junction.ParamPassword] == junction.Masked {
			f.HasPassword[env] = true
			f.Values[env][junction.ParamPassword] = ""
		}
	}
	for env, creds := range svc.Credentials {
		for _, cred := range creds {
			row := views.CredentialRow{Name: cred.Name, Username: cred.Username, Password: cred.Password}
			if cred.Password == junction.Masked {
				f.CredentialPasswords[env+"/"+cred.Name] = true
				row.Password = ""
			}
			f.Credentials[env] = append(f.Credentials[env], row)
		}
	}
	return f
}

// updateDatabase handles the edit form of a database service, and its add and remove
// credential buttons.
func (h *Handler) updateDatabase(c echo.Context, current *junction.Service) error {
	values, err := c.FormParams()
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "The form could not be read.")
	}
	envs, err := h.environmentNames(c)
	if err != nil {
		return err
	}
	form, upd := databaseFormValues(values, envs)
	stored := databaseEditForm(current)
	form.ID, form.HasPassword, form.CredentialPasswords = current.ID, stored.HasPassword, stored.CredentialPasswords
	page := h.page(c, "Edit "+current.Name, "services")
	if applyCredentialOp(&form, values.Get("op"), envs) {
		return render(c, http.StatusOK, views.DatabaseEditPage(page, form, envs))
	}
	if _, err := h.Services.UpdateService(c.Request().Context(), current.ID, upd); isFormError(err) {
		databaseFormFailed(err, &form)
		return render(c, formStatus(err), views.DatabaseEditPage(page, form, envs))
	} else if err != nil {
		return err
	}
	return h.redirect(c, "/services/"+current.ID, "Database saved.")
}

// endpointFormValues reads the publish/edit endpoint form.
func endpointFormValues(c echo.Context, envs []string) views.EndpointForm {
	f := views.EndpointForm{Name: c.FormValue("name"), Version: c.FormValue("version"), Description: c.FormValue("description"),
		Tags: c.FormValue("tags"), Visibility: junction.Visibility(c.FormValue("visibility")),
		Security: junction.Security(c.FormValue("security")), URLs: map[string]string{}}
	for _, env := range envs {
		f.URLs[env] = c.FormValue("urls." + env)
	}
	return f
}

func endpointService(f views.EndpointForm, project, component string) *junction.Service {
	return &junction.Service{Kind: junction.KindInternal, Project: project, Component: component,
		Name: f.Name, Version: f.Version, Description: f.Description, Tags: splitTags(f.Tags),
		Visibility: f.Visibility, Security: f.Security, URLs: maps.Clone(f.URLs)}
}

// NewEndpointPage shows the publish endpoint form: GET /projects/:p/components/:c/endpoints/new.
func (h *Handler) NewEndpointPage(c echo.Context) error {
	p, comp, envs, err := h.writableComponent(c)
	if err != nil {
		return err
	}
	f := views.EndpointForm{Version: "v1", Visibility: junction.VisibilityOrganization, Security: junction.SecurityOAuth, URLs: map[string]string{}}
	return render(c, http.StatusOK, views.EndpointFormPage(h.page(c, "Publish an endpoint", "projects"), p, comp, f, envs,
		"/projects/"+p.Handle+"/components/"+comp.Handle+"/endpoints", "Publish an endpoint"))
}

func (h *Handler) writableComponent(c echo.Context) (*junction.Project, *junction.Component, []string, error) {
	ctx := c.Request().Context()
	p, err := h.Projects.FindProject(ctx, c.Param("p"))
	if err != nil {
		return nil, nil, nil, err
	}
	comp, err := h.Components.FindComponent(ctx, p.Handle, c.Param("c"))
	if err != nil {
		return nil, nil, nil, err
	}
	if !p.Can.Write {
		return nil, nil, nil, junction.Errorf(junction.EFORBIDDEN, "Viewers cannot publish endpoints.")
	}
	envs, err := h.environmentNames(c)
	return p, comp, envs, err
}

// PublishEndpoint handles the publish form: POST /projects/:p/components/:c/endpoints.
func (h *Handler) PublishEndpoint(c echo.Context) error {
	p, comp, envs, err := h.writableComponent(c)
	if err != nil {
		return err
	}
	f := endpointFormValues(c, envs)
	svc := endpointService(f, p.Handle, comp.Handle)
	if err := h.Services.CreateService(c.Request().Context(), svc); isFormError(err) {
		f.Errors = junction.ErrorFields(err)
		return render(c, formStatus(err), views.EndpointFormPage(h.page(c, "Publish an endpoint", "projects"), p, comp, f, envs,
			"/projects/"+p.Handle+"/components/"+comp.Handle+"/endpoints", "Publish an endpoint"))
	} else if err != nil {
		return err
	}
	return h.redirect(c, "/services/"+svc.ID, svc.DisplayName()+" is published.")
}

// editableService loads the service of the request when the user may change it.
func (h *Handler) editableService(c echo.Context) (*junction.Service, error) {
	svc, err := h.Services.FindService(c.Request().Context(), c.Param("id"))
	if err != nil {
		return nil, err
	}
	if svc.Kind == junction.KindThirdParty {
		return nil, junction.Errorf(junction.ENOTFOUND, "A third-party API cannot be edited; register a new version instead.")
	}
	if !svc.CanEdit {
		return nil, junction.Errorf(junction.EFORBIDDEN, "You cannot change this service.")
	}
	return svc, nil
}

// EditServicePage shows the edit form of an internal or database service: GET /services/:id/edit.
func (h *Handler) EditServicePage(c echo.Context) error {
	svc, err := h.editableService(c)
	if err != nil {
		return err
	}
	if svc.Kind == junction.KindDatabase {
		envs, err := h.environmentNames(c)
		if err != nil {
			return err
		}
		return render(c, http.StatusOK, views.DatabaseEditPage(h.page(c, "Edit "+svc.Name, "services"), databaseEditForm(svc), envs))
	}
	p, comp, envs, err := h.endpointContext(c, svc)
	if err != nil {
		return err
	}
	f := views.EndpointForm{Name: svc.Name, Version: svc.Version, Description: svc.Description, Tags: strings.Join(svc.Tags, ", "),
		Visibility: svc.Visibility, Security: svc.Security, URLs: svc.URLs}
	return render(c, http.StatusOK, views.EndpointFormPage(h.page(c, "Edit "+svc.DisplayName(), "services"), p, comp, f, envs, "/services/"+svc.ID, "Edit endpoint"))
}

// endpointContext loads the project and component that publish an internal service.
func (h *Handler) endpointContext(c echo.Context, svc *junction.Service) (*junction.Project, *junction.Component, []string, error) {
	ctx := c.Request().Context()
	p, err := h.Projects.FindProject(ctx, svc.Project)
	if err != nil {
		return nil, nil, nil, err
	}
	comp, err := h.Components.FindComponent(ctx, svc.Project, svc.Component)
	if err != nil {
		return nil, nil, nil, err
	}
	envs, err := h.environmentNames(c)
	return p, comp, envs, err
}

// SaveService handles the edit form of an internal or database service: POST /services/:id.
func (h *Handler) SaveService(c echo.Context) error {
	svc, err := h.editableService(c)
	if err != nil {
		return err
	}
	if svc.Kind == junction.KindDatabase {
		return h.updateDatabase(c, svc)
	}
	p, comp, envs, err := h.endpointContext(c, svc)
	if err != nil {
		return err
	}
	f := endpointFormValues(c, envs)
	if _, err := h.Services.UpdateService(c.Request().Context(), svc.ID, endpointService(f, p.Handle, comp.Handle)); isFormError(err) {
		f.Errors = junction.ErrorFields(err)
		return render(c, formStatus(err), views.EndpointFormPage(h.page(c, "Edit "+svc.DisplayName(), "services"), p, comp, f, envs, "/services/"+svc.ID, "Edit endpoint"))
	} else if err != nil {
		return err
	}
	return h.redirect(c, "/services/"+svc.ID, "Endpoint saved.")
}

// serviceList is the JSON list answer of the catalog, with the facet counts added.
type serviceList struct {
	listBody[*junction.Service]
	Facets struct {
		Kind       map[junction.ServiceKind]int `json:"kind"`
		Visibility map[junction.Visibility]int  `json:"visibility"`
	} `json:"facets"`
}

// APIServices searches the catalog: GET /api/v1/services.
func (h *Handler) APIServices(c echo.Context) error {
	f, err := catalogFilter(c, junction.DefaultPerPage)
	if err != nil {
		return err
	}
	services, total, facets, err := h.Services.FindServices(c.Request().Context(), f)
	if err != nil {
		return err
	}
	if services == nil {
		services = []*junction.Service{}
	}
	var body serviceList
	body.Items, body.Total, body.Page, body.PerPage = services, total, f.Page.Page, f.Page.PerPage
	body.Facets.Kind, body.Facets.Visibility = facets.Kinds, facets.Visibilities
	return c.JSON(http.StatusOK, body)
}

// APICreateService registers a service: POST /api/v1/services.
func (h *Handler) APICreateService(c echo.Context) error {
	var svc junction.Service
	if err := decodeJSON(c, &svc); err != nil {
		return err
	}
	if err := h.Services.CreateService(c.Request().Context(), &svc); err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, &svc)
}

// APIService answers one service with secrets masked: GET /api/v1/services/:id.
func (h *Handler) APIService(c echo.Context) error {
	svc, err := h.Services.FindService(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, svc)
}

// APIUpdateService changes a service: PATCH /api/v1/services/:id. {"unlisted": true|false}
// removes it from or returns it to the catalog; the fields of an internal service (name,
// version, description, tags, visibility, security, urls) or of a database (name,
// description, tags, engine, values) replace the ones given, in one validated change. A
// database password that is empty or masked keeps the stored one. Within an environment
// given, values.{env}.credentials changes the credentials it names (null removes one, 409
// while connections use it) and keeps the others.
func (h *Handler) APIUpdateService(c echo.Context) error {
	var body struct {
		Unlisted    *bool                              `json:"unlisted"`
		Name        *string                            `json:"name"`
		Version     *string                            `json:"version"`
		Description *string                            `json:"description"`
		Tags        *[]string                          `json:"tags"`
		Visibility  *junction.Visibility               `json:"visibility"`
		Security    *junction.Security                 `json:"security"`
		URLs        map[string]string                  `json:"urls"`
		Engine      *string                            `json:"engine"`
		Values      map[string]junction.DatabaseValues `json:"values"`
	}
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	details := body.Name != nil || body.Version != nil || body.Description != nil || body.Tags != nil ||
		body.Visibility != nil || body.Security != nil || body.URLs != nil || body.Engine != nil || body.Values != nil
	if body.Unlisted == nil && !details {
		return &junction.Error{Code: junction.EINVALID, Message: "Send {\"unlisted\": true} or false, or the fields to change.",
			Fields: map[string]string{"unlisted": "Required when no other field is sent."}}
	}
	ctx := c.Request().Context()
	if details {
		upd, err := h.Services.FindService(ctx, c.Param("id"))
		if err != nil {
			return err
		}
		set := func(dst *string, v *string) {
			if v != nil {
				*dst = *v
			}
		}
		set(&upd.Name, body.Name)
		set(&upd.Version, body.Version)
		set(&upd.Description, body.Description)
		set(&upd.Engine, body.Engine)
		if body.Tags != nil {
			upd.Tags = *body.Tags
		}
		if body.Visibility != nil {
			upd.Visibility = *body.Visibility
		}
		if body.Security != nil {
			upd.Security = *body.Security
		}
		if body.URLs != nil {
			upd.URLs = body.URLs
		}
		if body.Values != nil {
			upd.PatchDatabaseValues(body.Values)
		}
		if _, err := h.Services.UpdateService(ctx, upd.ID, upd); err != nil {
			return err
		}
	}
	if body.Unlisted != nil {
		if err := h.Services.SetServiceListed(ctx, c.Param("id"), !*body.Unlisted); err != nil {
			return err
		}
	}
	return h.APIService(c)
}

// APIDeleteService unpublishes an internal service and answers it as it was:
// DELETE /api/v1/services/:id.
func (h *Handler) APIDeleteService(c echo.Context) error {
	ctx := c.Request().Context()
	svc, err := h.Services.FindService(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	if err := h.Services.DeleteService(ctx, svc.ID); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, svc)
}
