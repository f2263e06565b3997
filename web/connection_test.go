package web_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction"
	"github.com/junction-dev/junction/internal/jwttest"
)

// connectionFixture is a server with a project, two components and OAuth, API-key and
// third-party services to connect to.
type connectionFixture struct {
	*testServer
	admin, viewer     string // tokens
	oauthA, oauthB    string
	apiKeySvc, twilio string
}

func newConnectionFixture(t *testing.T) *connectionFixture {
	ts := newTestServer(t)
	admin := ts.createUser(t, "ada@example.com", true)
	viewer := ts.createUser(t, "vic@example.com", false)
	ctx := as(admin)
	for _, h := range []string{"shop", "blog"} {
		require.NoError(t, ts.svc.Projects.CreateProject(ctx, &junction.Project{Handle: h, Name: h}))
	}
	for _, c := range []string{"orders", "web"} {
		require.NoError(t, ts.svc.Components.CreateComponent(ctx, "shop", &junction.Component{Handle: c, Name: c}))
	}
	require.NoError(t, ts.svc.Components.CreateComponent(ctx, "blog", &junction.Component{Handle: "engine", Name: "engine"}))
	_, err := ts.svc.Projects.SetMember(ctx, "shop", viewer.Email, junction.RoleViewer)
	require.NoError(t, err)
	internal := func(name string, vis junction.Visibility, sec junction.Security) string {
		s := &junction.Service{Kind: junction.KindInternal, Project: "blog", Component: "engine", Name: name, Version: "v1",
			Visibility: vis, Security: sec, URLs: map[string]string{"development": "http://" + name + ".dev", "production": "https://" + name + ".prod"}}
		require.NoError(t, ts.svc.Services.CreateService(ctx, s))
		return s.ID
	}
	f := &connectionFixture{testServer: ts, admin: ts.token(t, admin), viewer: ts.token(t, viewer)}
	f.oauthA = internal("posts", junction.VisibilityOrganization, junction.SecurityOAuth)
	f.oauthB = internal("comments", junction.VisibilityPublic, junction.SecurityOAuth)
	f.apiKeySvc = internal("search", junction.VisibilityOrganization, junction.SecurityAPIKey)
	twilio := &junction.Service{Kind: junction.KindThirdParty, Name: "Twilio", Version: "v1",
		Parameters: []junction.ServiceParameter{{Name: "AccountSID"}, {Name: "AuthToken", Secret: true}},
		Endpoints: []junction.Endpoint{
			{Name: "sandbox", URL: "https://sandbox.twilio.example", Environments: []string{"development"}, Values: map[string]string{"AccountSID": "AC-sand", "AuthToken": "sand-secret"}},
			{Name: "live", URL: "https://api.twilio.example", Environments: []string{"production"}, Values: map[string]string{"AccountSID": "AC-live", "AuthToken": "live-secret"}},
		}}
	require.NoError(t, ts.svc.Services.CreateService(ctx, twilio))
	f.twilio = twilio.ID
	return f
}

func (f *connectionFixture) create(t *testing.T, path, token, body string) map[string]any {
	t.Helper()
	status, conn := f.api(t, http.MethodPost, path, token, body)
	require.Equal(t, http.StatusCreated, status, "%v", conn)
	return conn
}

// param returns the value of a connection parameter in an environment.
func param(t *testing.T, conn map[string]any, name, env string) string {
	t.Helper()
	for _, p := range conn["parameters"].([]any) {
		p := p.(map[string]any)
		if p["name"] == name {
			v, _ := p["values"].(map[string]any)[env].(string)
			return v
		}
	}
	t.Fatalf("no parameter %s in %v", name, conn["parameters"])
	return ""
}

func TestConnectionsAPI(t *testing.T) {
	f := newConnectionFixture(t)

	a := f.create(t, "/api/v1/projects/shop/connections", f.admin, `{"name":"posts","service_id":"`+f.oauthA+`"}`)
	require.Regexp(t, `^conn_[a-z2-7]{26}$`, a["id"])
	require.Equal(t, "project", a["scope"])
	require.Equal(t, "shop", a["project"])
	require.NotContains(t, a, "component")
	require.Equal(t, map[string]any{"id": f.oauthA, "name": "engine – posts", "kind": "internal", "version": "v1"}, a["service"])
	require.Equal(t, "********", param(t, a, "ConsumerSecret", "development"))
	require.Equal(t, "http://junction.test/oauth2/token", param(t, a, "TokenURL", "production"))

	b := f.create(t, "/api/v1/projects/shop/connections", f.admin, `{"name":"comments","service_id":"`+f.oauthB+`"}`)
	c := f.create(t, "/api/v1/projects/shop/components/orders/connections", f.admin, `{"name":"posts","service_id":"`+f.oauthA+`"}`)
	require.Equal(t, "component", c["scope"])
	require.Equal(t, "orders", c["component"])

	t.Run("OAuthApplicationSharing", func(t *testing.T) {
		require.Equal(t, param(t, a, "ConsumerKey", "development"), param(t, b, "ConsumerKey", "development"), "project connections share one application")
		require.NotEqual(t, param(t, a, "ConsumerKey", "development"), param(t, c, "ConsumerKey", "development"), "a component has its own")
		require.NotEqual(t, param(t, a, "ConsumerKey", "development"), param(t, a, "ConsumerKey", "production"), "one client per environment")
	})
	t.Run("ErrDuplicateName", func(t *testing.T) {
		status, body := f.api(t, http.MethodPost, "/api/v1/projects/shop/connections", f.admin, `{"name":"Posts","service_id":"`+f.oauthB+`"}`)
		require.Equal(t, http.StatusConflict, status)
		_, fields := apiError(t, body)
		require.Contains(t, fields, "name")
	})
	t.Run("ErrBadInput", func(t *testing.T) {
		for _, body := range []string{`{"name":"x"}`, `{"name":"","service_id":"` + f.oauthA + `"}`} {
			status, _ := f.api(t, http.MethodPost, "/api/v1/projects/shop/connections", f.admin, body)
			require.Equal(t, http.StatusUnprocessableEntity, status, body)
		}
		status, _ := f.api(t, http.MethodPost, "/api/v1/projects/shop/connections", f.admin, `{"name":"x","service_id":"svc_nope"}`)
		require.Equal(t, http.StatusNotFound, status)
		status, _ = f.api(t, http.MethodPost, "/api/v1/projects/shop/connections", f.viewer, `{"name":"x","service_id":"`+f.oauthA+`"}`)
		require.Equal(t, http.StatusForbidden, status)
	})
	t.Run("Lists", func(t *testing.T) {
		status, list := f.api(t, http.MethodGet, "/api/v1/projects/shop/connections", f.viewer, "")
		require.Equal(t, http.StatusOK, status)
		require.EqualValues(t, 2, list["total"])
		status, list = f.api(t, http.MethodGet, "/api/v1/projects/shop/components/orders/connections", f.viewer, "")
		require.Equal(t, http.StatusOK, status)
		require.EqualValues(t, 3, list["total"], "a component also lists the project connections it may use")
	})
	t.Run("Reveal", func(t *testing.T) {
		status, body := f.api(t, http.MethodGet, "/api/v1/connections/"+a["id"].(string)+"?reveal=true", f.viewer, "")
		require.Equal(t, http.StatusForbidden, status, "%v", body)
		status, revealed := f.api(t, http.MethodGet, "/api/v1/connections/"+a["id"].(string)+"?reveal=true", f.admin, "")
		require.Equal(t, http.StatusOK, status)
		require.True(t, strings.HasPrefix(param(t, revealed, "ConsumerSecret", "development"), "jcs_"))
	})
	t.Run("ThirdPartyEndpointsPerEnvironment", func(t *testing.T) {
		conn := f.create(t, "/api/v1/projects/shop/components/web/connections", f.admin, `{"name":"sms","service_id":"`+f.twilio+`"}`)
		require.Equal(t, "https://sandbox.twilio.example", param(t, conn, "ServiceURL", "development"))
		require.Equal(t, "AC-live", param(t, conn, "AccountSID", "production"))
		require.Equal(t, "********", param(t, conn, "AuthToken", "production"))
		status, body := f.api(t, http.MethodPost, "/api/v1/projects/shop/components/web/connections", f.admin,
			`{"name":"sms2","service_id":"`+f.twilio+`","endpoints":{"development":"live"}}`)
		require.Equal(t, http.StatusUnprocessableEntity, status, "live does not serve development")
		_, fields := apiError(t, body)
		require.Contains(t, fields, "endpoints.development")
	})
	t.Run("RenameAndDelete", func(t *testing.T) {
		status, body := f.api(t, http.MethodPatch, "/api/v1/connections/"+c["id"].(string), f.admin, `{"name":"posts-v1","description":"blog posts"}`)
		require.Equal(t, http.StatusOK, status)
		require.Equal(t, "posts-v1", body["name"])
		status, body = f.api(t, http.MethodDelete, "/api/v1/connections/"+c["id"].(string), f.viewer, "")
		require.Equal(t, http.StatusForbidden, status, "%v", body)
		status, body = f.api(t, http.MethodDelete, "/api/v1/connections/"+c["id"].(string), f.admin, "")
		require.Equal(t, http.StatusOK, status)
		require.Equal(t, c["id"], body["id"])
		status, _ = f.api(t, http.MethodGet, "/api/v1/connections/"+c["id"].(string), f.admin, "")
		require.Equal(t, http.StatusNotFound, status)
	})
}

func TestConnectionVisibilityRules(t *testing.T) {
	f := newConnectionFixture(t)
	private := &junction.Service{Kind: junction.KindInternal, Project: "blog", Component: "engine", Name: "drafts", Version: "v1",
		Visibility: junction.VisibilityProject, Security: junction.SecurityNone, URLs: map[string]string{"development": "http://drafts"}}
	require.NoError(t, f.svc.Services.CreateService(as(mustUser(t, f.testServer, "ada@example.com")), private))
	status, body := f.api(t, http.MethodPost, "/api/v1/projects/shop/connections", f.admin, `{"name":"drafts","service_id":"`+private.ID+`"}`)
	require.Equal(t, http.StatusUnprocessableEntity, status, "project services connect only from their own project")
	require.Contains(t, body["error"].(map[string]any)["message"], "project visibility")
	f.create(t, "/api/v1/projects/blog/connections", f.admin, `{"name":"drafts","service_id":"`+private.ID+`"}`)
}

func mustUser(t *testing.T, ts *testServer, email string) *junction.User {
	t.Helper()
	u, err := ts.svc.Users.FindUserByEmail(t.Context(), email)
	require.NoError(t, err)
	return u
}

// TestTokenEndpoint takes the generated ConsumerKey and ConsumerSecret, gets a token from
// TokenURL and verifies it against the JWKS, as a provider service would.
func TestTokenEndpoint(t *testing.T) {
	f := newConnectionFixture(t)
	conn := f.create(t, "/api/v1/projects/shop/connections", f.admin, `{"name":"posts","service_id":"`+f.oauthA+`"}`)
	_, revealed := f.api(t, http.MethodGet, "/api/v1/connections/"+conn["id"].(string)+"?reveal=true", f.admin, "")
	clientID, secret := param(t, revealed, "ConsumerKey", "production"), param(t, revealed, "ConsumerSecret", "production")

	token := func(form url.Values, basic bool) (int, map[string]any) {
		req, _ := http.NewRequest(http.MethodPost, f.URL+"/oauth2/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if basic {
			req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(secret))
		}
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		var body map[string]any
		require.NoError(t, json.NewDecoder(res.Body).Decode(&body))
		return res.StatusCode, body
	}

	status, body := token(url.Values{"grant_type": {"client_credentials"}}, true)
	require.Equal(t, http.StatusOK, status, "%v", body)
	require.Equal(t, "Bearer", body["token_type"])
	jwt := body["access_token"].(string)

	res, err := http.Get(f.URL + "/.well-known/jwks.json")
	require.NoError(t, err)
	keys, _ := io.ReadAll(res.Body)
	res.Body.Close()
	claims := jwttest.Verify(t, jwt, keys)
	require.Equal(t, clientID, claims["sub"])
	require.Equal(t, []any{f.oauthA}, claims["aud"], "the audience is the service")
	require.Equal(t, "production", claims["environment"])

	status, _ = token(url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID}, "client_secret": {secret}}, false)
	require.Equal(t, http.StatusOK, status, "client authentication by form works too")
	status, body = token(url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID}, "client_secret": {"wrong"}}, false)
	require.Equal(t, http.StatusUnauthorized, status)
	require.Equal(t, "invalid_client", body["error"])
	status, body = token(url.Values{"grant_type": {"password"}}, true)
	require.Equal(t, http.StatusBadRequest, status)
	require.Equal(t, "unsupported_grant_type", body["error"])
	status, body = token(url.Values{}, true)
	require.Equal(t, http.StatusBadRequest, status)
	require.Equal(t, "invalid_request", body["error"])
	status, body = token(url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID}, "client_secret": {secret}}, true)
	require.Equal(t, http.StatusBadRequest, status, "one way of client authentication only")
	require.Equal(t, "invalid_request", body["error"])

	// Credentials in the URL are not read: they would end up in logs.
	res, err = http.Post(f.URL+"/oauth2/token?client_id="+url.QueryEscape(clientID)+"&client_secret="+url.QueryEscape(secret),
		"application/x-www-form-urlencoded", strings.NewReader("grant_type=client_credentials"))
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusUnauthorized, res.StatusCode)

	// Rotation: the old secret stops working, the new one works.
	status, rot := f.api(t, http.MethodPost, "/api/v1/connections/"+conn["id"].(string)+"/rotate", f.admin, `{"environment":"production"}`)
	require.Equal(t, http.StatusOK, status, "%v", rot)
	require.Len(t, rot["connections"], 1)
	status, _ = token(url.Values{"grant_type": {"client_credentials"}}, true)
	require.Equal(t, http.StatusUnauthorized, status, "the old secret no longer works")
	_, revealed = f.api(t, http.MethodGet, "/api/v1/connections/"+conn["id"].(string)+"?reveal=true", f.admin, "")
	require.Equal(t, clientID, param(t, revealed, "ConsumerKey", "production"), "rotation keeps the client ID")
	secret = param(t, revealed, "ConsumerSecret", "production")
	status, _ = token(url.Values{"grant_type": {"client_credentials"}}, true)
	require.Equal(t, http.StatusOK, status)
}

func TestAPIKeyVerify(t *testing.T) {
	f := newConnectionFixture(t)
	conn := f.create(t, "/api/v1/projects/shop/components/orders/connections", f.admin, `{"name":"search","service_id":"`+f.apiKeySvc+`"}`)
	_, revealed := f.api(t, http.MethodGet, "/api/v1/connections/"+conn["id"].(string)+"?reveal=true", f.admin, "")
	key := param(t, revealed, "ChoreoAPIKey", "development")
	require.True(t, strings.HasPrefix(key, "jak_"))

	status, body := f.api(t, http.MethodPost, "/api/v1/api-keys/verify", "", `{"key":"`+key+`"}`)
	require.Equal(t, http.StatusOK, status, "%v", body)
	require.Equal(t, conn["id"], body["connection_id"])
	require.Equal(t, f.apiKeySvc, body["service_id"])
	require.Equal(t, "development", body["environment"])
	status, _ = f.api(t, http.MethodPost, "/api/v1/api-keys/verify", "", `{"key":"jak_nope"}`)
	require.Equal(t, http.StatusUnauthorized, status)
}

func TestAuditAPI(t *testing.T) {
	f := newConnectionFixture(t)
	conn := f.create(t, "/api/v1/projects/shop/connections", f.admin, `{"name":"posts","service_id":"`+f.oauthA+`"}`)
	status, _ := f.api(t, http.MethodGet, "/api/v1/connections/"+conn["id"].(string)+"?reveal=true", f.admin, "")
	require.Equal(t, http.StatusOK, status)
	status, list := f.api(t, http.MethodGet, "/api/v1/audit?action=reveal", f.admin, "")
	require.Equal(t, http.StatusOK, status)
	require.EqualValues(t, 1, list["total"])
	entry := list["items"].([]any)[0].(map[string]any)
	require.Equal(t, "ada@example.com", entry["actor"])
	require.Equal(t, "secret.reveal", entry["action"])
	require.Equal(t, map[string]any{"type": "connection", "id": conn["id"], "name": "posts"}, entry["target"])
	require.Equal(t, "shop", entry["project"])
	require.NotEmpty(t, entry["request_id"])
	require.NotEmpty(t, entry["at"])
	require.Equal(t, "ok", entry["outcome"])
	status, _ = f.api(t, http.MethodGet, "/api/v1/audit", f.viewer, "")
	require.Equal(t, http.StatusForbidden, status, "the audit log is for admins")

	// Authorization denials are recorded as denied, with the action they attempted.
	f.api(t, http.MethodPost, "/api/v1/projects", f.viewer, `{"handle":"nope","name":"Nope"}`)
	status, list = f.api(t, http.MethodGet, "/api/v1/audit?actor=vic&action=project.create", f.admin, "")
	require.Equal(t, http.StatusOK, status)
	require.EqualValues(t, 1, list["total"])
	entry = list["items"].([]any)[0].(map[string]any)
	require.Equal(t, "project.create", entry["action"])
	require.Equal(t, "denied", entry["outcome"])
	status, list = f.api(t, http.MethodGet, "/api/v1/audit?project=shop&action=connection", f.admin, "")
	require.Equal(t, http.StatusOK, status)
	require.EqualValues(t, 1, list["total"], "the connection creation, filtered by project")
	status, list = f.api(t, http.MethodGet, "/api/v1/audit?project=shop&action=reveal", f.admin, "")
	require.Equal(t, http.StatusOK, status)
	require.EqualValues(t, 1, list["total"], "reveals are in their project")
	status, list = f.api(t, http.MethodGet, "/api/v1/audit?target="+conn["id"].(string), f.admin, "")
	require.Equal(t, http.StatusOK, status)
	require.EqualValues(t, 2, list["total"], "the creation and the reveal of the connection")
	status, list = f.api(t, http.MethodGet, "/api/v1/audit?project=sho", f.admin, "")
	require.Equal(t, http.StatusOK, status)
	require.EqualValues(t, 0, list["total"], "a project filter names a whole handle, not a prefix")
	status, _ = f.api(t, http.MethodGet, "/api/v1/audit?since=yesterday", f.admin, "")
	require.Equal(t, http.StatusUnprocessableEntity, status)
}

func TestSignInsAreAudited(t *testing.T) {
	ts := newTestServer(t)
	admin := ts.createUser(t, "ada@example.com", true)
	ts.browser(t).login("ada@example.com", "wrong password")
	ts.browser(t).mustLogin("ada@example.com")
	status, list := ts.api(t, http.MethodGet, "/api/v1/audit?action=session.sign_in", ts.token(t, admin), "")
	require.Equal(t, http.StatusOK, status)
	require.EqualValues(t, 2, list["total"])
	outcomes := []string{}
	for _, e := range list["items"].([]any) {
		entry := e.(map[string]any)
		require.Equal(t, "ada@example.com", entry["actor"])
		require.Equal(t, map[string]any{"method": "password"}, entry["details"])
		require.NotEmpty(t, entry["request_id"])
		outcomes = append(outcomes, entry["outcome"].(string))
	}
	require.ElementsMatch(t, []string{"ok", "denied"}, outcomes)
	b := ts.browser(t)
	b.mustLogin("ada@example.com")
	_, page := b.get("/audit")
	require.Contains(t, page, "session.sign_in")
	require.NotContains(t, page, "wrong password")
	require.Contains(t, page, `data-testid="audit-outcome">denied</span>`, "a denied entry says so on the page")
}
