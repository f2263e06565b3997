package web_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/junction-dev/junction"
	"github.com/junction-dev/junction/db"
	"github.com/junction-dev/junction/internal/pgtest"
	"github.com/junction-dev/junction/web"
)

const testPassword = "correct horse battery"

// TestMain stops the PostgreSQL server that the tests started, if any.
func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// testDatabase returns where a test server keeps its data: a SQLite file under tb.TempDir(),
// or with JUNCTION_TEST_DB=postgres (make test runs the package both ways) a fresh
// PostgreSQL database.
func testDatabase(tb testing.TB) string {
	if os.Getenv("JUNCTION_TEST_DB") == "postgres" {
		return pgtest.NewDatabase(tb)
	}
	return filepath.Join(tb.TempDir(), "junction.db")
}

// testServer is the console over a real database, served by httptest.
type testServer struct {
	*httptest.Server
	dsn    string // the database's path or URL (with its password), for rawSQL
	store  *db.DB
	key    []byte
	svc    web.Services
	server *web.Server
}

func newTestServer(tb testing.TB) *testServer {
	tb.Helper()
	return newTestServerWithLog(tb, io.Discard)
}

// newTestServerWithLog is newTestServer with the server's log written to logs.
func newTestServerWithLog(tb testing.TB, logs io.Writer, opts ...web.Option) *testServer {
	tb.Helper()
	key := make([]byte, 32)
	rand.Read(key)
	dsn := testDatabase(tb)
	store, err := db.Open(context.Background(), dsn, key)
	require.NoError(tb, err)
	tb.Cleanup(func() { store.Close() })
	ts := newTestServerOn(tb, store, key, logs, opts...)
	ts.dsn = dsn
	return ts
}

// rawSQL opens the test server's database directly, on either engine, for tests that read or
// write its tables as an older release or an operator would. Queries use ? placeholders.
func (ts *testServer) rawSQL(tb testing.TB) *rawDB {
	tb.Helper()
	driver := "sqlite3"
	dsn := ts.dsn + "?_busy_timeout=5000"
	if db.IsPostgresURL(ts.dsn) {
		driver, dsn = "pgx", ts.dsn
	}
	conn, err := sql.Open(driver, dsn)
	require.NoError(tb, err)
	tb.Cleanup(func() { conn.Close() })
	return &rawDB{DB: conn, dollar: driver == "pgx"}
}

// rawDB is a database/sql pool whose queries are written with ? placeholders.
type rawDB struct {
	*sql.DB
	dollar bool
}

func (r *rawDB) rebind(q string) string {
	if !r.dollar {
		return q
	}
	var b strings.Builder
	n := 0
	for _, c := range q {
		if c == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

func (r *rawDB) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return r.DB.ExecContext(ctx, r.rebind(q), args...)
}

func (r *rawDB) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	return r.DB.QueryRowContext(ctx, r.rebind(q), args...)
}

// newTestServerOn serves an open database with the installation key, as one replica of many
// would.
func newTestServerOn(tb testing.TB, store *db.DB, key []byte, logs io.Writer, opts ...web.Option) *testServer {
	tb.Helper()
	users := db.NewUserService(store)
	users.PasswordCost = bcrypt.MinCost
	conns := db.NewConnectionService(store, "http://junction.test/oauth2/token")
	svc := web.Services{
		Users:        users,
		Projects:     db.NewProjectService(store),
		Components:   db.NewComponentService(store),
		Environments: db.NewEnvironmentService(store),
		Services:     db.NewServiceService(store),
		Connections:  conns,
		Mappings:     db.NewMappingService(store, conns),
		Audit:        db.NewAuditService(store),
		Ping:         store.Ping,
		SignInLimits: db.NewSignInLimits(store),
	}
	server := web.NewServer(svc, db.DeriveKey(key, "hash"), db.DeriveKey(key, "block"), slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})), opts...)
	ts := &testServer{Server: httptest.NewServer(server), store: store, key: key, svc: svc, server: server}
	tb.Cleanup(ts.Close)
	return ts
}

func (ts *testServer) createUser(tb testing.TB, email string, admin bool) *junction.User {
	tb.Helper()
	user := &junction.User{Email: email, IsAdmin: admin}
	require.NoError(tb, ts.svc.Users.CreateUser(context.Background(), user, testPassword))
	return user
}

func (ts *testServer) token(tb testing.TB, user *junction.User) string {
	tb.Helper()
	_, secret, err := ts.svc.Users.CreateToken(context.Background(), user.ID, "test")
	require.NoError(tb, err)
	return secret
}

// as returns a context acting as user, for arranging data through the services.
func as(user *junction.User) context.Context {
	return junction.NewContextWithUser(context.Background(), user)
}

// browser is an HTTP client with a cookie jar that does not follow redirects.
type browser struct {
	tb     testing.TB
	ts     *testServer
	client *http.Client
}

func (ts *testServer) browser(tb testing.TB) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{tb: tb, ts: ts, client: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

func (b *browser) do(req *http.Request) (*http.Response, string) {
	b.tb.Helper()
	res, err := b.client.Do(req)
	require.NoError(b.tb, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(b.tb, err)
	return res, string(body)
}

func (b *browser) get(path string) (*http.Response, string) {
	req, _ := http.NewRequest(http.MethodGet, b.ts.URL+path, nil)
	return b.do(req)
}

var csrfPattern = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// csrf returns the CSRF token the console puts in its forms.
func (b *browser) csrf() string {
	b.tb.Helper()
	_, body := b.get("/login")
	m := csrfPattern.FindStringSubmatch(body)
	if m == nil {
		// Signed in: /login redirects, so read a page with a form.
		_, body = b.get("/projects")
		m = csrfPattern.FindStringSubmatch(body)
	}
	require.NotNil(b.tb, m, "no CSRF token on the page")
	return m[1]
}

// postFollow submits a form, requires the 303 that ends every successful form post, and
// answers the page it leads to.
func (b *browser) postFollow(path string, values url.Values) (*http.Response, string) {
	b.tb.Helper()
	res, body := b.post(path, values)
	require.Equal(b.tb, http.StatusSeeOther, res.StatusCode, "POST %s: %s", path, body)
	return b.get(res.Header.Get("Location"))
}

// post submits a form with the CSRF token added.
func (b *browser) post(path string, values url.Values) (*http.Response, string) {
	if values == nil {
		values = url.Values{}
	}
	values.Set("csrf_token", b.csrf())
	return b.postRaw(path, values)
}

func (b *browser) postRaw(path string, values url.Values) (*http.Response, string) {
	req, _ := http.NewRequest(http.MethodPost, b.ts.URL+path, strings.NewReader(values.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

func (b *browser) login(email, password string) (*http.Response, string) {
	return b.post("/login", url.Values{"email": {email}, "password": {password}})
}

func (b *browser) mustLogin(email string) {
	b.tb.Helper()
	res, _ := b.login(email, testPassword)
	require.Equal(b.tb, http.StatusSeeOther, res.StatusCode)
}

// api sends a JSON request with a bearer token and decodes the JSON answer.
func (ts *testServer) api(tb testing.TB, method, path, token, body string) (int, map[string]any) {
	tb.Helper()
	req, _ := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(tb, err)
	defer res.Body.Close()
	var out map[string]any
	if res.StatusCode != http.StatusNoContent {
		require.Contains(tb, res.Header.Get("Content-Type"), "application/json")
		require.NoError(tb, json.NewDecoder(res.Body).Decode(&out))
	}
	return res.StatusCode, out
}

// apiError returns the code and field messages of a JSON error answer.
func apiError(tb testing.TB, body map[string]any) (string, map[string]any) {
	tb.Helper()
	e, ok := body["error"].(map[string]any)
	require.True(tb, ok, "not an error body: %v", body)
	require.NotEmpty(tb, e["message"])
	fields, _ := e["fields"].(map[string]any)
	return e["code"].(string), fields
}

func TestHealthz(t *testing.T) {
	ts := newTestServer(t)
	res, body := ts.browser(t).get("/healthz")
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Equal(t, "ok", body)
}

func TestSecurityHeaders(t *testing.T) {
	ts := newTestServer(t)
	res, body := ts.browser(t).get("/login")
	require.Equal(t, http.StatusOK, res.StatusCode)
	csp := res.Header.Get("Content-Security-Policy")
	require.Contains(t, csp, "script-src 'self'")
	require.NotContains(t, csp, "unsafe-inline")
	require.NotContains(t, csp, "unsafe-eval")
	require.Equal(t, "nosniff", res.Header.Get("X-Content-Type-Options"))
	require.Equal(t, "DENY", res.Header.Get("X-Frame-Options"))
	require.Equal(t, "no-store", res.Header.Get("Cache-Control"))
	require.NotRegexp(t, `<script>|<script [^>]*>[^<]`, body, "inline script on the page")
	require.Regexp(t, `includeIndicatorStyles(&#34;|"):false`, body, "htmx must not inject inline styles")
}

func TestStaticFiles(t *testing.T) {
	ts := newTestServer(t)
	b := ts.browser(t)
	_, page := b.get("/login")
	for _, name := range []string{"htmx.min", "app", "pico.min"} {
		m := regexp.MustCompile(`/static/` + regexp.QuoteMeta(name) + `\.[0-9a-f]{10}\.(js|css)`).FindString(page)
		require.NotEmpty(t, m, "page does not link %s by hashed URL", name)
		res, body := b.get(m)
		require.Equal(t, http.StatusOK, res.StatusCode)
		require.Equal(t, "public, max-age=31536000, immutable", res.Header.Get("Cache-Control"))
		require.NotEmpty(t, body)
	}
	res, _ := b.get("/static/htmx.min.js")
	require.Equal(t, http.StatusNotFound, res.StatusCode, "unhashed names are not served")
}

func TestLogin(t *testing.T) {
	ts := newTestServer(t)
	ts.createUser(t, "ada@example.com", true)

	t.Run("ErrWrongPassword", func(t *testing.T) {
		res, body := ts.browser(t).login("ada@example.com", "wrong password")
		require.Equal(t, http.StatusUnauthorized, res.StatusCode)
		require.Contains(t, body, "Incorrect e-mail or password.")
		require.Contains(t, body, `value="ada@example.com"`, "the typed e-mail is kept")
	})
	t.Run("ErrUnknownUserSameMessage", func(t *testing.T) {
		res, body := ts.browser(t).login("nobody@example.com", "wrong password")
		require.Equal(t, http.StatusUnauthorized, res.StatusCode)
		require.Contains(t, body, "Incorrect e-mail or password.")
	})
	t.Run("OK", func(t *testing.T) {
		b := ts.browser(t)
		_, _ = b.get("/login")
		before := sessionCookie(t, b)
		res, _ := b.login("ADA@example.com", testPassword)
		require.Equal(t, http.StatusSeeOther, res.StatusCode)
		require.Equal(t, "/services", res.Header.Get("Location"), "users start in the catalog")
		var set *http.Cookie
		for _, c := range res.Cookies() {
			if c.Name == "junction_session" {
				set = c
			}
		}
		require.NotNil(t, set, "login sets the session cookie")
		require.True(t, set.HttpOnly)
		require.Equal(t, http.SameSiteLaxMode, set.SameSite)
		require.False(t, set.Secure, "plain http test server")
		require.NotEqual(t, before, set.Value, "session renewed on login")

		res, body := b.get("/projects")
		require.Equal(t, http.StatusOK, res.StatusCode)
		require.Contains(t, body, "ada@example.com")
	})
	t.Run("NextIsLocalOnly", func(t *testing.T) {
		for next, want := range map[string]string{
			"/projects/x?tab=1":    "/projects/x?tab=1",
			"//evil.example/":      "/services",
			"https://evil.example": "/services",
			"/\\evil.example":      "/services",
		} {
			b := ts.browser(t)
			res, _ := b.post("/login", url.Values{"email": {"ada@example.com"}, "password": {testPassword}, "next": {next}})
			require.Equal(t, want, res.Header.Get("Location"), next)
		}
	})
}

func sessionCookie(t *testing.T, b *browser) string {
	u, _ := url.Parse(b.ts.URL)
	for _, c := range b.client.Jar.Cookies(u) {
		if c.Name == "junction_session" {
			return c.Value
		}
	}
	return ""
}

func TestLogoutEndsSessionServerSide(t *testing.T) {
	ts := newTestServer(t)
	ts.createUser(t, "ada@example.com", true)
	b := ts.browser(t)
	b.mustLogin("ada@example.com")
	stolen := sessionCookie(t, b)

	res, _ := b.post("/logout", nil)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	require.Equal(t, "/login", res.Header.Get("Location"))

	// Replaying the cookie from before sign-out no longer works.
	req, _ := http.NewRequest(http.MethodGet, ts.URL+"/projects", nil)
	req.AddCookie(&http.Cookie{Name: "junction_session", Value: stolen})
	res, err := http.DefaultTransport.RoundTrip(req)
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	require.Equal(t, "/login?next=%2Fprojects", res.Header.Get("Location"))
}

func TestSignInRequired(t *testing.T) {
	ts := newTestServer(t)
	res, _ := ts.browser(t).get("/projects/shop?tab=members")
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	require.Equal(t, "/login?next="+url.QueryEscape("/projects/shop?tab=members"), res.Header.Get("Location"))

	status, body := ts.api(t, http.MethodGet, "/api/v1/projects", "", "")
	require.Equal(t, http.StatusUnauthorized, status)
	code, _ := apiError(t, body)
	require.Equal(t, "unauthorized", code)

	status, body = ts.api(t, http.MethodGet, "/api/v1/projects", "jct_notatoken", "")
	require.Equal(t, http.StatusUnauthorized, status)
	code, _ = apiError(t, body)
	require.Equal(t, "unauthorized", code)
}

func TestCSRF(t *testing.T) {
	ts := newTestServer(t)
	admin := ts.createUser(t, "ada@example.com", true)
	b := ts.browser(t)
	b.mustLogin("ada@example.com")

	t.Run("ErrFormWithoutToken", func(t *testing.T) {
		res, body := b.postRaw("/projects", url.Values{"name": {"Shop"}})
		require.Equal(t, http.StatusForbidden, res.StatusCode)
		require.Contains(t, body, "Reload the page")
	})
	t.Run("ErrWrongToken", func(t *testing.T) {
		res, _ := b.postRaw("/projects", url.Values{"name": {"Shop"}, "csrf_token": {"forged"}})
		require.Equal(t, http.StatusForbidden, res.StatusCode)
	})
	t.Run("ErrLoginWithoutToken", func(t *testing.T) {
		res, _ := ts.browser(t).postRaw("/login", url.Values{"email": {"ada@example.com"}, "password": {testPassword}})
		require.Equal(t, http.StatusForbidden, res.StatusCode)
	})
	t.Run("ErrCookieAPIWriteWithoutHeader", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, ts.URL+"/api/v1/projects", strings.NewReader(`{"handle":"shop","name":"Shop"}`))
		res, body := b.do(req)
		require.Equal(t, http.StatusForbidden, res.StatusCode)
		require.Contains(t, body, `"code":"forbidden"`)
	})
	t.Run("CookieAPIWriteWithHeader", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, ts.URL+"/api/v1/projects", strings.NewReader(`{"handle":"shop","name":"Shop"}`))
		req.Header.Set("X-CSRF-Token", b.csrf())
		res, _ := b.do(req)
		require.Equal(t, http.StatusCreated, res.StatusCode)
	})
	t.Run("BearerNeedsNoToken", func(t *testing.T) {
		status, _ := ts.api(t, http.MethodPost, "/api/v1/projects", ts.token(t, admin), `{"handle":"blog","name":"Blog"}`)
		require.Equal(t, http.StatusCreated, status)
	})
}

func TestProjectForms(t *testing.T) {
	ts := newTestServer(t)
	ts.createUser(t, "ada@example.com", true)
	b := ts.browser(t)
	b.mustLogin("ada@example.com")

	t.Run("OK", func(t *testing.T) {
		res, _ := b.post("/projects", url.Values{"name": {"Online Shop"}, "handle": {""}, "description": {"Checkout"}})
		require.Equal(t, http.StatusSeeOther, res.StatusCode)
		require.Equal(t, "/projects/online-shop", res.Header.Get("Location"))
		res, body := b.get("/projects/online-shop")
		require.Equal(t, http.StatusOK, res.StatusCode)
		require.Contains(t, body, "Project Online Shop created.", "flash shown once")
		_, body = b.get("/projects/online-shop")
		require.NotContains(t, body, "Project Online Shop created.")
	})
	t.Run("ErrInvalidHandleKeepsValues", func(t *testing.T) {
		res, body := b.post("/projects", url.Values{"name": {"Billing ✓"}, "handle": {"Bad Handle!"}, "description": {"kept text"}})
		require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
		require.Contains(t, body, `data-testid="error-handle"`)
		require.Contains(t, body, `value="Bad Handle!"`)
		require.Contains(t, body, `value="Billing ✓"`)
		require.Contains(t, body, "kept text")
		require.Contains(t, body, `aria-invalid="true"`)
	})
	t.Run("ErrMissingName", func(t *testing.T) {
		res, body := b.post("/projects", url.Values{"handle": {"billing"}})
		require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
		require.Contains(t, body, `data-testid="error-name"`)
	})
	t.Run("ErrDuplicateHandle", func(t *testing.T) {
		res, body := b.post("/projects", url.Values{"name": {"Other"}, "handle": {"online-shop"}})
		require.Equal(t, http.StatusConflict, res.StatusCode)
		require.Contains(t, body, "already exists")
	})
	t.Run("Rename", func(t *testing.T) {
		res, _ := b.post("/projects/online-shop", url.Values{"name": {"Web Shop"}, "description": {""}})
		require.Equal(t, http.StatusSeeOther, res.StatusCode)
		_, body := b.get("/projects/online-shop")
		require.Contains(t, body, "<h1>Web Shop</h1>")
	})
	t.Run("DeleteAsksWhenComponentsExist", func(t *testing.T) {
		res, _ := b.post("/projects/online-shop/components", url.Values{"name": {"Orders"}, "type": {"service"}})
		require.Equal(t, http.StatusSeeOther, res.StatusCode)
		require.Equal(t, "/projects/online-shop/components/orders", res.Header.Get("Location"))

		res, body := b.post("/projects/online-shop/delete", nil)
		require.Equal(t, http.StatusOK, res.StatusCode)
		require.Contains(t, body, `data-testid="confirm-delete"`)
		require.Contains(t, body, "Orders")
		res, _ = b.get("/projects/online-shop")
		require.Equal(t, http.StatusOK, res.StatusCode, "not deleted without confirmation")

		res, _ = b.post("/projects/online-shop/delete", url.Values{"confirm": {"yes"}})
		require.Equal(t, http.StatusSeeOther, res.StatusCode)
		res, _ = b.get("/projects/online-shop")
		require.Equal(t, http.StatusNotFound, res.StatusCode)
	})
}

func TestComponentForms(t *testing.T) {
	ts := newTestServer(t)
	admin := ts.createUser(t, "ada@example.com", true)
	require.NoError(t, ts.svc.Projects.CreateProject(as(admin), &junction.Project{Handle: "shop", Name: "Shop"}))
	b := ts.browser(t)
	b.mustLogin("ada@example.com")

	res, body := b.post("/projects/shop/components", url.Values{"name": {""}, "handle": {"x"}, "type": {"robot"}})
	require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	for _, field := range []string{"name", "handle", "type"} {
		require.Contains(t, body, `data-testid="error-`+field+`"`)
	}
	res, _ = b.post("/projects/shop/components", url.Values{"name": {"Orders API"}, "handle": {"orders"}, "type": {"service"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	res, _ = b.post("/projects/shop/components", url.Values{"name": {"Orders again"}, "handle": {"orders"}, "type": {"service"}})
	require.Equal(t, http.StatusConflict, res.StatusCode)

	res, _ = b.post("/projects/shop/components/orders", url.Values{"name": {"Orders"}, "type": {"webhook"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	_, body = b.get("/projects/shop/components/orders")
	require.Contains(t, body, "webhook")

	res, body = b.post("/projects/shop/components/orders/delete", nil)
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Contains(t, body, `data-testid="confirm-delete"`)
	res, _ = b.post("/projects/shop/components/orders/delete", url.Values{"confirm": {"yes"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	res, _ = b.get("/projects/shop/components/orders")
	require.Equal(t, http.StatusNotFound, res.StatusCode)
}

func TestRoles(t *testing.T) {
	ts := newTestServer(t)
	admin := ts.createUser(t, "ada@example.com", true)
	viewer := ts.createUser(t, "vic@example.com", false)
	outsider := ts.createUser(t, "olga@example.com", false)
	ctx := as(admin)
	require.NoError(t, ts.svc.Projects.CreateProject(ctx, &junction.Project{Handle: "shop", Name: "Shop"}))
	require.NoError(t, ts.svc.Components.CreateComponent(ctx, "shop", &junction.Component{Handle: "orders", Name: "Orders"}))
	_, err := ts.svc.Projects.SetMember(ctx, "shop", "vic@example.com", junction.RoleViewer)
	require.NoError(t, err)

	t.Run("ViewerReadsOnly", func(t *testing.T) {
		b := ts.browser(t)
		b.mustLogin("vic@example.com")
		res, body := b.get("/projects/shop")
		require.Equal(t, http.StatusOK, res.StatusCode)
		require.Contains(t, body, "Orders")
		require.NotContains(t, body, `data-testid="new-component"`)
		require.NotContains(t, body, `data-testid="delete-project"`)
		require.NotContains(t, body, `data-testid="member-form"`)
		_, body = b.get("/projects")
		require.NotContains(t, body, `data-testid="new-project"`)

		res, _ = b.post("/projects/shop/components", url.Values{"name": {"Sneaky"}})
		require.Equal(t, http.StatusForbidden, res.StatusCode)
		res, _ = b.get("/projects/shop/components/new")
		require.Equal(t, http.StatusForbidden, res.StatusCode)

		token := ts.token(t, viewer)
		status, _ := ts.api(t, http.MethodGet, "/api/v1/projects/shop/components", token, "")
		require.Equal(t, http.StatusOK, status)
		status, body2 := ts.api(t, http.MethodPost, "/api/v1/projects/shop/components", token, `{"handle":"sneaky","name":"Sneaky"}`)
		require.Equal(t, http.StatusForbidden, status)
		code, _ := apiError(t, body2)
		require.Equal(t, "forbidden", code)
		status, _ = ts.api(t, http.MethodDelete, "/api/v1/projects/shop/components/orders", token, "")
		require.Equal(t, http.StatusForbidden, status)
	})
	t.Run("NonMemberGets404", func(t *testing.T) {
		b := ts.browser(t)
		b.mustLogin("olga@example.com")
		for _, path := range []string{"/projects/shop", "/projects/shop/components/orders", "/projects/shop/components/new"} {
			res, body := b.get(path)
			require.Equal(t, http.StatusNotFound, res.StatusCode, path)
			require.Contains(t, body, `data-testid="error-404"`)
		}
		_, body := b.get("/projects")
		require.NotContains(t, body, "/projects/shop")

		token := ts.token(t, outsider)
		for _, path := range []string{"/api/v1/projects/shop", "/api/v1/projects/shop/components", "/api/v1/projects/shop/components/orders", "/api/v1/projects/shop/members"} {
			status, body := ts.api(t, http.MethodGet, path, token, "")
			require.Equal(t, http.StatusNotFound, status, path)
			code, _ := apiError(t, body)
			require.Equal(t, "not_found", code)
		}
		status, _ := ts.api(t, http.MethodPatch, "/api/v1/projects/shop", token, `{"name":"Mine"}`)
		require.Equal(t, http.StatusNotFound, status)
		status, _ = ts.api(t, http.MethodDelete, "/api/v1/projects/shop?force=true", token, "")
		require.Equal(t, http.StatusNotFound, status)
	})
	t.Run("AdminManagesMembers", func(t *testing.T) {
		b := ts.browser(t)
		b.mustLogin("ada@example.com")
		res, _ := b.post("/projects/shop/members", url.Values{"email": {"olga@example.com"}, "role": {"developer"}})
		require.Equal(t, http.StatusSeeOther, res.StatusCode)
		res, body := b.post("/projects/shop/members", url.Values{"email": {"ghost@example.com"}, "role": {"developer"}})
		require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
		require.Contains(t, body, `data-testid="error-email"`)
		require.Contains(t, body, `value="ghost@example.com"`)

		olga := ts.browser(t)
		olga.mustLogin("olga@example.com")
		res, body = olga.get("/projects/shop")
		require.Equal(t, http.StatusOK, res.StatusCode)
		require.Contains(t, body, `data-testid="new-component"`)

		res, _ = b.post("/projects/shop/members/remove", url.Values{"email": {"olga@example.com"}})
		require.Equal(t, http.StatusSeeOther, res.StatusCode)
		res, _ = olga.get("/projects/shop")
		require.Equal(t, http.StatusNotFound, res.StatusCode)
	})
}

func TestAPI(t *testing.T) {
	ts := newTestServer(t)
	admin := ts.createUser(t, "ada@example.com", true)
	ts.createUser(t, "dev@example.com", false)
	token := ts.token(t, admin)

	t.Run("Projects", func(t *testing.T) {
		status, body := ts.api(t, http.MethodPost, "/api/v1/projects", token, `{"handle":"shop","name":"Shop","description":"d"}`)
		require.Equal(t, http.StatusCreated, status)
		require.Equal(t, "shop", body["handle"])
		require.Equal(t, "Shop", body["name"])
		require.Equal(t, "d", body["description"])

		status, body = ts.api(t, http.MethodPost, "/api/v1/projects", token, `{"handle":"Shop!","name":""}`)
		require.Equal(t, http.StatusUnprocessableEntity, status)
		code, fields := apiError(t, body)
		require.Equal(t, "invalid", code)
		require.Contains(t, fields, "handle")
		require.Contains(t, fields, "name")

		status, body = ts.api(t, http.MethodPost, "/api/v1/projects", token, `{"handle":"shop","name":"Again"}`)
		require.Equal(t, http.StatusConflict, status)
		code, _ = apiError(t, body)
		require.Equal(t, "conflict", code)

		status, body = ts.api(t, http.MethodPatch, "/api/v1/projects/shop", token, `{"name":"Web Shop"}`)
		require.Equal(t, http.StatusOK, status)
		require.Equal(t, "Web Shop", body["name"])
		require.Equal(t, "d", body["description"], "PATCH keeps fields it does not name")

		status, body = ts.api(t, http.MethodGet, "/api/v1/projects", token, "")
		require.Equal(t, http.StatusOK, status)
		require.EqualValues(t, 1, body["total"])
		require.EqualValues(t, 1, body["page"])
		require.EqualValues(t, 50, body["per_page"])
		require.Len(t, body["items"], 1)

		status, body = ts.api(t, http.MethodGet, "/api/v1/projects?per_page=1000", token, "")
		require.Equal(t, http.StatusOK, status)
		require.EqualValues(t, 200, body["per_page"])
	})
	t.Run("BadRequests", func(t *testing.T) {
		for _, tc := range []struct{ method, path, body string }{
			{http.MethodPost, "/api/v1/projects", `{"handle":`},
			{http.MethodPost, "/api/v1/projects", ``},
			{http.MethodPost, "/api/v1/projects", `{"handle":42}`},
			{http.MethodPost, "/api/v1/projects", `[1,2]`},
			{http.MethodGet, "/api/v1/projects?page=abc", ``},
			{http.MethodGet, "/api/v1/projects?per_page=-1", ``},
		} {
			status, body := ts.api(t, tc.method, tc.path, token, tc.body)
			require.Equal(t, http.StatusBadRequest, status, "%s %s %s", tc.method, tc.path, tc.body)
			code, _ := apiError(t, body)
			require.Equal(t, "bad_request", code)
		}
		status, body := ts.api(t, http.MethodGet, "/api/v1/no-such-thing", token, "")
		require.Equal(t, http.StatusNotFound, status)
		code, _ := apiError(t, body)
		require.Equal(t, "not_found", code)
	})
	t.Run("Components", func(t *testing.T) {
		status, body := ts.api(t, http.MethodPost, "/api/v1/projects/shop/components", token, `{"handle":"orders","name":"Orders","type":"service"}`)
		require.Equal(t, http.StatusCreated, status)
		require.Equal(t, "orders", body["handle"])
		require.Equal(t, "shop", body["project"])
		require.Equal(t, "service", body["type"])

		status, body = ts.api(t, http.MethodPost, "/api/v1/projects/shop/components", token, `{"handle":"x","name":"X","type":"robot"}`)
		require.Equal(t, http.StatusUnprocessableEntity, status)
		_, fields := apiError(t, body)
		require.Contains(t, fields, "handle")
		require.Contains(t, fields, "type")

		status, body = ts.api(t, http.MethodGet, "/api/v1/projects/shop/components/orders", token, "")
		require.Equal(t, http.StatusOK, status)
		require.Equal(t, "Orders", body["name"])

		status, _ = ts.api(t, http.MethodDelete, "/api/v1/projects/shop", token, "")
		require.Equal(t, http.StatusConflict, status, "project with components needs force")

		// DELETE answers the component as it was (DESIGN: the answer is "component").
		status, body = ts.api(t, http.MethodDelete, "/api/v1/projects/shop/components/orders", token, "")
		require.Equal(t, http.StatusOK, status)
		require.Equal(t, "orders", body["handle"])
		status, _ = ts.api(t, http.MethodGet, "/api/v1/projects/shop/components/orders", token, "")
		require.Equal(t, http.StatusNotFound, status)
	})
	t.Run("Members", func(t *testing.T) {
		status, body := ts.api(t, http.MethodPut, "/api/v1/projects/shop/members/dev%40example.com", token, `{"role":"viewer"}`)
		require.Equal(t, http.StatusOK, status)
		require.Equal(t, map[string]any{"email": "dev@example.com", "role": "viewer"}, body)

		status, body = ts.api(t, http.MethodPut, "/api/v1/projects/shop/members/dev@example.com", token, `{"role":"owner"}`)
		require.Equal(t, http.StatusUnprocessableEntity, status)
		_, fields := apiError(t, body)
		require.Contains(t, fields, "role")

		status, body = ts.api(t, http.MethodGet, "/api/v1/projects/shop/members", token, "")
		require.Equal(t, http.StatusOK, status)
		require.Equal(t, []any{map[string]any{"email": "dev@example.com", "role": "viewer"}}, body["items"])

		status, body = ts.api(t, http.MethodDelete, "/api/v1/projects/shop/members/dev@example.com", token, "")
		require.Equal(t, http.StatusOK, status)
		require.Equal(t, map[string]any{"email": "dev@example.com", "role": "viewer"}, body)
		status, _ = ts.api(t, http.MethodDelete, "/api/v1/projects/shop/members/dev@example.com", token, "")
		require.Equal(t, http.StatusNotFound, status)
	})
	t.Run("Environments", func(t *testing.T) {
		status, body := ts.api(t, http.MethodGet, "/api/v1/environments", token, "")
		require.Equal(t, http.StatusOK, status)
		require.Equal(t, []any{map[string]any{"name": "development"}, map[string]any{"name": "production"}}, body["items"])
		status, _ = ts.api(t, http.MethodPost, "/api/v1/environments", token, `{"name":"staging"}`)
		require.Equal(t, http.StatusCreated, status)
		status, _ = ts.api(t, http.MethodPost, "/api/v1/environments", token, `{"name":"staging"}`)
		require.Equal(t, http.StatusConflict, status)
	})
}

func TestErrorPages(t *testing.T) {
	ts := newTestServer(t)
	ts.createUser(t, "ada@example.com", true)
	b := ts.browser(t)
	b.mustLogin("ada@example.com")
	res, body := b.get("/no/such/page")
	require.Equal(t, http.StatusNotFound, res.StatusCode)
	require.Contains(t, res.Header.Get("Content-Type"), "text/html")
	require.Contains(t, body, "Page not found")
	require.Contains(t, body, `<nav class="container"`, "the error page has the layout")
}

// TestNoInputCauses500 throws awkward input at every form and API body: nothing a user
// types may produce a server error.
func TestNoInputCauses500(t *testing.T) {
	ts := newTestServer(t)
	admin := ts.createUser(t, "ada@example.com", true)
	require.NoError(t, ts.svc.Projects.CreateProject(as(admin), &junction.Project{Handle: "shop", Name: "Shop"}))
	token := ts.token(t, admin)
	b := ts.browser(t)
	b.mustLogin("ada@example.com")
	nasty := []string{"", " ", "'; DROP TABLE projects; --", "%_\\", "<script>alert(1)</script>", strings.Repeat("x", 5000),
		"\x00", "ünïcødé-名前", "../../etc/passwd", "a\r\nb", `{"a":`, "🙂"}
	for _, s := range nasty {
		for _, path := range []string{"/projects", "/projects/shop", "/projects/shop/components", "/projects/shop/members", "/projects/shop/members/remove", "/environments", "/login"} {
			res, _ := b.post(path, url.Values{"name": {s}, "handle": {s}, "description": {s}, "type": {s}, "email": {s}, "role": {s}, "password": {s}})
			require.Less(t, res.StatusCode, 500, "POST %s with %q", path, s)
		}
		res, _ := b.get("/projects?q=" + url.QueryEscape(s))
		require.Equal(t, http.StatusOK, res.StatusCode, s)
		body, _ := json.Marshal(map[string]string{"handle": s, "name": s, "description": s, "type": s, "role": s})
		for _, path := range []string{"/api/v1/projects", "/api/v1/projects/shop/components", "/api/v1/environments"} {
			status, _ := ts.api(t, http.MethodPost, path, token, string(body))
			require.Less(t, status, 500, "POST %s with %q", path, s)
		}
		status, _ := ts.api(t, http.MethodPut, "/api/v1/projects/shop/members/"+url.PathEscape(s+"@x"), token, string(body))
		require.Less(t, status, 500)
		status, _ = ts.api(t, http.MethodGet, "/api/v1/projects/"+url.PathEscape(s), token, "")
		require.Less(t, status, 500)
	}
}

func TestAccountTokens(t *testing.T) {
	ts := newTestServer(t)
	ada := ts.createUser(t, "ada@example.com", false)
	other := ts.createUser(t, "bob@example.com", false)
	otherToken := ts.token(t, other)
	b := ts.browser(t)
	b.mustLogin("ada@example.com")

	res, body := b.get("/account")
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Contains(t, body, "You have no tokens yet.")

	res, body = b.post("/account/tokens", url.Values{"name": {strings.Repeat("x", 101)}})
	require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	require.Contains(t, body, `data-testid="error-name"`)

	res, body = b.post("/account/tokens", url.Values{"name": {"CI deploys"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	require.Equal(t, "/account/tokens", res.Header.Get("Location"))
	require.NotContains(t, res.Header.Get("Location")+body, "jct_", "the token is not in the redirect")
	res, body = b.get("/account/tokens")
	require.Equal(t, http.StatusOK, res.StatusCode)
	secret := regexp.MustCompile(`jct_[a-z2-7]+`).FindString(body)
	require.NotEmpty(t, secret, "the new token is shown")
	require.Contains(t, body, "CI deploys")
	require.Contains(t, body, secret[:8]+"…", "the list shows the prefix")

	// A reload shows the page without the secret and creates nothing.
	_, body = b.get("/account/tokens")
	require.NotContains(t, body, secret)
	tokens, err := ts.svc.Users.FindTokens(as(ada))
	require.NoError(t, err)
	require.Len(t, tokens, 1)
	require.Equal(t, secret[:8], tokens[0].Prefix)
	require.Equal(t, "ada@example.com", tokens[0].CreatedBy)

	status, me := ts.api(t, http.MethodGet, "/api/v1/me", secret, "")
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "ada@example.com", me["email"])

	_, body = b.get("/account")
	require.NotContains(t, body, secret, "shown once only")
	require.Contains(t, body, "CI deploys")
	m := regexp.MustCompile(`/account/tokens/(\d+)/delete`).FindStringSubmatch(body)
	require.NotNil(t, m)

	// Someone else's token cannot be revoked, and unknown IDs are 404 alike.
	otherTokens, err := ts.svc.Users.FindTokens(as(other))
	require.NoError(t, err)
	require.Len(t, otherTokens, 1)
	for _, id := range []string{strconv.FormatInt(otherTokens[0].ID, 10), "999999", "abc"} {
		res, _ = b.post("/account/tokens/"+id+"/delete", nil)
		require.Equal(t, http.StatusNotFound, res.StatusCode, id)
	}
	status, _ = ts.api(t, http.MethodGet, "/api/v1/me", otherToken, "")
	require.Equal(t, http.StatusOK, status)

	res, _ = b.post("/account/tokens/"+m[1]+"/delete", nil)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	status, _ = ts.api(t, http.MethodGet, "/api/v1/me", secret, "")
	require.Equal(t, http.StatusUnauthorized, status, "a revoked token stops working at once")

	// Without a name the token gets one.
	_, body = b.postFollow("/account/tokens", url.Values{"name": {""}})
	require.Regexp(t, `Token “token \d{4}-\d{2}-\d{2} \d{2}:\d{2}” created`, body)
	res, _ = b.get("/account/tokens/1/delete")
	require.Equal(t, http.StatusSeeOther, res.StatusCode, "a GET on the form target goes to its page, no 405")
	require.Equal(t, "/account/tokens", res.Header.Get("Location"))
}

func TestSecureCookieBehindTLSProxy(t *testing.T) {
	ts := newTestServer(t)
	req, _ := http.NewRequest(http.MethodGet, ts.URL+"/login", nil)
	req.Header.Set("X-Forwarded-Proto", "https")
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	var session *http.Cookie
	for _, c := range res.Cookies() {
		if c.Name == "junction_session" {
			session = c
		}
	}
	require.NotNil(t, session)
	require.True(t, session.Secure, "the session cookie is Secure when the browser uses HTTPS")
	require.Contains(t, res.Header.Get("Strict-Transport-Security"), "max-age=")
}

func TestSignInRateLimit(t *testing.T) {
	ts := newTestServer(t)
	ts.createUser(t, "ada@example.com", false)
	b := ts.browser(t)
	for i := range 10 {
		res, _ := b.login("ada@example.com", "wrong password")
		require.Equal(t, http.StatusUnauthorized, res.StatusCode, "attempt %d", i+1)
	}
	res, body := b.login("ada@example.com", testPassword)
	require.Equal(t, http.StatusTooManyRequests, res.StatusCode, "even the right password waits")
	require.Contains(t, body, "Too many sign-in attempts")
	require.Equal(t, "60", res.Header.Get("Retry-After"))

	// Another account from the same client is not affected.
	ts.createUser(t, "bob@example.com", false)
	res, _ = b.login("bob@example.com", testPassword)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
}

// TestSignInRateLimitAcrossReplicas: the attempts are counted in the database, so two
// servers on it (two replicas behind a load balancer) share one allowance.
func TestSignInRateLimitAcrossReplicas(t *testing.T) {
	a := newTestServer(t)
	b := newTestServerOn(t, a.store, a.key, io.Discard)
	a.createUser(t, "ada@example.com", false)
	onA, onB := a.browser(t), b.browser(t)
	for i := range 10 {
		on := onA
		if i%2 == 1 {
			on = onB
		}
		res, _ := on.login("ada@example.com", "wrong password")
		require.Equal(t, http.StatusUnauthorized, res.StatusCode, "attempt %d", i+1)
	}
	for _, on := range []*browser{onA, onB} {
		res, _ := on.login("ada@example.com", testPassword)
		require.Equal(t, http.StatusTooManyRequests, res.StatusCode, "both replicas count the ten attempts")
	}
}

func TestHealthzAnswers503WithoutDatabase(t *testing.T) {
	ts := newTestServer(t)
	res, err := http.Get(ts.URL + "/healthz")
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)

	require.NoError(t, ts.store.Close())
	res, err = http.Get(ts.URL + "/healthz")
	require.NoError(t, err)
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	require.Equal(t, http.StatusServiceUnavailable, res.StatusCode)
	require.Equal(t, "database unavailable", string(body))
	req, _ := http.NewRequest(http.MethodHead, ts.URL+"/healthz", nil)
	res, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusServiceUnavailable, res.StatusCode)
}

func TestAPIDeleteProjectAnswersProject(t *testing.T) {
	ts := newTestServer(t)
	admin := ts.createUser(t, "ada@example.com", true)
	token := ts.token(t, admin)
	status, _ := ts.api(t, http.MethodPost, "/api/v1/projects", token, `{"handle":"shop","name":"Shop"}`)
	require.Equal(t, http.StatusCreated, status)
	status, _ = ts.api(t, http.MethodPost, "/api/v1/projects/shop/components", token, `{"handle":"orders","name":"Orders"}`)
	require.Equal(t, http.StatusCreated, status)

	status, body := ts.api(t, http.MethodDelete, "/api/v1/projects/shop?force=true", token, "")
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "shop", body["handle"])
	status, _ = ts.api(t, http.MethodGet, "/api/v1/projects/shop/components/orders", token, "")
	require.Equal(t, http.StatusNotFound, status, "force deletes the components too")
}

func TestAPIMethodNotAllowed(t *testing.T) {
	ts := newTestServer(t)
	admin := ts.createUser(t, "ada@example.com", true)
	status, body := ts.api(t, http.MethodPut, "/api/v1/projects", ts.token(t, admin), `{}`)
	require.Equal(t, http.StatusMethodNotAllowed, status)
	code, _ := apiError(t, body)
	require.Equal(t, "method_not_allowed", code)
	status, body = ts.api(t, http.MethodGet, "/api/v1/nothing/here", ts.token(t, admin), "")
	require.Equal(t, http.StatusNotFound, status)
	code, _ = apiError(t, body)
	require.Equal(t, "not_found", code)
}

func TestAPIListsArePaged(t *testing.T) {
	ts := newTestServer(t)
	admin := ts.createUser(t, "ada@example.com", true)
	token := ts.token(t, admin)
	status, body := ts.api(t, http.MethodGet, "/api/v1/environments?per_page=1&page=2", token, "")
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, []any{map[string]any{"name": "production"}}, body["items"])
	require.EqualValues(t, 2, body["total"])
	require.EqualValues(t, 2, body["page"])
	require.EqualValues(t, 1, body["per_page"])
	status, body = ts.api(t, http.MethodGet, "/api/v1/environments?page=9", token, "")
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, []any{}, body["items"])
}

func TestUsersPage(t *testing.T) {
	ts := newTestServer(t)
	ts.createUser(t, "ada@example.com", true)
	ts.createUser(t, "bob@example.com", false)
	admin := ts.browser(t)
	admin.mustLogin("ada@example.com")

	res, body := admin.get("/users")
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Contains(t, body, "bob@example.com")
	require.Contains(t, body, `href="/users"`, "admins see Users in the navigation")

	res, body = admin.post("/users", url.Values{"email": {"carol at example"}, "password": {"short"}})
	require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	require.Contains(t, body, `data-testid="error-email"`)
	require.Contains(t, body, `data-testid="error-password"`)
	require.Contains(t, body, `value="carol at example"`)

	res, _ = admin.post("/users", url.Values{"email": {"carol@example.com"}, "password": {"carols password"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	res, _ = admin.post("/users", url.Values{"email": {"Carol@example.com"}, "password": {"carols password"}})
	require.Equal(t, http.StatusConflict, res.StatusCode)

	carol := ts.browser(t)
	res, _ = carol.login("carol@example.com", "carols password")
	require.Equal(t, http.StatusSeeOther, res.StatusCode, "the new user can sign in")
	res, body = carol.get("/users")
	require.Equal(t, http.StatusForbidden, res.StatusCode)
	require.NotContains(t, body, "bob@example.com")
	_, body = carol.get("/projects")
	require.NotContains(t, body, `href="/users"`)
	res, _ = carol.post("/users", url.Values{"email": {"eve@example.com"}, "password": {"eves password"}})
	require.Equal(t, http.StatusForbidden, res.StatusCode)
}

func TestProjectsPagerKeepsTheFilter(t *testing.T) {
	ts := newTestServer(t)
	admin := ts.createUser(t, "ada@example.com", true)
	for _, h := range []string{"shop-eu", "shop-us", "blog"} {
		require.NoError(t, ts.svc.Projects.CreateProject(as(admin), &junction.Project{Handle: h, Name: h}))
	}
	b := ts.browser(t)
	b.mustLogin("ada@example.com")
	_, body := b.get("/projects?q=shop&per_page=1")
	require.Contains(t, body, `href="/projects?page=2&amp;per_page=1&amp;q=shop"`)
	require.Contains(t, body, "Page 1 of 2")
	_, body = b.get("/projects?q=shop&per_page=1&page=2")
	require.Contains(t, body, "shop-us")
	require.NotContains(t, body, "blog")
}

func TestContractDetails(t *testing.T) {
	ts := newTestServer(t)
	admin := ts.createUser(t, "ada@example.com", true)
	token := ts.token(t, admin)

	t.Run("HeadHealthz", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodHead, ts.URL+"/healthz", nil)
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		res.Body.Close()
		require.Equal(t, http.StatusOK, res.StatusCode)
	})
	t.Run("ErrorsAlwaysHaveFields", func(t *testing.T) {
		status, body := ts.api(t, http.MethodGet, "/api/v1/projects", "", "")
		require.Equal(t, http.StatusUnauthorized, status)
		require.Equal(t, map[string]any{}, body["error"].(map[string]any)["fields"])
	})
	t.Run("AnonymousFormPostGoesToSignIn", func(t *testing.T) {
		res, _ := ts.browser(t).postRaw("/projects", url.Values{"name": {"Shop"}})
		require.Equal(t, http.StatusSeeOther, res.StatusCode)
		require.Equal(t, "/login", res.Header.Get("Location"))
	})
	t.Run("ErrPortOutOfRange", func(t *testing.T) {
		status, body := ts.api(t, http.MethodPost, "/api/v1/services", token, `{"kind":"third-party","name":"Acme","version":"v1",
			"endpoints":[{"name":"live","url":"https://acme.example:99999","environments":["production"],"values":{}}]}`)
		require.Equal(t, http.StatusUnprocessableEntity, status)
		_, fields := apiError(t, body)
		require.Contains(t, fields, "endpoints[0].url")
	})
	t.Run("ErrUnknownValue", func(t *testing.T) {
		status, body := ts.api(t, http.MethodPost, "/api/v1/services", token, `{"kind":"third-party","name":"Acme","version":"v2",
			"endpoints":[{"name":"live","url":"https://acme.example","environments":["production"],"values":{"Extra":"x"}}]}`)
		require.Equal(t, http.StatusUnprocessableEntity, status)
		_, fields := apiError(t, body)
		require.Contains(t, fields, "endpoints[0].values.Extra")
	})
	t.Run("TypeErrorsNameTheField", func(t *testing.T) {
		status, body := ts.api(t, http.MethodPost, "/api/v1/projects", token, `{"handle":"x","name":42}`)
		require.Equal(t, http.StatusBadRequest, status)
		require.Contains(t, body["error"].(map[string]any)["message"], `"name": expected a JSON string, got a number`)
	})
}

func regexpFind(t *testing.T, s, pattern string) string {
	t.Helper()
	m := regexp.MustCompile(pattern).FindString(s)
	require.NotEmpty(t, m, "no %s", pattern)
	return m
}

func decodeJSONBody(t *testing.T, res *http.Response, v any) {
	t.Helper()
	defer res.Body.Close()
	require.NoError(t, json.NewDecoder(res.Body).Decode(v))
}

func TestMetrics(t *testing.T) {
	ts := newTestServer(t)
	admin := ts.createUser(t, "ada@example.com", true)
	dev := ts.createUser(t, "dev@example.com", false)
	adminToken := ts.token(t, admin)
	ts.api(t, http.MethodGet, "/api/v1/projects", adminToken, "")

	get := func(token string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, ts.URL+"/metrics", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(body)
	}
	status, body := get(adminToken)
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, `junction_http_requests_total{method="GET",route="/api/v1/projects",status="200"} 1`)
	require.Contains(t, body, "junction_http_request_duration_seconds_bucket")
	require.Contains(t, body, "go_goroutines")

	status, _ = get(ts.token(t, dev))
	require.Equal(t, http.StatusForbidden, status, "not public: admins only")
	_, body = get("")
	require.NotContains(t, body, "go_goroutines", "anonymous visitors are sent to sign in")
}
