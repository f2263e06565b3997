// Package views holds the console's templ components and pages. Views take typed props and
// render them; they run no queries and apply no rules beyond what the props say.
package views

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"

	"github.com/junction-dev/junction"
)

// Page carries what every page's layout needs.
type Page struct {
	Title   string
	User    *junction.User
	CSRF    string
	Flashes []Flash
	// Section is the navigation entry to mark as current: "services", "projects",
	// "environments", "users" or "account".
	Section string
}

// Flash is a one-time message shown on the next page.
type Flash struct {
	Kind    string // success, error or info
	Message string
}

// NewToken is a token just created, carried once from the form's redirect to the page that
// shows it (a one-time flash in the encrypted session cookie), never shown again.
type NewToken struct {
	Name        string `json:"name"`
	Secret      string `json:"secret"`
	Environment string `json:"environment,omitempty"`
}

// CSRFFieldName is the form field that carries the CSRF token.
const CSRFFieldName = "csrf_token"

// CSRFHeaderName is the request header that carries the CSRF token for htmx and fetch.
const CSRFHeaderName = "X-CSRF-Token"

// hxHeaders returns the hx-headers JSON that sends the CSRF token with every htmx request.
func hxHeaders(csrf string) string {
	b, _ := json.Marshal(map[string]string{CSRFHeaderName: csrf})
	return string(b)
}

// Errors maps form field names to messages.
type Errors map[string]string

func fieldID(form, name string) string { return form + "-" + name }

// envBlockInvalid marks a database form's environment block with its own error, else the
// form's "no environment given" error, which concerns every block.
func envBlockInvalid(errs Errors, env string) templ.Attributes {
	if msg := errs["values."+env]; msg != "" {
		return invalidAttrs("db", "values."+env, msg)
	}
	return invalidAttrs("db", "values", errs["values"])
}

// invalidAttrs marks a control (or a group of them) whose field has an error: aria-invalid,
// and aria-describedby pointing to the message fieldMessage renders.
func invalidAttrs(form, name, errMsg string) templ.Attributes {
	if errMsg == "" {
		return templ.Attributes{}
	}
	return templ.Attributes{"aria-invalid": "true", "aria-describedby": fieldID(form, name) + "-error"}
}

func projectURL(handle string) templ.SafeURL {
	return templ.SafeURL("/projects/" + url.PathEscape(handle))
}

func componentURL(project, handle string) templ.SafeURL {
	return templ.SafeURL("/projects/" + url.PathEscape(project) + "/components/" + url.PathEscape(handle))
}

// mappedByURL is the environment editor of a component named "project/component".
func mappedByURL(projectComponent string) templ.SafeURL {
	project, component, _ := strings.Cut(projectComponent, "/")
	return componentURL(project, component) + "/env"
}

func formatDate(t time.Time) string { return t.UTC().Format("2 Jan 2006") }

func formatDateTime(t time.Time) string { return t.UTC().Format("2 Jan 2006 15:04 UTC") }

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

func roleLabel(r junction.Role) string {
	switch r {
	case junction.RoleAdmin:
		return "Admin"
	case junction.RoleDeveloper:
		return "Developer"
	case junction.RoleViewer:
		return "Viewer"
	}
	return string(r)
}

func roleClass(r junction.Role) string { return fmt.Sprintf("badge badge-%s", r) }

func lastPage(total, perPage int) int {
	if total <= 0 {
		return 1
	}
	return (total + perPage - 1) / perPage
}

// listURL is the URL of one page of a list, keeping its non-empty parameters.
func listURL(base string, params url.Values, page, perPage int) string {
	q := url.Values{}
	for k, vs := range params {
		if len(vs) > 0 && vs[0] != "" {
			q.Set(k, vs[0])
		}
	}
	q.Set("page", strconv.Itoa(page))
	if perPage != junction.DefaultPerPage {
		q.Set("per_page", strconv.Itoa(perPage))
	}
	return base + "?" + q.Encode()
}

func componentTypeLabel(t junction.ComponentType) string {
	switch t {
	case junction.ComponentTypeService:
		return "Service"
	case junction.ComponentTypeWebApp:
		return "Web app"
	case junction.ComponentTypeScheduledTask:
		return "Scheduled task"
	case junction.ComponentTypeManualTask:
		return "Manual task"
	case junction.ComponentTypeWebhook:
		return "Webhook"
	case junction.ComponentTypeAPIProxy:
		return "API proxy"
	}
	return string(t)
}

// describedBy is the ID of the message under a field: its error, else its help text.
func describedBy(form, name, errMsg string) string {
	if errMsg != "" {
		return fieldID(form, name) + "-error"
	}
	return fieldID(form, name) + "-help"
}

func tokenDeleteURL(id int64) string {
	return "/account/tokens/" + strconv.FormatInt(id, 10) + "/delete"
}

func serviceURL(id string) templ.SafeURL { return templ.SafeURL("/services/" + url.PathEscape(id)) }

// catalogURL is the catalog URL for filter with one parameter changed; changing a filter
// goes back to the first page.
func catalogURL(f junction.ServiceFilter, key, value string) string {
	q := url.Values{}
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	set("q", f.Query)
	set("kind", string(f.Kind))
	set("visibility", string(f.Visibility))
	set("sort", f.Sort)
	if f.Unlisted {
		set("unlisted", "true")
	}
	if key == "page" {
		set("page", value)
	} else {
		q.Del(key)
		set(key, value)
	}
	if f.Page.PerPage != junction.DefaultCatalogPerPage {
		set("per_page", strconv.Itoa(f.Page.PerPage))
	}
	if len(q) == 0 {
		return "/services"
	}
	return "/services?" + q.Encode()
}

func kindLabel(k junction.ServiceKind) string {
	switch k {
	case junction.KindInternal:
		return "Internal"
	case junction.KindThirdParty:
		return "Third-party"
	case junction.KindDatabase:
		return "Database"
	}
	return string(k)
}

func visibilityLabel(v junction.Visibility) string {
	switch v {
	case junction.VisibilityProject:
		return "Project"
	case junction.VisibilityOrganization:
		return "Organization"
	case junction.VisibilityPublic:
		return "Public"
	}
	return string(v)
}

func visibilityHelp(v junction.Visibility) string {
	switch v {
	case junction.VisibilityProject:
		return "only components of its own project can connect"
	case junction.VisibilityOrganization:
		return "every project of the organization can connect"
	case junction.VisibilityPublic:
		return "every project can connect, and it may be exposed outside the organization"
	}
	return ""
}

func securityLabel(s junction.Security) string {
	switch s {
	case junction.SecurityOAuth:
		return "OAuth 2.0 client credentials"
	case junction.SecurityAPIKey:
		return "API key"
	case junction.SecurityNone:
		return "No authentication"
	}
	return string(s)
}

// rowName is the form field name of a row field, such as parameters[2].name.
func rowName(list string, i int, field string) string {
	return list + "[" + strconv.Itoa(i) + "]." + field
}

func valueAt(values []string, i int) string {
	if i < len(values) {
		return values[i]
	}
	return ""
}

func valueLabel(name string, i int) string {
	if name == "" {
		return "Parameter " + strconv.Itoa(i+1)
	}
	return name
}

// htmxConfig configures htmx: no inline indicator styles (the CSP forbids them, app.css has
// them), no eval, no history cache of pages that may show secrets, and forms re-rendered
// with 422 or 409 are swapped in like any other answer.
const htmxConfig = `{"includeIndicatorStyles":false,"allowEval":false,"allowScriptTags":false,"historyCacheSize":0,` +
	`"responseHandling":[{"code":"204","swap":false},{"code":"[23]..","swap":true},` +
	`{"code":"(422|409)","swap":true,"error":false},{"code":"[45]..","swap":true,"error":true}]}`

// databaseFieldAttrs are the input attributes of a database parameter: secret fields are
// password inputs (a stored password shows as "unchanged"), and the port suggests the
// engine's usual one.
func databaseFieldAttrs(p junction.ServiceParameter, engine string, keepPassword bool) templ.Attributes {
	attrs := secretAttrs(p.Secret)
	if p.Name == junction.ParamPassword && keepPassword {
		attrs["placeholder"] = "unchanged"
	}
	if p.Name == junction.ParamPort {
		attrs["placeholder"] = junction.DefaultPorts[engine]
		attrs["inputmode"] = "numeric"
	}
	return attrs
}

// keptSpacesHelp is the help under a parameter value that is stored as typed.
const keptSpacesHelp = "Spaces at the start or end are kept."

// databaseValueHelp is the help under a database value: whether its spaces are kept.
func databaseValueHelp(name string) string {
	if junction.DatabaseValueTrimmed(name) {
		return ""
	}
	return keptSpacesHelp
}

// secretAttrs are the attributes of a parameter value input: secrets are password inputs
// that password managers are told not to fill or save.
func secretAttrs(secret bool) templ.Attributes {
	if secret {
		return templ.Attributes{"type": "password", "autocomplete": "new-password"}
	}
	return templ.Attributes{"type": "text", "autocomplete": "off"}
}

func byScope(list []*junction.Connection, scope junction.Scope) []*junction.Connection {
	var out []*junction.Connection
	for _, c := range list {
		if c.Scope == scope {
			out = append(out, c)
		}
	}
	return out
}

func int64String(n int64) string { return strconv.FormatInt(n, 10) }
