// Package handlers translates HTTP requests into calls of the domain services and their
// results into HTML pages or JSON. Pages and the JSON API call the same service methods.
package handlers

import (
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/junction-dev/junction"
	"github.com/junction-dev/junction/views"
)

// Sessions is the part of the web session machinery that handlers use.
type Sessions interface {
	// SignIn starts a new session for user, replacing any current one (and its CSRF token).
	SignIn(c echo.Context, user *junction.User) error
	// SignInWithIDToken is SignIn for a sign-in through the identity provider, keeping its
	// ID token with the session for signing out there later.
	SignInWithIDToken(c echo.Context, user *junction.User, idToken string) error
	// IDToken returns the identity provider's ID token of the current session, or "".
	IDToken(c echo.Context) (string, error)
	// SignOut ends the current session.
	SignOut(c echo.Context) error
	// CSRFToken returns the token that forms must send back.
	CSRFToken(c echo.Context) string
	// Flash queues a message for the next page shown.
	Flash(c echo.Context, kind, message string)
	// Flashes returns and clears the queued messages.
	Flashes(c echo.Context) []views.Flash
	// FlashToken keeps a token just created for the next page shown at path, once.
	FlashToken(c echo.Context, path string, token views.NewToken)
	// TakeToken returns and forgets the token kept for path, or nil.
	TakeToken(c echo.Context, path string) *views.NewToken
}

// Handler holds the domain services the handlers call.
type Handler struct {
	Users        junction.UserService
	Projects     junction.ProjectService
	Components   junction.ComponentService
	Environments junction.EnvironmentService
	Services     junction.ServiceService
	Connections  junction.ConnectionService
	Mappings     junction.MappingService
	Audit        junction.AuditLog
	History      junction.HistoryService
	Sessions     Sessions
	Logger       *slog.Logger
	// Provider, when set, offers sign-in with an OpenID Connect provider.
	Provider IdentityProvider
	// PasswordLoginOff turns sign-in with e-mail and password off (JUNCTION_PASSWORD_LOGIN=false).
	PasswordLoginOff bool
	// Draining is closed when the server shuts down: long polls answer at once.
	Draining <-chan struct{}

	runtimeWaits runtimeWaits

	// PublicURL is where services reach the console (JUNCTION_PUBLIC_URL); empty means the
	// scheme and host of each request.
	PublicURL string
}

// serverURL is the console's URL as a component should use it in --server.
func (h *Handler) serverURL(c echo.Context) string {
	if h.PublicURL != "" {
		return h.PublicURL
	}
	scheme := "http"
	if r := c.Request(); r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		scheme = "https"
	}
	return scheme + "://" + c.Request().Host
}

// render writes a templ component as the response with the given status.
func render(c echo.Context, status int, component templ.Component) error {
	buf := templ.GetBuffer()
	defer templ.ReleaseBuffer(buf)
	if err := component.Render(c.Request().Context(), buf); err != nil {
		return err
	}
	return c.HTMLBlob(status, buf.Bytes())
}

// page returns the layout props for a page of the given title and navigation section.
func (h *Handler) page(c echo.Context, title, section string) views.Page {
	return views.Page{
		Title:   title,
		User:    junction.UserFromContext(c.Request().Context()),
		CSRF:    h.Sessions.CSRFToken(c),
		Flashes: h.Sessions.Flashes(c),
		Section: section,
	}
}

// redirect ends a successful write: a 303 to target, or HX-Redirect for htmx requests,
// with an optional flash message for the next page.
func (h *Handler) redirect(c echo.Context, target, flash string) error {
	if flash != "" {
		h.Sessions.Flash(c, "success", flash)
	}
	if c.Request().Header.Get("HX-Request") == "true" {
		c.Response().Header().Set("HX-Redirect", target)
		return c.NoContent(http.StatusOK)
	}
	return c.Redirect(http.StatusSeeOther, target)
}

// ErrCSRF is the answer to a state-changing request without the session's CSRF token: a
// refused form, not an authorization decision, so it is not recorded as a denial.
var ErrCSRF = junction.Errorf(junction.EFORBIDDEN, "The form has expired or did not come from this site. Reload the page and try again.")

// formStatus is the status of a form re-rendered with errors.
func formStatus(err error) int { return statuses[junction.ErrorCode(err)] }

// isFormError reports whether err is a validation or conflict error that the form shows
// inline; any other error goes to the error handler.
func isFormError(err error) bool {
	code := junction.ErrorCode(err)
	return code == junction.EINVALID || code == junction.ECONFLICT
}

// IsAPI reports whether the request is for the JSON API.
func IsAPI(c echo.Context) bool {
	p := c.Request().URL.Path
	return p == "/api" || strings.HasPrefix(p, "/api/")
}

// statuses maps error codes to HTTP statuses: the one place this mapping lives.
var statuses = map[string]int{
	junction.ECONFLICT:     http.StatusConflict,
	junction.EINVALID:      http.StatusUnprocessableEntity,
	junction.ENOTFOUND:     http.StatusNotFound,
	junction.EUNAUTHORIZED: http.StatusUnauthorized,
	junction.EFORBIDDEN:    http.StatusForbidden,
	junction.EINTERNAL:     http.StatusInternalServerError,
	junction.ETOOMANY:      http.StatusTooManyRequests,
	junction.EUNAVAILABLE:  http.StatusServiceUnavailable,
}

// codes maps HTTP statuses raised by Echo itself (unknown route, body too large) to codes.
var codes = map[int]string{
	http.StatusBadRequest:            "bad_request",
	http.StatusUnauthorized:          junction.EUNAUTHORIZED,
	http.StatusForbidden:             junction.EFORBIDDEN,
	http.StatusNotFound:              junction.ENOTFOUND,
	http.StatusMethodNotAllowed:      "method_not_allowed",
	http.StatusRequestEntityTooLarge: "too_large",
	http.StatusUnsupportedMediaType:  "unsupported_media_type",
	http.StatusTooManyRequests:       junction.ETOOMANY,
}

// errorBody is the JSON error shape of the API.
type errorBody struct {
	Error struct {
		Code    string            `json:"code"`
		Message string            `json:"message"`
		Fields  map[string]string `json:"fields"`
	} `json:"error"`
}

// classify returns the status, code, message and field messages for err.
func classify(err error) (status int, code, message string, fields map[string]string) {
	var he *echo.HTTPError
	if errors.As(err, &he) {
		status = he.Code
		code = codes[status]
		if code == "" {
			code = junction.EINTERNAL
		}
		message = http.StatusText(status) + "."
		if msg, ok := he.Message.(string); ok && msg != "" && status < 500 {
			message = msg
		}
		if status == http.StatusNotFound {
			message = "Not found."
		}
		return status, code, message, nil
	}
	code = junction.ErrorCode(err)
	return statuses[code], code, junction.ErrorMessage(err), junction.ErrorFields(err)
}

// HandleError is Echo's HTTPErrorHandler: it logs internal errors with their cause and
// answers with the JSON error shape under /api, an alert fragment for htmx partial requests,
// and a full error page otherwise.
func (h *Handler) HandleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status, code, message, fields := classify(err)
	if code == junction.EFORBIDDEN && !errors.Is(err, ErrCSRF) {
		h.recordForbidden(c, message)
	}
	if status >= 500 {
		h.Logger.Error("request failed", "method", c.Request().Method, "path", c.Request().URL.Path, "err", err)
	}
	if IsAPI(c) {
		var body errorBody
		if fields == nil {
			fields = map[string]string{}
		}
		body.Error.Code, body.Error.Message, body.Error.Fields = code, message, fields
		err = c.JSON(status, body)
	} else if c.Request().Header.Get("HX-Request") == "true" && c.Request().Header.Get("HX-Boosted") != "true" {
		c.Response().Header().Set("HX-Retarget", "#flashes")
		c.Response().Header().Set("HX-Reswap", "innerHTML")
		err = render(c, status, views.ErrorAlert(message))
	} else {
		err = render(c, status, views.ErrorPage(h.page(c, errorTitle(status), ""), status, errorTitle(status), errorText(status, message)))
	}
	if err != nil {
		h.Logger.Error("write error response", "err", err)
	}
}

func errorTitle(status int) string {
	switch status {
	case http.StatusNotFound:
		return "Page not found"
	case http.StatusForbidden:
		return "Not allowed"
	case http.StatusInternalServerError:
		return "Something went wrong"
	}
	return http.StatusText(status)
}

func errorText(status int, message string) string {
	switch status {
	case http.StatusNotFound:
		return "The page does not exist, or you do not have access to it."
	case http.StatusInternalServerError:
		return "The error has been logged. Please try again in a moment."
	}
	return message
}

// HomePath is where people land after signing in: users start in the catalog.
const HomePath = "/services"

// SafeNext returns next if it is a local path on this site, else HomePath. It stops the
// sign-in form from redirecting to another site.
func SafeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return HomePath
	}
	u, err := url.Parse(next)
	if err != nil || u.Host != "" || u.Scheme != "" {
		return HomePath
	}
	return next
}
