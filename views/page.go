// Package views holds the console's templ components and pages. Views take typed props and
// render them; they run no queries and apply no rules beyond what the props say.
package views

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
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
	// "environments" or "account".
	Section string
}

// Flash is a one-time message shown on the next page.
type Flash struct {
	Kind    string // success, error or info
	Message string
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

func projectURL(handle string) templ.SafeURL {
	return templ.SafeURL("/projects/" + url.PathEscape(handle))
}

func componentURL(project, handle string) templ.SafeURL {
	return templ.SafeURL("/projects/" + url.PathEscape(project) + "/components/" + url.PathEscape(handle))
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

func pageURL(base string, page, perPage int) string {
	return fmt.Sprintf("%s?page=%d&per_page=%d", base, page, perPage)
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
