package main

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	_ "github.com/jackc/pgx/v5/stdlib" // the pgx driver, to inspect the database
	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction"
	"github.com/junction-dev/junction/internal/pgtest"
)

// TestMain stops the PostgreSQL server that the tests started, if any.
func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

const (
	replicaAdmin    = "ops@example.com"
	replicaPassword = "replica-test-password"
)

var (
	replicaBinOnce sync.Once
	replicaBin     string
	replicaBinErr  error
)

// junctionBinary builds bin/junction once per test binary (with the race detector when the
// tests run with it) into a directory removed at exit.
func junctionBinary(t *testing.T) string {
	t.Helper()
	replicaBinOnce.Do(func() {
		dir, err := os.MkdirTemp("", "junction-replica-bin-")
		if err != nil {
			replicaBinErr = err
			return
		}
		replicaBin = filepath.Join(dir, "junction")
		args := []string{"build", "-tags", "sqlite_fts5", "-o", replicaBin, "."}
		if raceEnabled {
			args = append(args[:1], append([]string{"-race"}, args[1:]...)...)
		}
		out, err := exec.Command("go", args...).CombinedOutput()
		if err != nil {
			replicaBinErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if replicaBinErr != nil {
		t.Fatal(replicaBinErr)
	}
	return replicaBin
}

// replica is one `junction serve` process.
type replica struct {
	name string
	cmd  *exec.Cmd
	url  string
	logs *syncBuffer // its stderr: the request log
	done chan error
}

// replicaSet is two `junction serve` processes of the built binary on one PostgreSQL
// database, with the same JUNCTION_SECRET_KEY, as behind a load balancer. Tests of
// behaviour that must not depend on which replica answers use it: startReplicas, then
// apiOn or mustAPI with the admin token on rs.A or rs.B, count or sql for what is in the
// database, kill9 and restart. A subtest added to TestReplicas gets both replicas running.
type replicaSet struct {
	bin   string
	dbURL string
	env   []string
	// A and B are the two replicas.
	A, B *replica
	// token is a personal access token of the admin that JUNCTION_ADMIN_EMAIL created.
	token string
	// sql is a connection pool of the database itself, for checks.
	sql *sql.DB
}

// startReplicas starts two replicas at the same moment on a new, empty database (so that
// both run the migrations and the first-admin bootstrap at once) and waits until both
// answer. extraArgs go to both `serve` commands.
func startReplicas(t *testing.T, extraArgs ...string) *replicaSet {
	t.Helper()
	cluster := pgtest.Require(t)
	rs := &replicaSet{bin: junctionBinary(t), dbURL: cluster.NewEmptyDatabase(t)}
	rs.env = append(os.Environ(), "JUNCTION_SECRET_KEY="+crashKey, "JUNCTION_DB="+rs.dbURL,
		"JUNCTION_ADMIN_EMAIL="+replicaAdmin, "JUNCTION_ADMIN_PASSWORD="+replicaPassword)
	var wg sync.WaitGroup
	var errA, errB error
	wg.Add(2)
	go func() { defer wg.Done(); rs.A, errA = rs.start("A", extraArgs...) }()
	go func() { defer wg.Done(); rs.B, errB = rs.start("B", extraArgs...) }()
	wg.Wait()
	require.NoError(t, errA, "replica A starts")
	require.NoError(t, errB, "replica B starts")
	t.Cleanup(func() {
		for _, r := range []*replica{rs.A, rs.B} {
			rs.stop(r)
		}
	})
	var err error
	rs.sql, err = sql.Open("pgx", rs.dbURL)
	require.NoError(t, err)
	t.Cleanup(func() { rs.sql.Close() })
	tok := runCLI(t, map[string]string{"JUNCTION_SECRET_KEY": crashKey}, "token", "create", "--email", replicaAdmin, "--db", rs.dbURL)
	require.Equal(t, 0, tok.code, tok.stderr)
	rs.token = strings.TrimSpace(tok.stdout)
	return rs
}

// start runs one replica and waits for its first line, which names its URL.
func (rs *replicaSet) start(name string, extraArgs ...string) (*replica, error) {
	cmd := exec.Command(rs.bin, append([]string{"serve", "--addr", "127.0.0.1:0"}, extraArgs...)...)
	cmd.Env = rs.env
	r := &replica{name: name, cmd: cmd, logs: &syncBuffer{}, done: make(chan error, 1)}
	cmd.Stderr = r.logs
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return nil, fmt.Errorf("replica %s: %v; its log:\n%s", name, err, r.logs.String())
	}
	go io.Copy(io.Discard, out)
	go func() { r.done <- cmd.Wait() }()
	r.url = strings.Fields(strings.TrimPrefix(line, "Junction is running at "))[0]
	return r, nil
}

// stop ends a replica with SIGTERM (a graceful shutdown), or SIGKILL after 10 s.
func (rs *replicaSet) stop(r *replica) {
	if r == nil || r.cmd.ProcessState != nil {
		return
	}
	r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.done:
	case <-time.After(10 * time.Second):
		r.cmd.Process.Kill()
		<-r.done
	}
}

// restart starts a replica again in place of r (after kill9), on the same database.
func (rs *replicaSet) restart(t *testing.T, r *replica) {
	t.Helper()
	fresh, err := rs.start(r.name)
	require.NoError(t, err)
	*r = *fresh
}

// kill9 kills a replica with SIGKILL and waits for it to be gone.
func (rs *replicaSet) kill9(t *testing.T, r *replica) {
	t.Helper()
	require.NoError(t, r.cmd.Process.Signal(syscall.SIGKILL))
	<-r.done
}

// apiOn sends a JSON request to replica r with the admin's token and returns the status and
// body. A request that gets no answer (a killed replica) gives status 0.
func (rs *replicaSet) apiOn(r *replica, method, path, body string) (int, string) {
	return rs.apiAs(r, rs.token, method, path, body)
}

func (rs *replicaSet) apiAs(r *replica, token, method, path, body string) (int, string) {
	req, err := http.NewRequest(method, r.url+path, strings.NewReader(body))
	if err != nil {
		return 0, err.Error()
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	res, err := replicaClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// mustAPI is apiOn that requires the status want and decodes the JSON answer into a map.
func (rs *replicaSet) mustAPI(t *testing.T, r *replica, want int, method, path, body string) map[string]any {
	t.Helper()
	status, text := rs.apiOn(r, method, path, body)
	require.Equal(t, want, status, "%s %s on %s: %s", method, path, r.name, text)
	var out map[string]any
	if text != "" {
		require.NoError(t, json.Unmarshal([]byte(text), &out), text)
	}
	return out
}

// count runs a COUNT query on the database.
func (rs *replicaSet) count(t *testing.T, query string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, rs.sql.QueryRow(query, args...).Scan(&n), query)
	return n
}

var replicaClient = &http.Client{Timeout: 30 * time.Second}

// TestReplicas runs two real `junction serve` processes on one PostgreSQL database and checks
// that nothing depends on which of them answers.
func TestReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts the real binary twice")
	}
	rs := startReplicas(t)

	t.Run("MigrateOnce", func(t *testing.T) {
		files, err := filepath.Glob("../../db/migration/*_postgres.sql")
		require.NoError(t, err)
		require.Equal(t, len(files), rs.count(t, `SELECT COUNT(*) FROM schema_migrations`), "each migration recorded once")
		require.Equal(t, 1, rs.count(t, `SELECT COUNT(*) FROM users`), "the first admin is created once")
		require.Equal(t, 1, rs.count(t, `SELECT COUNT(*) FROM settings WHERE name = 'key_check'`))
		for _, r := range []*replica{rs.A, rs.B} {
			require.NotContains(t, r.logs.String(), "level=ERROR", "replica %s started cleanly", r.name)
		}
	})

	t.Run("WriteOnAReadOnB", func(t *testing.T) {
		rs.mustAPI(t, rs.A, http.StatusCreated, http.MethodPost, "/api/v1/projects", `{"handle":"shop","name":"Shop"}`)
		got := rs.mustAPI(t, rs.B, http.StatusOK, http.MethodGet, "/api/v1/projects/shop", "")
		require.Equal(t, "Shop", got["name"])
		rs.mustAPI(t, rs.B, http.StatusOK, http.MethodPatch, "/api/v1/projects/shop", `{"name":"Shop (B)"}`)
		got = rs.mustAPI(t, rs.A, http.StatusOK, http.MethodGet, "/api/v1/projects/shop", "")
		require.Equal(t, "Shop (B)", got["name"])
	})

	t.Run("RuntimeChangesOnAServedByB", rs.runtimeChangesServedByB)

	t.Run("SessionFromAWorksOnB", func(t *testing.T) {
		jar, _ := cookiejar.New(nil)
		client := &http.Client{Jar: jar, Timeout: 30 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		csrf := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)
		page := func(base, path string) (int, string) {
			res, err := client.Get(base + path)
			require.NoError(t, err)
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			return res.StatusCode, string(b)
		}
		_, login := page(rs.A.url, "/login")
		m := csrf.FindStringSubmatch(login)
		require.NotNil(t, m)
		res, err := client.PostForm(rs.A.url+"/login", url.Values{"csrf_token": {m[1]}, "email": {replicaAdmin}, "password": {replicaPassword}})
		require.NoError(t, err)
		res.Body.Close()
		require.Equal(t, http.StatusSeeOther, res.StatusCode, "signed in on A")

		// The cookie jar is per host and port: hand A's cookies to B, as a load balancer's
		// one address would.
		aURL, _ := url.Parse(rs.A.url)
		bURL, _ := url.Parse(rs.B.url)
		jar.SetCookies(bURL, jar.Cookies(aURL))
		status, body := page(rs.B.url, "/projects")
		require.Equal(t, http.StatusOK, status, "A's session cookie is signed in on B")
		require.Contains(t, body, replicaAdmin)

		// A form of B's page posts with the session's CSRF token; so does one of A's.
		m = csrf.FindStringSubmatch(body)
		require.NotNil(t, m)
		res, err = client.PostForm(rs.B.url+"/projects", url.Values{"csrf_token": {m[1]}, "handle": {"web"}, "name": {"Web"}})
		require.NoError(t, err)
		res.Body.Close()
		require.Equal(t, http.StatusSeeOther, res.StatusCode, "B accepts the session's CSRF token")
		rs.mustAPI(t, rs.A, http.StatusOK, http.MethodGet, "/api/v1/projects/web", "")
	})

	t.Run("TokenFromAVerifiesWithB", func(t *testing.T) {
		svcID := rs.oauthService(t, "Stock")
		conn := rs.mustAPI(t, rs.B, http.StatusCreated, http.MethodPost, "/api/v1/projects/web/connections", `{"name":"stock","service_id":"`+svcID+`"}`)
		revealed := rs.mustAPI(t, rs.A, http.StatusOK, http.MethodGet, "/api/v1/connections/"+conn["id"].(string)+"?reveal=true", "")
		params := map[string]string{}
		for _, p := range revealed["parameters"].([]any) {
			p := p.(map[string]any)
			params[p["name"].(string)] = p["values"].(map[string]any)["production"].(string)
		}
		require.NotEmpty(t, params["ConsumerSecret"])

		res, err := replicaClient.PostForm(rs.A.url+"/oauth2/token", url.Values{"grant_type": {"client_credentials"},
			"client_id": {params["ConsumerKey"]}, "client_secret": {params["ConsumerSecret"]}})
		require.NoError(t, err)
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		require.NoError(t, json.NewDecoder(res.Body).Decode(&tok))
		res.Body.Close()
		require.Equal(t, http.StatusOK, res.StatusCode)

		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		jwks, err := keyfunc.NewDefaultCtx(ctx, []string{rs.B.url + "/.well-known/jwks.json"})
		require.NoError(t, err)
		parsed, err := jwt.Parse(tok.AccessToken, jwks.Keyfunc, jwt.WithValidMethods([]string{"ES256"}))
		require.NoError(t, err, "A's token verifies with B's JWKS")
		require.True(t, parsed.Valid)
		aud, _ := parsed.Claims.GetAudience()
		require.Contains(t, []string(aud), svcID)
		require.Equal(t, 1, rs.count(t, `SELECT COUNT(*) FROM settings WHERE name = 'jwt_signing_key'`), "one signing key")
	})

	t.Run("ConcurrentWritersOverBoth", func(t *testing.T) {
		svcID := rs.oauthService(t, "Ledger")
		const projects, writers = 5, 50
		for p := range projects {
			rs.mustAPI(t, rs.A, http.StatusCreated, http.MethodPost, "/api/v1/projects", fmt.Sprintf(`{"handle":"team-%d","name":"Team %d"}`, p, p))
			rs.mustAPI(t, rs.B, http.StatusCreated, http.MethodPost, fmt.Sprintf("/api/v1/projects/team-%d/components", p), `{"handle":"api","name":"API"}`)
		}
		var wg sync.WaitGroup
		failures := make(chan string, writers)
		start := make(chan struct{})
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := rs.A
				if w%2 == 1 {
					r = rs.B
				}
				path := fmt.Sprintf("/api/v1/projects/team-%d/connections", w%projects)
				if w%4 >= 2 {
					path = fmt.Sprintf("/api/v1/projects/team-%d/components/api/connections", w%projects)
				}
				<-start
				if status, body := rs.apiOn(r, http.MethodPost, path, fmt.Sprintf(`{"name":"ledger-%d","service_id":"%s"}`, w, svcID)); status != http.StatusCreated {
					failures <- fmt.Sprintf("writer %d on %s: %d %s", w, r.name, status, body)
				}
			}()
		}
		close(start)
		wg.Wait()
		close(failures)
		for f := range failures {
			t.Error(f)
		}
		require.Equal(t, writers, rs.count(t, `SELECT COUNT(*) FROM connections WHERE name LIKE 'ledger-%'`), "no write lost")
		for p := range projects {
			require.Equal(t, 1, rs.count(t, `SELECT COUNT(*) FROM oauth_apps a JOIN projects p ON p.id = a.project_id WHERE p.handle = $1`,
				fmt.Sprintf("team-%d", p)), "one OAuth application for project team-%d", p)
			require.Equal(t, 1, rs.count(t, `SELECT COUNT(*) FROM oauth_apps a JOIN components c ON c.id = a.component_id
				JOIN projects p ON p.id = c.project_id WHERE p.handle = $1`, fmt.Sprintf("team-%d", p)), "one OAuth application for team-%d/api", p)
		}
	})

	t.Run("GracefulShutdownDrains", func(t *testing.T) {
		// A request is in flight on B (its body still arriving) when B is told to stop: B
		// finishes it, then exits 0.
		body, w := io.Pipe()
		req, _ := http.NewRequest(http.MethodPost, rs.B.url+"/api/v1/projects", body)
		req.Header.Set("Authorization", "Bearer "+rs.token)
		req.Header.Set("Content-Type", "application/json")
		answer := make(chan int, 1)
		go func() {
			res, err := replicaClient.Do(req)
			if err != nil {
				answer <- 0
				return
			}
			res.Body.Close()
			answer <- res.StatusCode
		}()
		io.WriteString(w, `{"handle":"drained",`)
		time.Sleep(300 * time.Millisecond)
		require.NoError(t, rs.B.cmd.Process.Signal(syscall.SIGTERM))
		time.Sleep(500 * time.Millisecond)
		io.WriteString(w, `"name":"Drained"}`)
		w.Close()
		require.Equal(t, http.StatusCreated, <-answer, "the request in flight is answered")
		select {
		case err := <-rs.B.done:
			require.NoError(t, err, "B exits 0 after draining")
		case <-time.After(15 * time.Second):
			t.Fatal("B did not exit after SIGTERM")
		}
		_, err := replicaClient.Get(rs.B.url + "/healthz")
		require.Error(t, err, "B takes no new connection once stopped")
		rs.mustAPI(t, rs.A, http.StatusOK, http.MethodGet, "/api/v1/projects/drained", "")
		rs.restart(t, rs.B)
	})

	// Last: it kills A (and starts it again for any subtest added after it).
	t.Run("KillAWhileWriting", func(t *testing.T) {
		svcID := rs.oauthService(t, "Payouts")
		rs.mustAPI(t, rs.A, http.StatusCreated, http.MethodPost, "/api/v1/projects", `{"handle":"crash","name":"Crash"}`)
		var mu sync.Mutex
		acked := map[string]string{} // connection ID -> name
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for w := range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := rs.A
				if w%2 == 1 {
					r = rs.B
				}
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					name := fmt.Sprintf("payouts-%s-%d-%d", r.name, w, i)
					status, body := rs.apiOn(r, http.MethodPost, "/api/v1/projects/crash/connections", `{"name":"`+name+`","service_id":"`+svcID+`"}`)
					if status == http.StatusCreated {
						var c map[string]any
						if json.Unmarshal([]byte(body), &c) == nil {
							mu.Lock()
							acked[c["id"].(string)] = name
							mu.Unlock()
						}
					} else if r == rs.A && status == 0 {
						time.Sleep(10 * time.Millisecond) // A is gone
					}
				}
			}()
		}
		time.Sleep(700 * time.Millisecond)
		rs.kill9(t, rs.A)
		time.Sleep(500 * time.Millisecond)
		close(stop)
		wg.Wait()

		// B keeps serving, reads and writes.
		res, err := replicaClient.Get(rs.B.url + "/healthz")
		require.NoError(t, err)
		res.Body.Close()
		require.Equal(t, http.StatusOK, res.StatusCode)
		rs.mustAPI(t, rs.B, http.StatusCreated, http.MethodPost, "/api/v1/projects/crash/connections", `{"name":"after-the-crash","service_id":"`+svcID+`"}`)

		mu.Lock()
		defer mu.Unlock()
		require.NotEmpty(t, acked)
		for id, name := range acked {
			require.Equal(t, 1, rs.count(t, `SELECT COUNT(*) FROM connections WHERE id = $1 AND name = $2`, id, name), "acknowledged %s", name)
		}
		require.Zero(t, rs.count(t, `SELECT COUNT(*) FROM oauth_apps a WHERE NOT EXISTS (SELECT 1 FROM connections c WHERE c.oauth_app_id = a.id)`), "no orphan OAuth application")
		require.Zero(t, rs.count(t, `SELECT COUNT(*) FROM connections WHERE oauth_app_id IS NULL`), "no connection without its application")
		require.Equal(t, 1, rs.count(t, `SELECT COUNT(*) FROM oauth_apps a JOIN projects p ON p.id = a.project_id WHERE p.handle = 'crash'`))
		// Each writer on A may have had one write committed whose answer the kill cut off.
		made := rs.count(t, `SELECT COUNT(*) FROM connections WHERE name LIKE 'payouts-%'`)
		require.GreaterOrEqual(t, made, len(acked))
		require.LessOrEqual(t, made, len(acked)+3, "nothing but acknowledged writes and those the kill cut off")

		rs.restart(t, rs.A)
		rs.mustAPI(t, rs.A, http.StatusOK, http.MethodGet, "/api/v1/projects/crash", "")
	})
}

// oauthService registers an internal OAuth service of project shop's component orders and
// returns its ID.
func (rs *replicaSet) oauthService(t *testing.T, name string) string {
	t.Helper()
	if status, _ := rs.apiOn(rs.A, http.MethodGet, "/api/v1/projects/shop", ""); status == http.StatusNotFound {
		rs.mustAPI(t, rs.A, http.StatusCreated, http.MethodPost, "/api/v1/projects", `{"handle":"shop","name":"Shop"}`)
	}
	if status, _ := rs.apiOn(rs.A, http.MethodGet, "/api/v1/projects/shop/components/orders", ""); status == http.StatusNotFound {
		rs.mustAPI(t, rs.A, http.StatusCreated, http.MethodPost, "/api/v1/projects/shop/components", `{"handle":"orders","name":"Orders"}`)
	}
	svc := rs.mustAPI(t, rs.A, http.StatusCreated, http.MethodPost, "/api/v1/services", `{"kind":"internal","name":"`+name+`","version":"v1",
		"project":"shop","component":"orders","visibility":"organization","security":"oauth","urls":{"production":"https://`+strings.ToLower(name)+`.example"}}`)
	return svc["id"].(string)
}

// TestPostgresRestartUnderLoad restarts PostgreSQL under a steady load of API reads and
// runtime fetches: while it is down every answer is a 503 (never a 500 or a hang), and once
// it is back the same process answers 200 again, without a restart of Junction.
func TestPostgresRestartUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("stops and starts the PostgreSQL server")
	}
	cluster := pgtest.Require(t)
	if os.Getenv("JUNCTION_TEST_POSTGRES") != "" {
		t.Skip("JUNCTION_TEST_POSTGRES names a server the tests may not restart")
	}
	app, err := OpenApp(context.Background(), Config{
		Addr: "127.0.0.1:0", DBPath: cluster.NewDatabase(t), SecretKey: crashKey, PasswordCost: 4,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	require.NoError(t, err)
	go app.Server.Serve()
	t.Cleanup(func() { app.Close() })
	base := app.Server.URL()
	ctx := context.Background()
	admin := &junction.User{Email: "ops@example.com", IsAdmin: true}
	require.NoError(t, app.Services.Users.CreateUser(ctx, admin, "restart-test-password"))
	_, pat, err := app.Services.Users.CreateToken(ctx, admin.ID, "load")
	require.NoError(t, err)
	as := junction.NewContextWithUser(ctx, admin)
	require.NoError(t, app.Services.Projects.CreateProject(as, &junction.Project{Handle: "shop", Name: "Shop"}))
	require.NoError(t, app.Services.Components.CreateComponent(as, "shop", &junction.Component{Handle: "orders", Name: "Orders"}))
	_, runtime, err := app.Services.Mappings.CreateRuntimeToken(as, "shop", "orders", "production")
	require.NoError(t, err)

	get := func(path, token string) int {
		req, _ := http.NewRequest(http.MethodGet, base+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := (&http.Client{Timeout: 20 * time.Second}).Do(req)
		if err != nil {
			return 0
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.StatusCode
	}
	var mu sync.Mutex
	seen := map[int]int{} // status -> count, while the server was down
	var down, stop = make(chan struct{}), make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				path, token := "/api/v1/projects", pat
				if w%2 == 1 {
					path, token = "/api/v1/runtime/env", runtime
				}
				status := get(path, token)
				select {
				case <-down:
					mu.Lock()
					seen[status]++
					mu.Unlock()
				default:
				}
				time.Sleep(5 * time.Millisecond)
			}
		}()
	}
	time.Sleep(300 * time.Millisecond)
	cluster.Stop(t)
	close(down)
	time.Sleep(time.Second)
	health := get("/healthz", "")
	cluster.Start(t)
	// Back within a bounded time, by the same process.
	deadline := time.Now().Add(30 * time.Second)
	for get("/api/v1/projects", pat) != http.StatusOK {
		require.True(t, time.Now().Before(deadline), "Junction answers again once PostgreSQL is back")
		time.Sleep(100 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	require.Equal(t, http.StatusServiceUnavailable, health, "/healthz while PostgreSQL is down")
	mu.Lock()
	defer mu.Unlock()
	require.Positive(t, seen[http.StatusServiceUnavailable], "requests failed with 503 while PostgreSQL was down: %v", seen)
	for status, n := range seen {
		require.Contains(t, []int{http.StatusOK, http.StatusServiceUnavailable}, status, "%d answers with %d while PostgreSQL restarted", n, status)
	}
	require.Equal(t, http.StatusOK, get("/api/v1/runtime/env", runtime))
	require.Equal(t, http.StatusOK, get("/healthz", ""))
	t.Logf("answers while PostgreSQL restarted: %v", seen)
}

// TestPostgresURLAtStart: a PostgreSQL that cannot be reached, or a wrong password, is one
// line on stderr at start with the password nowhere; backup refuses, naming pg_dump.
func TestPostgresURLAtStart(t *testing.T) {
	cluster := pgtest.Require(t)
	const password = "Sup3r-secret-pw"
	env := map[string]string{"JUNCTION_SECRET_KEY": crashKey}
	for name, dsn := range map[string]string{
		"Unreachable":   "postgres://junction:" + password + "@127.0.0.1:1/junction?sslmode=disable",
		"WrongPassword": strings.Replace(cluster.PasswordUser(t, "junction_start", "right-password", "postgres"), "right-password", password, 1),
	} {
		t.Run(name, func(t *testing.T) {
			res := runCLI(t, env, "serve", "--addr", "127.0.0.1:0", "--db", dsn)
			require.Equal(t, exitFailure, res.code)
			require.NotContains(t, res.stderr+res.stdout, password)
			require.Equal(t, 1, strings.Count(res.stderr, "\n"), "one line: %q", res.stderr)
			require.True(t, strings.HasPrefix(res.stderr, "junction: open database postgres://junction"), res.stderr)
			require.NotContains(t, res.stderr, "goroutine")
		})
	}
	t.Run("Backup", func(t *testing.T) {
		res := runCLI(t, env, "backup", "--db", cluster.URL("postgres"), filepath.Join(t.TempDir(), "out.db"))
		require.Equal(t, exitFailure, res.code)
		require.Equal(t, 1, strings.Count(res.stderr, "\n"))
		require.Contains(t, res.stderr, "pg_dump")
		require.NotContains(t, res.stderr, cluster.Password())
	})
	t.Run("NoPasswordInTheLog", func(t *testing.T) {
		// A served database's URL with its password appears nowhere in what serve prints.
		dsn := cluster.NewDatabase(t)
		var stdout, stderr syncBuffer
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan int, 1)
		go func() {
			done <- Run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--db", dsn}, &stdout, &stderr, mapEnv(env))
		}()
		deadline := time.Now().Add(20 * time.Second)
		for !strings.Contains(stdout.String(), "Junction is running") {
			require.True(t, time.Now().Before(deadline), "serve starts: %s", stderr.String())
			time.Sleep(20 * time.Millisecond)
		}
		url := strings.Fields(strings.TrimPrefix(stdout.String(), "Junction is running at "))[0]
		res, err := http.Get(url + "/healthz")
		require.NoError(t, err)
		res.Body.Close()
		cancel()
		require.Equal(t, 0, <-done)
		require.Contains(t, stdout.String(), "postgres://junction:xxxxx@")
		require.NotContains(t, stdout.String()+stderr.String(), cluster.Password())
	})
}
