package web_test

import (
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction"
)

// The roles of the matrix, in column order.
const (
	rAdmin = iota
	rDev
	rViewer
	rOther // developer of another project
	rAnon
)

var roleNames = []string{"admin", "developer", "viewer", "other", "anonymous"}

// authzFixture is a project "shop" with component "orders", which publishes a
// project-visibility OAuth service and connects to it (a mapped connection with a runtime
// token), a third-party service with a secret, a database whose readonly credential a mapped
// connection uses, and a user per role.
type authzFixture struct {
	*testServer
	tokens   [5]string   // personal access tokens; none for anonymous
	browsers [5]*browser // signed-in sessions
	ids      map[string]string
	secrets  []string // values only admins and developers may see
}

func newAuthzFixture(t *testing.T) *authzFixture {
	ts := newTestServer(t)
	f := &authzFixture{testServer: ts, ids: map[string]string{}}
	emails := []string{"admin@example.com", "dev@example.com", "viewer@example.com", "other@example.com"}
	users := make([]*junction.User, 4)
	for i, e := range emails {
		users[i] = ts.createUser(t, e, i == rAdmin)
	}
	ctx := as(users[rAdmin])
	for _, h := range []string{"shop", "blog"} {
		require.NoError(t, ts.svc.Projects.CreateProject(ctx, &junction.Project{Handle: h, Name: h}))
	}
	require.NoError(t, ts.svc.Components.CreateComponent(ctx, "shop", &junction.Component{Handle: "orders", Name: "Orders"}))
	for handle, m := range map[string]map[string]junction.Role{"shop": {emails[rDev]: junction.RoleDeveloper, emails[rViewer]: junction.RoleViewer}, "blog": {emails[rOther]: junction.RoleDeveloper}} {
		for email, role := range m {
			_, err := ts.svc.Projects.SetMember(ctx, handle, email, role)
			require.NoError(t, err)
		}
	}
	svc := &junction.Service{Kind: junction.KindInternal, Project: "shop", Component: "orders", Name: "Orders API", Version: "v1",
		Visibility: junction.VisibilityProject, Security: junction.SecurityOAuth, URLs: map[string]string{"production": "https://orders"}}
	require.NoError(t, ts.svc.Services.CreateService(ctx, svc))
	third := &junction.Service{Kind: junction.KindThirdParty, Name: "Acme", Version: "v1", Parameters: []junction.ServiceParameter{{Name: "Token", Secret: true}},
		Endpoints: []junction.Endpoint{{Name: "live", URL: "https://acme", Environments: []string{"production"}, Values: map[string]string{"Token": "acme-secret-value"}}}}
	require.NoError(t, ts.svc.Services.CreateService(ctx, third))
	conn := &junction.Connection{Name: "orders", Project: "shop", Component: "orders", Service: junction.ServiceRef{ID: svc.ID}}
	require.NoError(t, ts.svc.Connections.CreateConnection(ctx, conn))
	acme := &junction.Connection{Name: "acme", Project: "shop", Component: "orders", Service: junction.ServiceRef{ID: third.ID}}
	require.NoError(t, ts.svc.Connections.CreateConnection(ctx, acme))
	// A database with a readonly credential, which a mapped connection of orders uses.
	pg := &junction.Service{Kind: junction.KindDatabase, Name: "orders-db", Engine: "postgres",
		Values:      map[string]map[string]string{"production": {"HostName": "db", "Port": "5432", "DatabaseName": "orders", "Username": "app", "Password": "pg-default-secret-value"}},
		Credentials: map[string][]junction.DatabaseCredential{"production": {{Name: "readonly", Username: "ro", Password: "pg-readonly-secret-value"}}}}
	require.NoError(t, ts.svc.Services.CreateService(ctx, pg))
	pgConn := &junction.Connection{Name: "orders-ro", Project: "shop", Component: "orders", Service: junction.ServiceRef{ID: pg.ID},
		Credentials: map[string]string{"production": "readonly"}}
	require.NoError(t, ts.svc.Connections.CreateConnection(ctx, pgConn))
	_, err := ts.svc.Mappings.SetMappings(ctx, "shop", "orders", pgConn.ID,
		map[string]string{"HostName": "PG_HOST", "Port": "PG_PORT", "DatabaseName": "PG_NAME", "Username": "PG_USER", "Password": "PG_PASSWORD"})
	require.NoError(t, err)
	_, err = ts.svc.Mappings.SetMappings(ctx, "shop", "orders", conn.ID,
		map[string]string{"ServiceURL": "O_URL", "ConsumerKey": "O_KEY", "ConsumerSecret": "O_SECRET", "TokenURL": "O_TOKEN"})
	require.NoError(t, err)
	rt, runtimeSecret, err := ts.svc.Mappings.CreateRuntimeToken(ctx, "shop", "orders", "production")
	require.NoError(t, err)
	revealed, err := ts.svc.Connections.FindConnection(ctx, conn.ID, true)
	require.NoError(t, err)
	for _, p := range revealed.Parameters {
		if p.Secret {
			f.secrets = append(f.secrets, p.Values["production"])
		}
	}
	f.secrets = append(f.secrets, "acme-secret-value", runtimeSecret, "pg-default-secret-value", "pg-readonly-secret-value")
	f.ids["service"], f.ids["connection"], f.ids["runtime-token"] = svc.ID, conn.ID, strconv.FormatInt(rt.ID, 10)
	for i := range 4 {
		pat, secret, err := ts.svc.Users.CreateToken(t.Context(), users[i].ID, "matrix")
		require.NoError(t, err)
		f.tokens[i] = secret
		if i == rAdmin {
			f.ids["pat"] = strconv.FormatInt(pat.ID, 10)
		}
		f.browsers[i] = ts.browser(t)
		f.browsers[i].mustLogin(emails[i])
	}
	f.browsers[rAnon] = ts.browser(t)
	return f
}

// row is one route of the matrix: a request and the status each role gets.
type row struct {
	route  string // "METHOD /pattern" as registered
	path   string // the concrete path
	body   string // JSON for the API, form for pages
	status [5]int
}

func (f *authzFixture) do(t *testing.T, r row, role int) (int, string) {
	method, _, _ := strings.Cut(r.route, " ")
	isAPI := strings.HasPrefix(r.path, "/api/") || strings.HasPrefix(r.path, "/oauth2/") || strings.HasPrefix(r.path, "/.well-known/")
	if isAPI || r.path == "/metrics" {
		req, _ := http.NewRequest(method, f.URL+r.path, strings.NewReader(r.body))
		if strings.HasPrefix(r.path, "/oauth2/") {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		} else {
			req.Header.Set("Content-Type", "application/json")
		}
		if role != rAnon {
			req.Header.Set("Authorization", "Bearer "+f.tokens[role])
		}
		res, err := http.DefaultTransport.RoundTrip(req)
		require.NoError(t, err)
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(body)
	}
	b := f.browsers[role]
	if method == http.MethodGet || method == http.MethodHead {
		req, _ := http.NewRequest(method, f.URL+r.path, nil)
		res, body := b.do(req)
		return res.StatusCode, body
	}
	values, err := url.ParseQuery(r.body)
	require.NoError(t, err)
	res, body := b.post(r.path, values)
	return res.StatusCode, body
}

// TestAuthorizationMatrix walks every route for every role and checks the exact status and
// that no secret reaches a role that may not see it. Each route runs on fresh fixtures (one
// for the admin, one for the other roles, least privileged first), so writes do not leak
// between rows. A route without a row fails the test.
func TestAuthorizationMatrix(t *testing.T) {
	const p, c = "/projects/shop", "/projects/shop/components/orders"
	const ap, ac = "/api/v1/projects/shop", "/api/v1/projects/shop/components/orders"
	const S, U = http.StatusSeeOther, http.StatusUnauthorized
	const ok, created, nocontent = http.StatusOK, http.StatusCreated, http.StatusNoContent
	const forbidden, notFound, conflict, invalid = http.StatusForbidden, http.StatusNotFound, http.StatusConflict, http.StatusUnprocessableEntity
	svc, conn, rtok, pat := "{service}", "{connection}", "{runtime-token}", "{pat}"
	rows := []row{
		{"GET /healthz", "/healthz", "", [5]int{ok, ok, ok, ok, ok}},
		{"HEAD /healthz", "/healthz", "", [5]int{ok, ok, ok, ok, ok}},
		{"GET /metrics", "/metrics", "", [5]int{ok, forbidden, forbidden, forbidden, S}},
		{"GET /login", "/login", "", [5]int{S, S, S, S, ok}},
		{"POST /login", "/login", "email=x&password=y", [5]int{U, U, U, U, U}},
		{"GET /logout", "/logout", "", [5]int{ok, ok, ok, ok, S}},
		// Without an identity provider configured (see oidc_test.go for one).
		{"GET /login/oidc", "/login/oidc", "", [5]int{notFound, notFound, notFound, notFound, notFound}},
		{"GET /login/oidc/callback", "/login/oidc/callback?code=x&state=y", "", [5]int{notFound, notFound, notFound, notFound, notFound}},
		{"POST /logout", "/logout", "", [5]int{S, S, S, S, S}},
		{"POST /oauth2/token", "/oauth2/token", "", [5]int{400, 400, 400, 400, 400}},
		{"POST /oauth2/introspect", "/oauth2/introspect", "token=x", [5]int{ok, ok, ok, ok, U}},
		{"GET /.well-known/jwks.json", "/.well-known/jwks.json", "", [5]int{ok, ok, ok, ok, ok}},
		{"GET /.well-known/oauth-authorization-server", "/.well-known/oauth-authorization-server", "", [5]int{ok, ok, ok, ok, ok}},
		{"GET /.well-known/openid-configuration", "/.well-known/openid-configuration", "", [5]int{ok, ok, ok, ok, ok}},
		{"POST /api/v1/api-keys/verify", "/api/v1/api-keys/verify", `{"key":"jak_nope"}`, [5]int{U, U, U, U, U}},
		{"GET /api/v1/runtime/env", "/api/v1/runtime/env", "", [5]int{U, U, U, U, U}},
		{"GET /", "/", "", [5]int{S, S, S, S, S}},
		{"GET /services", "/services", "", [5]int{ok, ok, ok, ok, S}},
		{"GET /services/new", "/services/new", "", [5]int{ok, ok, forbidden, ok, S}},
		{"GET /services/new/third-party", "/services/new/third-party", "", [5]int{ok, ok, forbidden, ok, S}},
		{"POST /services/third-party", "/services/third-party", "op=save", [5]int{invalid, invalid, forbidden, invalid, S}},
		{"GET /services/new/database", "/services/new/database", "", [5]int{ok, ok, forbidden, ok, S}},
		{"POST /services/database", "/services/database", "", [5]int{invalid, invalid, forbidden, invalid, S}},
		{"GET /services/:id", "/services/" + svc, "", [5]int{ok, ok, ok, notFound, S}},
		{"POST /services/:id", "/services/" + svc, "", [5]int{invalid, invalid, forbidden, notFound, S}},
		{"GET /services/:id/edit", "/services/" + svc + "/edit", "", [5]int{ok, ok, forbidden, notFound, S}},
		{"GET /services/:id/connect", "/services/" + svc + "/connect?project=shop", "", [5]int{S, S, forbidden, notFound, S}},
		{"POST /services/:id/listing", "/services/" + svc + "/listing", "listed=true", [5]int{S, S, forbidden, notFound, S}},
		{"POST /services/:id/delete", "/services/" + svc + "/delete", "", [5]int{ok, ok, forbidden, notFound, S}},
		{"GET /projects", "/projects", "", [5]int{ok, ok, ok, ok, S}},
		{"GET /projects/new", "/projects/new", "", [5]int{ok, forbidden, forbidden, forbidden, S}},
		{"POST /projects", "/projects", "", [5]int{invalid, forbidden, forbidden, forbidden, S}},
		{"GET /projects/:p", p, "", [5]int{ok, ok, ok, notFound, S}},
		{"GET /projects/:p/diagram", p + "/diagram", "", [5]int{ok, ok, ok, notFound, S}},
		{"POST /projects/:p", p, "name=", [5]int{invalid, invalid, forbidden, notFound, S}},
		{"POST /projects/:p/delete", p + "/delete", "", [5]int{ok, forbidden, forbidden, notFound, S}},
		{"POST /projects/:p/members", p + "/members", "email=ghost@example.com&role=developer", [5]int{invalid, forbidden, forbidden, notFound, S}},
		{"POST /projects/:p/members/remove", p + "/members/remove", "email=viewer@example.com", [5]int{S, forbidden, forbidden, notFound, S}},
		{"GET /projects/:p/connections/new", p + "/connections/new", "", [5]int{ok, ok, forbidden, notFound, S}},
		{"POST /projects/:p/connections", p + "/connections", "", [5]int{invalid, invalid, forbidden, notFound, S}},
		{"GET /projects/:p/components/:c/connections/new", c + "/connections/new", "", [5]int{ok, ok, forbidden, notFound, S}},
		{"POST /projects/:p/components/:c/connections", c + "/connections", "", [5]int{invalid, invalid, forbidden, notFound, S}},
		{"GET /connections/:id", "/connections/" + conn, "", [5]int{ok, ok, ok, notFound, S}},
		{"POST /connections/:id", "/connections/" + conn, "name=", [5]int{invalid, invalid, forbidden, notFound, S}},
		{"GET /connections/:id/parameters", "/connections/" + conn + "/parameters?reveal=true", "", [5]int{ok, ok, forbidden, notFound, S}},
		{"POST /connections/:id/delete", "/connections/" + conn + "/delete", "", [5]int{ok, ok, forbidden, notFound, S}},
		{"GET /connections/:id/rotate", "/connections/" + conn + "/rotate?environment=production", "", [5]int{ok, ok, forbidden, notFound, S}},
		{"POST /connections/:id/rotate", "/connections/" + conn + "/rotate", "environment=production", [5]int{S, S, forbidden, notFound, S}},
		{"POST /connections/:id/rotate/finish", "/connections/" + conn + "/rotate/finish", "environment=production", [5]int{conflict, conflict, forbidden, notFound, S}},
		{"GET /connections/:id/history", "/connections/" + conn + "/history", "", [5]int{ok, ok, ok, notFound, S}},
		{"GET /services/:id/history", "/services/" + svc + "/history", "", [5]int{ok, ok, ok, notFound, S}},
		{"GET /projects/:p/history", p + "/history", "", [5]int{ok, ok, ok, notFound, S}},
		{"GET /projects/:p/components/:c/env/history", c + "/env/history", "", [5]int{ok, ok, ok, notFound, S}},
		{"POST /projects/:p/components/:c/env/restore", c + "/env/restore", "version=1", [5]int{S, S, forbidden, notFound, S}},
		{"GET /projects/:p/components/new", p + "/components/new", "", [5]int{ok, ok, forbidden, notFound, S}},
		{"POST /projects/:p/components", p + "/components", "", [5]int{invalid, invalid, forbidden, notFound, S}},
		{"GET /projects/:p/components/:c", c, "", [5]int{ok, ok, ok, notFound, S}},
		{"POST /projects/:p/components/:c", c, "name=", [5]int{invalid, invalid, forbidden, notFound, S}},
		{"POST /projects/:p/components/:c/delete", c + "/delete", "", [5]int{ok, ok, forbidden, notFound, S}},
		{"GET /projects/:p/components/:c/env", c + "/env", "", [5]int{ok, ok, ok, notFound, S}},
		{"GET /projects/:p/components/:c/export", c + "/export?format=dotenv&environment=production", "", [5]int{ok, ok, forbidden, notFound, S}},
		{"GET /projects/:p/components/:c/export", c + "/export?format=kubernetes&environment=production", "", [5]int{ok, ok, forbidden, notFound, S}},
		{"GET /projects/:p/components/:c/export", c + "/export?format=js&environment=production", "", [5]int{invalid, invalid, invalid, notFound, S}}, // orders maps a secret
		{"GET /projects/:p/components/:c/import", c + "/import", "", [5]int{ok, ok, forbidden, notFound, S}},
		{"POST /projects/:p/components/:c/import", c + "/import", "yaml=", [5]int{invalid, invalid, forbidden, notFound, S}},
		{"POST /projects/:p/components/:c/env", c + "/env", "", [5]int{S, S, forbidden, notFound, S}},
		{"POST /projects/:p/components/:c/env/validate", c + "/env/validate", "", [5]int{ok, ok, ok, notFound, S}},
		{"POST /projects/:p/components/:c/runtime-tokens", c + "/runtime-tokens", "environment=production", [5]int{S, S, forbidden, notFound, S}},
		{"POST /projects/:p/components/:c/runtime-tokens/:id/delete", c + "/runtime-tokens/" + rtok + "/delete", "", [5]int{S, S, forbidden, notFound, S}},
		{"GET /projects/:p/components/:c/endpoints/new", c + "/endpoints/new", "", [5]int{ok, ok, forbidden, notFound, S}},
		{"POST /projects/:p/components/:c/endpoints", c + "/endpoints", "", [5]int{invalid, invalid, forbidden, notFound, S}},
		{"GET /environments", "/environments", "", [5]int{ok, ok, ok, ok, S}},
		{"POST /environments", "/environments", "name=", [5]int{invalid, forbidden, forbidden, forbidden, S}},
		{"GET /users", "/users", "", [5]int{ok, forbidden, forbidden, forbidden, S}},
		{"GET /audit", "/audit", "", [5]int{ok, forbidden, forbidden, forbidden, S}},
		{"POST /users", "/users", "", [5]int{invalid, forbidden, forbidden, forbidden, S}},
		{"GET /account", "/account", "", [5]int{ok, ok, ok, ok, S}},
		{"GET /account/tokens", "/account/tokens", "", [5]int{ok, ok, ok, ok, S}},
		{"POST /account/tokens", "/account/tokens", "name=x", [5]int{S, S, S, S, S}},
		{"POST /account/tokens/:id/delete", "/account/tokens/" + pat + "/delete", "", [5]int{S, notFound, notFound, notFound, S}},
		{"GET /api/v1/me", "/api/v1/me", "", [5]int{ok, ok, ok, ok, U}},
		{"GET /api/v1/environments", "/api/v1/environments", "", [5]int{ok, ok, ok, ok, U}},
		{"POST /api/v1/environments", "/api/v1/environments", `{"name":""}`, [5]int{invalid, forbidden, forbidden, forbidden, U}},
		{"GET /api/v1/projects", "/api/v1/projects", "", [5]int{ok, ok, ok, ok, U}},
		{"POST /api/v1/projects", "/api/v1/projects", `{}`, [5]int{invalid, forbidden, forbidden, forbidden, U}},
		{"GET /api/v1/projects/:p", ap, "", [5]int{ok, ok, ok, notFound, U}},
		{"PATCH /api/v1/projects/:p", ap, `{"name":""}`, [5]int{invalid, invalid, forbidden, notFound, U}},
		{"DELETE /api/v1/projects/:p", ap, "", [5]int{conflict, forbidden, forbidden, notFound, U}},
		{"GET /api/v1/projects/:p/members", ap + "/members", "", [5]int{ok, ok, ok, notFound, U}},
		{"PUT /api/v1/projects/:p/members/:email", ap + "/members/dev@example.com", `{"role":"viewer"}`, [5]int{ok, forbidden, forbidden, notFound, U}},
		{"DELETE /api/v1/projects/:p/members/:email", ap + "/members/viewer@example.com", "", [5]int{ok, forbidden, forbidden, notFound, U}},
		{"GET /api/v1/projects/:p/components", ap + "/components", "", [5]int{ok, ok, ok, notFound, U}},
		{"POST /api/v1/projects/:p/components", ap + "/components", `{}`, [5]int{invalid, invalid, forbidden, notFound, U}},
		{"GET /api/v1/projects/:p/components/:c", ac, "", [5]int{ok, ok, ok, notFound, U}},
		{"PATCH /api/v1/projects/:p/components/:c", ac, `{"name":""}`, [5]int{invalid, invalid, forbidden, notFound, U}},
		{"DELETE /api/v1/projects/:p/components/:c", ac, "", [5]int{ok, ok, forbidden, notFound, U}},
		{"GET /api/v1/services", "/api/v1/services", "", [5]int{ok, ok, ok, ok, U}},
		{"POST /api/v1/services", "/api/v1/services", `{"kind":"database"}`, [5]int{invalid, invalid, forbidden, invalid, U}},
		{"GET /api/v1/services/:id", "/api/v1/services/" + svc, "", [5]int{ok, ok, ok, notFound, U}},
		{"PATCH /api/v1/services/:id", "/api/v1/services/" + svc, `{"unlisted":true}`, [5]int{ok, ok, forbidden, notFound, U}},
		{"DELETE /api/v1/services/:id", "/api/v1/services/" + svc, "", [5]int{conflict, conflict, forbidden, notFound, U}},
		{"GET /api/v1/projects/:p/connections", ap + "/connections", "", [5]int{ok, ok, ok, notFound, U}},
		{"POST /api/v1/projects/:p/connections", ap + "/connections", `{}`, [5]int{invalid, invalid, forbidden, notFound, U}},
		{"GET /api/v1/projects/:p/components/:c/connections", ac + "/connections", "", [5]int{ok, ok, ok, notFound, U}},
		{"POST /api/v1/projects/:p/components/:c/connections", ac + "/connections", `{}`, [5]int{invalid, invalid, forbidden, notFound, U}},
		{"GET /api/v1/connections/:id", "/api/v1/connections/" + conn + "?reveal=true", "", [5]int{ok, ok, forbidden, notFound, U}},
		{"PATCH /api/v1/connections/:id", "/api/v1/connections/" + conn, `{"name":""}`, [5]int{invalid, invalid, forbidden, notFound, U}},
		{"DELETE /api/v1/connections/:id", "/api/v1/connections/" + conn, "", [5]int{conflict, conflict, forbidden, notFound, U}},
		{"POST /api/v1/connections/:id/rotate", "/api/v1/connections/" + conn + "/rotate", `{"environment":"production"}`, [5]int{ok, ok, forbidden, notFound, U}},
		{"POST /api/v1/connections/:id/rotate/finish", "/api/v1/connections/" + conn + "/rotate/finish", `{"environment":"production"}`, [5]int{conflict, conflict, forbidden, notFound, U}},
		{"GET /api/v1/audit", "/api/v1/audit", "", [5]int{ok, forbidden, forbidden, forbidden, U}},
		{"GET /api/v1/projects/:p/components/:c/mappings/history", ac + "/mappings/history", "", [5]int{ok, ok, ok, notFound, U}},
		{"POST /api/v1/projects/:p/components/:c/mappings/restore", ac + "/mappings/restore", `{"version":1}`, [5]int{ok, ok, forbidden, notFound, U}},
		{"GET /api/v1/projects/:p/components/:c/mappings", ac + "/mappings", "", [5]int{ok, ok, ok, notFound, U}},
		{"PUT /api/v1/projects/:p/components/:c/mappings/:id", ac + "/mappings/" + conn, `{"mappings":{}}`, [5]int{invalid, invalid, forbidden, notFound, U}},
		{"DELETE /api/v1/projects/:p/components/:c/mappings/:id", ac + "/mappings/" + conn, "", [5]int{nocontent, nocontent, forbidden, notFound, U}},
		{"GET /api/v1/projects/:p/components/:c/env", ac + "/env?environment=production&reveal=true", "", [5]int{ok, ok, forbidden, notFound, U}},
		{"GET /api/v1/projects/:p/components/:c/env", ac + "/env?environment=production&format=kubernetes", "", [5]int{ok, ok, forbidden, notFound, U}},
		{"GET /api/v1/projects/:p/components/:c/component.yaml", ac + "/component.yaml", "", [5]int{ok, ok, ok, notFound, U}},
		{"PUT /api/v1/projects/:p/components/:c/component.yaml", ac + "/component.yaml", "", [5]int{invalid, invalid, forbidden, notFound, U}},
		{"GET /api/v1/projects/:p/components/:c/runtime-tokens", ac + "/runtime-tokens", "", [5]int{ok, ok, ok, notFound, U}},
		{"POST /api/v1/projects/:p/components/:c/runtime-tokens", ac + "/runtime-tokens", `{"environment":"production"}`, [5]int{created, created, forbidden, notFound, U}},
		{"DELETE /api/v1/projects/:p/components/:c/runtime-tokens/:id", ac + "/runtime-tokens/" + rtok, "", [5]int{nocontent, nocontent, forbidden, notFound, U}},
	}

	// A GET on a form's target redirects to the page it belongs to, for everyone.
	for _, path := range []struct{ route, path string }{
		{"/services/third-party", "/services/third-party"}, {"/services/database", "/services/database"},
		{"/services/:id/listing", "/services/" + svc + "/listing"}, {"/services/:id/delete", "/services/" + svc + "/delete"},
		{"/projects/:p/delete", p + "/delete"}, {"/projects/:p/members", p + "/members"}, {"/projects/:p/members/remove", p + "/members/remove"},
		{"/projects/:p/connections", p + "/connections"}, {"/projects/:p/components/:c/connections", c + "/connections"},
		{"/connections/:id/delete", "/connections/" + conn + "/delete"}, {"/projects/:p/components", p + "/components"},
		{"/projects/:p/components/:c/delete", c + "/delete"}, {"/projects/:p/components/:c/env/validate", c + "/env/validate"},
		{"/projects/:p/components/:c/runtime-tokens", c + "/runtime-tokens"},
		{"/projects/:p/components/:c/runtime-tokens/:id/delete", c + "/runtime-tokens/" + rtok + "/delete"},
		{"/projects/:p/components/:c/endpoints", c + "/endpoints"}, {"/account/tokens/:id/delete", "/account/tokens/" + pat + "/delete"},
	} {
		rows = append(rows, row{"GET " + path.route, path.path, "", [5]int{S, S, S, S, S}})
	}

	// Every registered route has a row (static files are served by prefix).
	covered := map[string]bool{}
	for _, r := range rows {
		covered[r.route] = true
	}
	var missing []string
	for _, r := range newTestServer(t).server.Routes() {
		key := r.Method + " " + r.Path
		if !covered[key] && !strings.HasPrefix(r.Path, "/static/") && r.Path != "" {
			missing = append(missing, key)
		}
	}
	sort.Strings(missing)
	require.Empty(t, missing, "routes without a row in the authorization matrix")

	// Every form rejects a post without the session's CSRF token, signed in or not.
	f := newAuthzFixture(t)
	csrfChecked := 0
	for _, r := range rows {
		method, _, _ := strings.Cut(r.route, " ")
		if method != http.MethodPost || strings.HasPrefix(r.path, "/api/") || strings.HasPrefix(r.path, "/oauth2/") {
			continue
		}
		path := r.path
		for key, id := range f.ids {
			path = strings.ReplaceAll(path, "{"+key+"}", id)
		}
		for _, role := range []int{rAdmin, rDev} {
			values, _ := url.ParseQuery(r.body)
			values.Set("csrf_token", "forged")
			res, _ := f.browsers[role].postRaw(path, values)
			require.Equal(t, http.StatusForbidden, res.StatusCode, "%s as %s without a valid CSRF token", r.route, roleNames[role])
			csrfChecked++
		}
	}
	res, _ := f.browsers[rAnon].postRaw("/login", url.Values{"email": {"admin@example.com"}, "password": {testPassword}})
	require.Equal(t, http.StatusForbidden, res.StatusCode, "sign-in needs the CSRF token too")

	var mismatches []string
	checks := 0
	for _, r := range rows {
		for g, group := range [][]int{{rAnon, rOther, rViewer, rDev}, {rAdmin}} {
			// A subtest per fixture, so that its database is closed (and on PostgreSQL reused)
			// as soon as the route is checked rather than when the whole matrix ends. Names are
			// unique: a repeated one gets a # suffix, which a SQLite path may not hold.
			t.Run(r.route+" as "+[]string{"others", "admin"}[g], func(t *testing.T) {
				f := newAuthzFixture(t)
				r := r
				for key, id := range f.ids {
					r.path = strings.ReplaceAll(r.path, "{"+key+"}", id)
				}
				for _, role := range group {
					status, body := f.do(t, r, role)
					checks++
					if status != r.status[role] {
						mismatches = append(mismatches, r.route+" as "+roleNames[role]+": got "+strconv.Itoa(status)+", want "+strconv.Itoa(r.status[role]))
					}
					if role == rViewer || role == rOther || role == rAnon {
						for _, secret := range f.secrets {
							if strings.Contains(body, secret) {
								mismatches = append(mismatches, r.route+" as "+roleNames[role]+": answer holds a secret")
							}
						}
					}
				}
			})
		}
	}
	require.Empty(t, mismatches, "%d of %d checks", len(mismatches), checks)
	t.Logf("%d routes x %d roles = %d checks; CSRF rejected on %d form posts", len(rows), len(roleNames), checks, csrfChecked)
}
