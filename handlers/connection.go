package handlers

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/junction-dev/junction"
)

// connectionBody is the JSON body that creates a connection: a third-party API's endpoint
// and a database's credential may be chosen per environment.
type connectionBody struct {
	Name        string            `json:"name"`
	Description string            `json:"description"`
	ServiceID   string            `json:"service_id"`
	Endpoints   map[string]string `json:"endpoints"`
	Credentials map[string]string `json:"credentials"`
}

// APIProjectConnections lists a project's connections: GET /api/v1/projects/:p/connections.
func (h *Handler) APIProjectConnections(c echo.Context) error {
	list, err := h.Connections.FindConnections(c.Request().Context(), junction.ConnectionFilter{Project: c.Param("p")})
	if err != nil {
		return err
	}
	return writePage(c, list)
}

// APIComponentConnections lists a component's connections and the project connections it may
// use: GET /api/v1/projects/:p/components/:c/connections.
func (h *Handler) APIComponentConnections(c echo.Context) error {
	list, err := h.Connections.FindConnections(c.Request().Context(),
		junction.ConnectionFilter{Project: c.Param("p"), Component: c.Param("c"), WithProjectConnections: true})
	if err != nil {
		return err
	}
	return writePage(c, list)
}

// APICreateConnection creates a project connection (POST /api/v1/projects/:p/connections) or a
// component connection (POST /api/v1/projects/:p/components/:c/connections).
func (h *Handler) APICreateConnection(c echo.Context) error {
	var body connectionBody
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	conn := &junction.Connection{Name: body.Name, Description: body.Description, Project: c.Param("p"), Component: c.Param("c"),
		Service: junction.ServiceRef{ID: body.ServiceID}, Endpoints: body.Endpoints, Credentials: body.Credentials}
	if err := h.Connections.CreateConnection(c.Request().Context(), conn); err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, conn)
}

// APIConnection answers a connection: GET /api/v1/connections/:id, with ?reveal=true for
// secret values in clear (developers and admins; audited).
func (h *Handler) APIConnection(c echo.Context) error {
	reveal, _ := strconv.ParseBool(c.QueryParam("reveal"))
	conn, err := h.Connections.FindConnection(c.Request().Context(), c.Param("id"), reveal)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, conn)
}

// APIUpdateConnection renames a connection, changes its description or, for a database, the
// credential of the environments given: PATCH /api/v1/connections/:id.
func (h *Handler) APIUpdateConnection(c echo.Context) error {
	var upd junction.ConnectionUpdate
	if err := decodeJSON(c, &upd); err != nil {
		return err
	}
	conn, err := h.Connections.UpdateConnection(c.Request().Context(), c.Param("id"), upd)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, conn)
}

// APIDeleteConnection deletes a connection and answers it as it was:
// DELETE /api/v1/connections/:id; 409 while components map it unless ?force=true.
func (h *Handler) APIDeleteConnection(c echo.Context) error {
	ctx := c.Request().Context()
	conn, err := h.Connections.FindConnection(ctx, c.Param("id"), false)
	if err != nil {
		return err
	}
	force, _ := strconv.ParseBool(c.QueryParam("force"))
	if err := h.Connections.DeleteConnection(ctx, conn.ID, force); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, conn)
}

// rotation is the answer of a rotation: what changed and who shares it.
type rotation struct {
	Environment string        `json:"environment"`
	Connections []sharedEntry `json:"connections"`
	// PreviousValidUntil is the end of the grace: null when the previous secret stopped at once.
	PreviousValidUntil *time.Time `json:"previous_valid_until"`
}

type sharedEntry struct {
	ID        string         `json:"id"`
	Name      string         `json:"name"`
	Scope     junction.Scope `json:"scope"`
	Project   string         `json:"project"`
	Component string         `json:"component,omitempty"`
}

func sharedEntries(list []*junction.Connection) []sharedEntry {
	out := make([]sharedEntry, len(list))
	for i, s := range list {
		out[i] = sharedEntry{ID: s.ID, Name: s.Name, Scope: s.Scope, Project: s.Project, Component: s.Component}
	}
	return out
}

// APIRotateConnection rotates the OAuth client secret or API key of a connection in one
// environment: POST /api/v1/connections/:id/rotate {"environment":"development"}.
func (h *Handler) APIRotateConnection(c echo.Context) error {
	var body struct {
		Environment string `json:"environment"`
		Grace       string `json:"grace"`
	}
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	if body.Environment == "" {
		return &junction.Error{Code: junction.EINVALID, Message: "Name the environment to rotate.",
			Fields: map[string]string{"environment": "Required."}}
	}
	grace, err := junction.ParseGrace(body.Grace)
	if err != nil {
		return err
	}
	rot, err := h.Connections.RotateWithGrace(c.Request().Context(), c.Param("id"), body.Environment, grace)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, rotation{Environment: body.Environment, Connections: sharedEntries(rot.Shared), PreviousValidUntil: rot.PreviousValidUntil})
}

// APIVerifyAPIKey tells a provider what an API key belongs to: POST /api/v1/api-keys/verify
// {"key":"jak_…"}; 401 for unknown or rotated keys. It needs no sign-in: providers call it.
func (h *Handler) APIVerifyAPIKey(c echo.Context) error {
	var body struct {
		Key string `json:"key"`
	}
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	info, err := h.Connections.VerifyAPIKey(c.Request().Context(), body.Key)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"valid": true, "connection_id": info.ConnectionID, "service_id": info.ServiceID,
		"environment": info.Environment, "project": info.Project, "component": info.Component})
}

// oauthError is the error answer of the token endpoint (RFC 6749, section 5.2).
func oauthError(c echo.Context, status int, code, description string) error {
	if status == http.StatusUnauthorized {
		c.Response().Header().Set("WWW-Authenticate", `Basic realm="junction"`)
	}
	return c.JSON(status, map[string]string{"error": code, "error_description": description})
}

// Token is the OAuth 2.0 token endpoint: POST /oauth2/token with grant_type=client_credentials
// and the client authenticated by HTTP Basic or form fields. It answers a short-lived ES256
// JWT whose audience is the services the client's application connects to, or those that
// resource and audience name.
func (h *Handler) Token(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "no-store")
	// Only the request body counts: credentials in the URL would end up in logs (RFC 6749 2.3.1).
	if err := c.Request().ParseForm(); err != nil {
		return oauthError(c, http.StatusBadRequest, "invalid_request", "Send an application/x-www-form-urlencoded body.")
	}
	form := c.Request().PostForm
	switch form.Get("grant_type") {
	case "client_credentials":
	case "":
		return oauthError(c, http.StatusBadRequest, "invalid_request", "Send grant_type=client_credentials.")
	default:
		return oauthError(c, http.StatusBadRequest, "unsupported_grant_type", "Use grant_type=client_credentials.")
	}
	clientID, secret, basic := c.Request().BasicAuth()
	if basic && (form.Has("client_id") || form.Has("client_secret")) {
		return oauthError(c, http.StatusBadRequest, "invalid_request", "Authenticate the client one way: HTTP Basic or the form, not both.")
	}
	if basic {
		// RFC 6749 2.3.1: the Basic credentials are form-encoded.
		clientID, _ = url.QueryUnescape(clientID)
		secret, _ = url.QueryUnescape(secret)
	} else {
		clientID, secret = form.Get("client_id"), form.Get("client_secret")
	}
	if clientID == "" || secret == "" {
		return oauthError(c, http.StatusUnauthorized, "invalid_client", "Authenticate the client with HTTP Basic or client_id and client_secret.")
	}
	// RFC 8707 resource (a service ID or its ServiceURL) and audience narrow the token; both
	// may be repeated.
	var targets []string
	for _, t := range append(form["resource"], form["audience"]...) {
		if t = strings.TrimSpace(t); t != "" {
			targets = append(targets, t)
		}
	}
	token, err := h.Connections.IssueToken(c.Request().Context(), clientID, secret, targets)
	switch junction.ErrorCode(err) {
	case "":
	case junction.EUNAUTHORIZED:
		return oauthError(c, http.StatusUnauthorized, "invalid_client", junction.ErrorMessage(err))
	case junction.EINVALID:
		return oauthError(c, http.StatusBadRequest, "invalid_target", junction.ErrorMessage(err))
	default:
		h.Logger.Error("token endpoint", "err", err)
		return oauthError(c, http.StatusInternalServerError, "server_error", "The token could not be issued.")
	}
	return c.JSON(http.StatusOK, map[string]any{"access_token": token.Token, "token_type": "Bearer", "expires_in": token.ExpiresIn})
}

// JWKS publishes the keys that verify access tokens: GET /.well-known/jwks.json.
func (h *Handler) JWKS(c echo.Context) error {
	keys, err := h.Connections.JWKS(c.Request().Context())
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=300")
	return c.JSONBlob(http.StatusOK, keys)
}

// AuthorizationServerMetadata is the discovery document of the token endpoint, served as
// RFC 8414 /.well-known/oauth-authorization-server and as OpenID Connect's
// /.well-known/openid-configuration, so that clients and providers find the token endpoint
// and the keys from the issuer alone.
func (h *Handler) AuthorizationServerMetadata(c echo.Context) error {
	issuer := h.Connections.Issuer()
	c.Response().Header().Set("Cache-Control", "public, max-age=300")
	return c.JSON(http.StatusOK, map[string]any{
		"issuer":                                issuer,
		"token_endpoint":                        issuer + "/oauth2/token",
		"jwks_uri":                              issuer + "/.well-known/jwks.json",
		"introspection_endpoint":                issuer + "/oauth2/introspect",
		"grant_types_supported":                 []string{"client_credentials"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
		"introspection_endpoint_auth_methods_supported": []string{"bearer"},
		// Junction has no authorization endpoint and issues no ID tokens; OpenID Connect
		// discovery still requires these members.
		"response_types_supported":              []string{},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"ES256"},
	})
}

// Introspect is the RFC 7662 introspection endpoint: POST /oauth2/introspect with token=…,
// the provider service authenticated by a bearer personal access token, or a runtime token
// or API key of its component. It answers {"active":false} for tokens that are not valid or
// not for the caller's services.
func (h *Handler) Introspect(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "no-store")
	scheme, credential, _ := strings.Cut(c.Request().Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(credential) == "" {
		c.Response().Header().Set("WWW-Authenticate", `Bearer realm="junction"`)
		return oauthError(c, http.StatusUnauthorized, "invalid_client", "Authenticate with Authorization: Bearer and a personal access token, or a runtime token or API key of the provider's component.")
	}
	if err := c.Request().ParseForm(); err != nil || c.Request().PostForm.Get("token") == "" {
		return oauthError(c, http.StatusBadRequest, "invalid_request", "Send token=<access token> as an application/x-www-form-urlencoded body.")
	}
	info, err := h.Connections.IntrospectToken(c.Request().Context(), strings.TrimSpace(credential), c.Request().PostForm.Get("token"))
	switch junction.ErrorCode(err) {
	case "":
		return c.JSON(http.StatusOK, info)
	case junction.EUNAUTHORIZED:
		c.Response().Header().Set("WWW-Authenticate", `Bearer realm="junction", error="invalid_token"`)
		return oauthError(c, http.StatusUnauthorized, "invalid_client", junction.ErrorMessage(err))
	}
	return err
}
