package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/junction-dev/junction"
)

// testSecretKey is a valid JUNCTION_SECRET_KEY: 32 bytes as 64 hex digits.
const testSecretKey = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

// cliResult is what one in-process run of the CLI produced.
type cliResult struct {
	code   int
	stdout string
	stderr string
}

// runCLI runs the CLI in-process with env as its whole environment.
func runCLI(t *testing.T, env map[string]string, args ...string) cliResult {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Run(context.Background(), args, &stdout, &stderr, mapEnv(env))
	return cliResult{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// mapEnv turns a map into a getenv func; a nil map is an empty environment.
func mapEnv(env map[string]string) func(string) string {
	return func(name string) string { return env[name] }
}

// tempDB returns a database path in a fresh temporary directory.
func tempDB(t *testing.T) string {
	t.Helper()
	return filepath.Join(t.TempDir(), "junction.db")
}

// requireCode fails the test unless the run exited with want.
func requireCode(t *testing.T, r cliResult, want int) {
	t.Helper()
	if r.code != want {
		t.Fatalf("exit code = %d, want %d\nstdout: %q\nstderr: %q", r.code, want, r.stdout, r.stderr)
	}
}

// requireOneErrorLine fails the test unless stderr is exactly one line starting "junction: ".
func requireOneErrorLine(t *testing.T, stderr string) {
	t.Helper()
	if !strings.HasPrefix(stderr, "junction: ") {
		t.Fatalf("stderr = %q, want it to start with %q", stderr, "junction: ")
	}
	if !strings.HasSuffix(stderr, "\n") || strings.Count(stderr, "\n") != 1 {
		t.Fatalf("stderr = %q, want exactly one line", stderr)
	}
}

// mustCreateUser creates a user through the CLI.
func mustCreateUser(t *testing.T, env map[string]string, dbPath, email, password string, admin bool) {
	t.Helper()
	args := []string{"user", "create", "--email", email, "--password", password, "--db", dbPath}
	if admin {
		args = append(args, "--admin")
	}
	requireCode(t, runCLI(t, env, args...), exitOK)
}

// mustCreateToken creates a personal access token through the CLI and returns it. An empty
// dbPath leaves out --db, so that JUNCTION_DB applies.
func mustCreateToken(t *testing.T, env map[string]string, dbPath, email string) string {
	t.Helper()
	args := []string{"token", "create", "--email", email}
	if dbPath != "" {
		args = append(args, "--db", dbPath)
	}
	r := runCLI(t, env, args...)
	requireCode(t, r, exitOK)
	return strings.TrimSuffix(r.stdout, "\n")
}

// mustOpenApp opens dbPath the way serve does, without demo data or a first admin.
func mustOpenApp(t *testing.T, env map[string]string, dbPath string) *App {
	t.Helper()
	app, err := OpenApp(context.Background(), Config{
		Addr:         "127.0.0.1:0",
		DBPath:       dbPath,
		SecretKey:    env["JUNCTION_SECRET_KEY"],
		PasswordCost: 4,
		Logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatalf("OpenApp: %v", err)
	}
	t.Cleanup(func() {
		// Serve never runs here, and neither App.Close nor Server.Shutdown closes a listener
		// that Serve never took over, so the bound socket lives until the test binary exits.
		if err := app.Close(); err != nil {
			t.Errorf("close app: %v", err)
		}
	})
	return app
}

// apiGet sends an authenticated GET to app's handler in-process.
func apiGet(t *testing.T, app *App, token, path string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	app.Server.ServeHTTP(rec, req)
	return rec
}

func TestCLIMigrate(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		dbPath := tempDB(t)
		r := runCLI(t, nil, "migrate", "--db", dbPath)
		requireCode(t, r, exitOK)
		if r.stderr != "" {
			t.Errorf("stderr = %q, want empty", r.stderr)
		}
		if !regexp.MustCompile(`schema \S*\d{4}_\w+`).MatchString(r.stdout) || !strings.Contains(r.stdout, dbPath) {
			t.Errorf("stdout = %q, want the database and its schema version", r.stdout)
		}
		if _, err := os.Stat(dbPath); err != nil {
			t.Errorf("database file: %v", err)
		}

		// Again: nothing left to apply, same schema.
		r2 := runCLI(t, nil, "migrate", "--db", dbPath)
		requireCode(t, r2, exitOK)
		if r2.stdout != r.stdout {
			t.Errorf("second migrate printed %q, first %q", r2.stdout, r.stdout)
		}
	})

	t.Run("KeyFileCreated", func(t *testing.T) {
		dbPath := tempDB(t)
		requireCode(t, runCLI(t, nil, "migrate", "--db", dbPath), exitOK)
		info, err := os.Stat(dbPath + ".key")
		if err != nil {
			t.Fatalf("key file: %v", err)
		}
		if perm := info.Mode().Perm(); perm != 0o600 {
			t.Errorf("key file mode = %o, want 600", perm)
		}
		first, err := os.ReadFile(dbPath + ".key")
		if err != nil {
			t.Fatal(err)
		}
		if !regexp.MustCompile(`^[0-9a-f]{64}\n?$`).Match(first) {
			t.Errorf("key file holds %q, want 64 hex digits", first)
		}

		// A second run reuses the key rather than replacing it.
		requireCode(t, runCLI(t, nil, "migrate", "--db", dbPath), exitOK)
		second, err := os.ReadFile(dbPath + ".key")
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(first, second) {
			t.Errorf("key file changed between runs: %q then %q", first, second)
		}
	})

	t.Run("KeyFromEnvironment", func(t *testing.T) {
		dbPath := tempDB(t)
		env := map[string]string{"JUNCTION_SECRET_KEY": testSecretKey}
		requireCode(t, runCLI(t, env, "migrate", "--db", dbPath), exitOK)
		if _, err := os.Stat(dbPath + ".key"); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("stat key file: err = %v, want it not to exist", err)
		}
		requireCode(t, runCLI(t, env, "migrate", "--db", dbPath), exitOK)

		// The same key written as base64 opens the same database.
		raw, err := hex.DecodeString(testSecretKey)
		if err != nil {
			t.Fatal(err)
		}
		env64 := map[string]string{"JUNCTION_SECRET_KEY": base64.StdEncoding.EncodeToString(raw)}
		requireCode(t, runCLI(t, env64, "migrate", "--db", dbPath), exitOK)
		if _, err := os.Stat(dbPath + ".key"); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("stat key file: err = %v, want it not to exist", err)
		}
	})

	t.Run("ErrWrongKey", func(t *testing.T) {
		dbPath := tempDB(t)
		requireCode(t, runCLI(t, nil, "migrate", "--db", dbPath), exitOK)
		r := runCLI(t, map[string]string{"JUNCTION_SECRET_KEY": testSecretKey}, "migrate", "--db", dbPath)
		requireCode(t, r, exitFailure)
		requireOneErrorLine(t, r.stderr)
		if !strings.Contains(r.stderr, "secret key") {
			t.Errorf("stderr = %q, want it to name the secret key", r.stderr)
		}
	})

	t.Run("ErrBadKey", func(t *testing.T) {
		dbPath := tempDB(t)
		r := runCLI(t, map[string]string{"JUNCTION_SECRET_KEY": "too-short"}, "migrate", "--db", dbPath)
		requireCode(t, r, exitFailure)
		requireOneErrorLine(t, r.stderr)
		if !strings.Contains(r.stderr, "JUNCTION_SECRET_KEY") {
			t.Errorf("stderr = %q, want it to name JUNCTION_SECRET_KEY", r.stderr)
		}
	})

	t.Run("ErrNotADatabase", func(t *testing.T) {
		dbPath := tempDB(t)
		if err := os.WriteFile(dbPath, []byte("this is not SQLite\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		r := runCLI(t, nil, "migrate", "--db", dbPath)
		requireCode(t, r, exitFailure)
		requireOneErrorLine(t, r.stderr)
	})

	t.Run("ErrBadKeyFile", func(t *testing.T) {
		dbPath := tempDB(t)
		if err := os.WriteFile(dbPath+".key", []byte("not a key\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		r := runCLI(t, nil, "migrate", "--db", dbPath)
		requireCode(t, r, exitFailure)
		requireOneErrorLine(t, r.stderr)
		if !strings.Contains(r.stderr, ".key") {
			t.Errorf("stderr = %q, want it to name the key file", r.stderr)
		}
	})

	t.Run("ErrPathWithQuestionMark", func(t *testing.T) {
		dbPath := filepath.Join(t.TempDir(), "odd?name.db")
		r := runCLI(t, nil, "migrate", "--db", dbPath)
		requireCode(t, r, exitFailure)
		requireOneErrorLine(t, r.stderr)
		if !strings.Contains(r.stderr, "must not contain ?") {
			t.Errorf("stderr = %q, want it to say why the path is refused", r.stderr)
		}
	})

	t.Run("ErrNoDirectory", func(t *testing.T) {
		dbPath := filepath.Join(t.TempDir(), "missing", "junction.db")
		r := runCLI(t, nil, "migrate", "--db", dbPath)
		requireCode(t, r, exitFailure)
		requireOneErrorLine(t, r.stderr)
	})
}

func TestCLIUserCreate(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		dbPath := tempDB(t)
		r := runCLI(t, nil, "user", "create", "--email", "ann@example.com", "--password", "correct-horse", "--db", dbPath)
		requireCode(t, r, exitOK)
		if r.stderr != "" {
			t.Errorf("stderr = %q, want empty", r.stderr)
		}
		if !strings.Contains(r.stdout, "ann@example.com") {
			t.Errorf("stdout = %q, want it to name the user", r.stdout)
		}
		r = runCLI(t, nil, "user", "create", "--email", "root@example.com", "--password", "correct-horse", "--admin", "--db", dbPath)
		requireCode(t, r, exitOK)
		if !strings.Contains(r.stdout, "admin") {
			t.Errorf("stdout = %q, want it to say admin", r.stdout)
		}

		// The flags made it into the database.
		app := mustOpenApp(t, nil, dbPath)
		ctx := context.Background()
		for email, admin := range map[string]bool{"ann@example.com": false, "root@example.com": true} {
			u, err := app.Services.Users.FindUserByEmail(ctx, email)
			if err != nil {
				t.Fatalf("find %s: %v", email, err)
			}
			if u.IsAdmin != admin {
				t.Errorf("%s: admin = %v, want %v", email, u.IsAdmin, admin)
			}
		}
		if _, err := app.Services.Users.Authenticate(ctx, "ann@example.com", "correct-horse"); err != nil {
			t.Errorf("sign in with the CLI-set password: %v", err)
		}
	})

	t.Run("ErrDuplicate", func(t *testing.T) {
		dbPath := tempDB(t)
		mustCreateUser(t, nil, dbPath, "ann@example.com", "correct-horse", false)
		for _, email := range []string{"ann@example.com", "  Ann@Example.COM "} {
			r := runCLI(t, nil, "user", "create", "--email", email, "--password", "another-password", "--db", dbPath)
			requireCode(t, r, exitFailure)
			requireOneErrorLine(t, r.stderr)
			if !strings.Contains(r.stderr, "already exists") {
				t.Errorf("email %q: stderr = %q, want it to say the user already exists", email, r.stderr)
			}
			if r.stdout != "" {
				t.Errorf("email %q: stdout = %q, want empty", email, r.stdout)
			}
		}
	})

	t.Run("ErrShortPassword", func(t *testing.T) {
		dbPath := tempDB(t)
		r := runCLI(t, nil, "user", "create", "--email", "ann@example.com", "--password", "short", "--db", dbPath)
		requireCode(t, r, exitFailure)
		requireOneErrorLine(t, r.stderr)
		if !strings.Contains(r.stderr, "password") || !strings.Contains(r.stderr, "8 characters") {
			t.Errorf("stderr = %q, want a message about the password's length", r.stderr)
		}
	})

	t.Run("ErrBadEmail", func(t *testing.T) {
		dbPath := tempDB(t)
		r := runCLI(t, nil, "user", "create", "--email", "not-an-address", "--password", "correct-horse", "--db", dbPath)
		requireCode(t, r, exitFailure)
		requireOneErrorLine(t, r.stderr)
		if !strings.Contains(r.stderr, "email") {
			t.Errorf("stderr = %q, want it to name the e-mail", r.stderr)
		}
	})

	t.Run("ErrUsage", func(t *testing.T) {
		dbPath := tempDB(t)
		for name, args := range map[string][]string{
			"NoEmail":    {"user", "create", "--password", "correct-horse", "--db", dbPath},
			"NoPassword": {"user", "create", "--email", "ann@example.com", "--db", dbPath},
			"ExtraArg":   {"user", "create", "--email", "ann@example.com", "--password", "correct-horse", "--db", dbPath, "extra"},
		} {
			t.Run(name, func(t *testing.T) {
				r := runCLI(t, nil, args...)
				requireCode(t, r, exitUsage)
				requireOneErrorLine(t, r.stderr)
			})
		}
	})
}

func TestCLITokenCreate(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		dbPath := tempDB(t)
		mustCreateUser(t, nil, dbPath, "root@example.com", "correct-horse", true)

		r := runCLI(t, nil, "token", "create", "--email", "root@example.com", "--name", "laptop", "--db", dbPath)
		requireCode(t, r, exitOK)
		if r.stderr != "" {
			t.Errorf("stderr = %q, want empty", r.stderr)
		}
		if !regexp.MustCompile(`^jct_[A-Za-z0-9]+\n$`).MatchString(r.stdout) {
			t.Fatalf("stdout = %q, want only a token on one line", r.stdout)
		}
		token := strings.TrimSuffix(r.stdout, "\n")

		// Each run makes a new token.
		if other := mustCreateToken(t, nil, dbPath, "ROOT@example.com"); other == token {
			t.Errorf("two runs printed the same token %q", token)
		}

		app := mustOpenApp(t, nil, dbPath)
		rec := apiGet(t, app, token, "/api/v1/projects")
		if rec.Code != http.StatusOK {
			t.Fatalf("GET /api/v1/projects: status %d, body %s", rec.Code, rec.Body)
		}
		if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("Content-Type = %q, want JSON", ct)
		}
		if got, want := strings.TrimSpace(rec.Body.String()), `{"items":[],"total":0,"page":1,"per_page":50}`; got != want {
			t.Errorf("body = %s, want %s", got, want)
		}

		// The token belongs to the user it was made for.
		rec = apiGet(t, app, token, "/api/v1/me")
		var me junction.User
		if err := json.Unmarshal(rec.Body.Bytes(), &me); err != nil || rec.Code != http.StatusOK {
			t.Fatalf("GET /api/v1/me: status %d, body %s, err %v", rec.Code, rec.Body, err)
		}
		if me.Email != "root@example.com" || !me.IsAdmin {
			t.Errorf("me = %+v, want the admin root@example.com", me)
		}

		// A made-up token does not work.
		if rec := apiGet(t, app, "jct_notarealtoken0000", "/api/v1/projects"); rec.Code != http.StatusUnauthorized {
			t.Errorf("GET with a wrong token: status %d, want 401", rec.Code)
		}
	})

	t.Run("ErrUnknownEmail", func(t *testing.T) {
		dbPath := tempDB(t)
		r := runCLI(t, nil, "token", "create", "--email", "nobody@example.com", "--db", dbPath)
		requireCode(t, r, exitFailure)
		requireOneErrorLine(t, r.stderr)
		if r.stdout != "" {
			t.Errorf("stdout = %q, want empty", r.stdout)
		}
	})

	t.Run("ErrNameTooLong", func(t *testing.T) {
		dbPath := tempDB(t)
		mustCreateUser(t, nil, dbPath, "ann@example.com", "correct-horse", false)
		r := runCLI(t, nil, "token", "create", "--email", "ann@example.com", "--name", strings.Repeat("n", 101), "--db", dbPath)
		requireCode(t, r, exitFailure)
		requireOneErrorLine(t, r.stderr)
		if r.stdout != "" {
			t.Errorf("stdout = %q, want empty", r.stdout)
		}
	})

	t.Run("ErrNoEmail", func(t *testing.T) {
		r := runCLI(t, nil, "token", "create", "--db", tempDB(t))
		requireCode(t, r, exitUsage)
		requireOneErrorLine(t, r.stderr)
	})
}

func TestCLIUsage(t *testing.T) {
	dbPath := tempDB(t)
	for name, args := range map[string][]string{
		"NoCommand":         {},
		"UnknownCommand":    {"frobnicate"},
		"UnknownFlag":       {"migrate", "--bogus", "--db", dbPath},
		"UnknownServeFlag":  {"serve", "--bogus"},
		"UserWithoutCreate": {"user"},
		"UserOtherVerb":     {"user", "delete", "--email", "ann@example.com"},
		"TokenWithoutVerb":  {"token"},
		"MigrateExtraArg":   {"migrate", "--db", dbPath, "extra"},
		"FlagMissingValue":  {"migrate", "--db"},
	} {
		t.Run(name, func(t *testing.T) {
			r := runCLI(t, nil, args...)
			requireCode(t, r, exitUsage)
			requireOneErrorLine(t, r.stderr)
			if r.stdout != "" {
				t.Errorf("stdout = %q, want empty", r.stdout)
			}
		})
	}

	for _, args := range [][]string{{"help"}, {"-h"}, {"--help"}, {"migrate", "-h"}} {
		t.Run("Help "+strings.Join(args, " "), func(t *testing.T) {
			r := runCLI(t, nil, args...)
			requireCode(t, r, exitOK)
			if !strings.Contains(r.stdout, "Usage: junction") {
				t.Errorf("stdout = %q, want the usage", r.stdout)
			}
			if r.stderr != "" {
				t.Errorf("stderr = %q, want empty", r.stderr)
			}
		})
	}
	if _, err := os.Stat(dbPath); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a usage error created the database (stat: %v)", err)
	}
}

func TestCLIDatabaseFromEnvironment(t *testing.T) {
	dbPath := tempDB(t)
	env := map[string]string{"JUNCTION_DB": dbPath}

	r := runCLI(t, env, "migrate")
	requireCode(t, r, exitOK)
	if !strings.Contains(r.stdout, dbPath) {
		t.Errorf("stdout = %q, want it to name %s", r.stdout, dbPath)
	}
	if _, err := os.Stat(dbPath); err != nil {
		t.Fatalf("JUNCTION_DB was not used: %v", err)
	}
	if _, err := os.Stat(dbPath + ".key"); err != nil {
		t.Errorf("key file next to JUNCTION_DB: %v", err)
	}

	requireCode(t, runCLI(t, env, "user", "create", "--email", "ann@example.com", "--password", "correct-horse"), exitOK)
	token := mustCreateToken(t, env, "", "ann@example.com")
	if !strings.HasPrefix(token, "jct_") {
		t.Errorf("token = %q", token)
	}
	// The user really is in the JUNCTION_DB file.
	app := mustOpenApp(t, nil, dbPath)
	if _, err := app.Services.Users.FindUserByEmail(context.Background(), "ann@example.com"); err != nil {
		t.Errorf("user created via JUNCTION_DB: %v", err)
	}

	// --db wins over JUNCTION_DB.
	other := tempDB(t)
	requireCode(t, runCLI(t, env, "migrate", "--db", other), exitOK)
	if _, err := os.Stat(other); err != nil {
		t.Errorf("--db was not used: %v", err)
	}
}

// syncBuffer is a bytes.Buffer safe for one writer and concurrent readers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// runningServe is a `junction serve` running in a goroutine.
type runningServe struct {
	url    string
	stdout *syncBuffer
	stderr *syncBuffer
	cancel context.CancelFunc
	done   chan int
}

var runningAt = regexp.MustCompile(`Junction is running at (http://\S+)`)

// startServe runs serve with args until the test stops it, and waits until it listens.
func startServe(t *testing.T, env map[string]string, args ...string) *runningServe {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &runningServe{stdout: &syncBuffer{}, stderr: &syncBuffer{}, cancel: cancel, done: make(chan int, 1)}
	go func() {
		s.done <- Run(ctx, append([]string{"serve"}, args...), s.stdout, s.stderr, mapEnv(env))
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-s.done:
		case <-time.After(10 * time.Second):
			t.Errorf("serve did not stop")
		}
	})

	// A bound, not a timing assert: seeding the demo under -race on a busy machine is slow.
	deadline := time.After(60 * time.Second)
	for {
		if m := runningAt.FindStringSubmatch(s.stdout.String()); m != nil {
			s.url = m[1]
			return s
		}
		select {
		case code := <-s.done:
			s.done <- code
			t.Fatalf("serve exited with %d before listening\nstdout: %s\nstderr: %s", code, s.stdout, s.stderr)
		case <-deadline:
			t.Fatalf("serve did not print its address\nstdout: %s\nstderr: %s", s.stdout, s.stderr)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// stop cancels serve's context and requires a clean exit within a few seconds.
func (s *runningServe) stop(t *testing.T) {
	t.Helper()
	s.cancel()
	select {
	case code := <-s.done:
		s.done <- code // for the cleanup
		if code != exitOK {
			t.Fatalf("serve exited with %d after cancel, want 0\nstderr: %s", code, s.stderr)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("serve did not return within 5s of cancel")
	}
}

func httpGet(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: read body: %v", url, err)
	}
	return resp.StatusCode, string(body)
}

// demoState lists the projects and counts the users and components in dbPath.
func demoState(t *testing.T, dbPath string) (handles []string, users int, components map[string]int) {
	t.Helper()
	app := mustOpenApp(t, nil, dbPath)
	ctx := context.Background()
	users, err := app.Services.Users.CountUsers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := app.Services.Users.FindUserByEmail(ctx, DemoAdminEmail)
	if err != nil {
		t.Fatalf("demo admin: %v", err)
	}
	ctx = junction.NewContextWithUser(ctx, admin)
	projects, total, err := app.Services.Projects.FindProjects(ctx, junction.ProjectFilter{Page: junction.Page{Page: 1, PerPage: 200}})
	if err != nil {
		t.Fatal(err)
	}
	if total != len(projects) {
		t.Errorf("FindProjects: total %d, %d items", total, len(projects))
	}
	components = map[string]int{}
	for _, p := range projects {
		handles = append(handles, p.Handle)
		cs, _, err := app.Services.Components.FindComponents(ctx, p.Handle, junction.Page{Page: 1, PerPage: 200})
		if err != nil {
			t.Fatalf("components of %s: %v", p.Handle, err)
		}
		components[p.Handle] = len(cs)
	}
	slices.Sort(handles)
	return handles, users, components
}

func TestServeDemo(t *testing.T) {
	dbPath := tempDB(t)
	args := []string{"--addr", "127.0.0.1:0", "--db", dbPath, "--demo"}

	s := startServe(t, nil, args...)
	if !strings.HasPrefix(s.url, "http://127.0.0.1:") || strings.HasSuffix(s.url, ":0") {
		t.Errorf("URL = %q, want the bound 127.0.0.1 port", s.url)
	}
	if out := s.stdout.String(); !strings.Contains(out, DemoAdminEmail+" / "+DemoPassword) || DemoAdminEmail != "admin@example.com" || DemoPassword != "junction-demo" {
		t.Errorf("stdout = %q, want the demo sign-in admin@example.com / junction-demo", out)
	}
	if code, body := httpGet(t, s.url+"/healthz", ""); code != http.StatusOK || body != "ok" {
		t.Errorf("GET /healthz = %d %q, want 200 \"ok\"", code, body)
	}
	if code, _ := httpGet(t, s.url+"/api/v1/projects", ""); code != http.StatusUnauthorized {
		t.Errorf("GET /api/v1/projects without a token = %d, want 401", code)
	}
	// The demo admin can sign in to the API through a CLI token while serve runs.
	token := mustCreateToken(t, nil, dbPath, DemoAdminEmail)
	code, body := httpGet(t, s.url+"/api/v1/projects", token)
	if code != http.StatusOK {
		t.Fatalf("GET /api/v1/projects = %d %s", code, body)
	}
	var list struct {
		Items []junction.Project `json:"items"`
		Total int                `json:"total"`
	}
	if err := json.Unmarshal([]byte(body), &list); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	if list.Total != 3 {
		t.Errorf("demo projects over HTTP: total %d, want 3 (%s)", list.Total, body)
	}
	s.stop(t)
	if strings.Contains(s.stderr.String(), token) {
		t.Errorf("the server log holds the bearer token")
	}
	if !strings.Contains(s.stderr.String(), "/api/v1/projects") {
		t.Errorf("stderr = %q, want a request log line", s.stderr)
	}

	// The listener is closed after shutdown.
	if _, err := net.DialTimeout("tcp", strings.TrimPrefix(s.url, "http://"), time.Second); err == nil {
		t.Errorf("still accepting connections at %s after shutdown", s.url)
	}

	handles, users, components := demoState(t, dbPath)
	want := []string{"analytics", "platform", "shop"}
	if !slices.Equal(handles, want) {
		t.Fatalf("projects after first start = %v, want %v", handles, want)
	}

	// Start again: seeding must add nothing.
	s2 := startServe(t, nil, args...)
	if out := s2.stdout.String(); !strings.Contains(out, DemoAdminEmail+" / "+DemoPassword) {
		t.Errorf("second start stdout = %q, want the demo sign-in again", out)
	}
	if code, body := httpGet(t, s2.url+"/healthz", ""); code != http.StatusOK || body != "ok" {
		t.Errorf("second start: GET /healthz = %d %q", code, body)
	}
	s2.stop(t)

	handles2, users2, components2 := demoState(t, dbPath)
	if !slices.Equal(handles2, want) {
		t.Errorf("projects after second start = %v, want %v", handles2, want)
	}
	if users2 != users || users2 != 3 {
		t.Errorf("users: %d after first start, %d after second, want 3", users, users2)
	}
	for h, n := range components {
		if components2[h] != n {
			t.Errorf("components of %s: %d after first start, %d after second", h, n, components2[h])
		}
	}

	// SeedDemo directly on a seeded database reports that it added nothing.
	app := mustOpenApp(t, nil, dbPath)
	added, err := SeedDemo(context.Background(), app.Services)
	if err != nil {
		t.Fatalf("SeedDemo again: %v", err)
	}
	if added {
		t.Errorf("SeedDemo on a seeded database reported it added the demo")
	}
}

func TestServeGracefulShutdown(t *testing.T) {
	dbPath := tempDB(t)
	s := startServe(t, nil, "--addr", "127.0.0.1:0", "--db", dbPath)
	if strings.Contains(s.stdout.String(), "Demo sign-in") {
		t.Errorf("stdout = %q, want no demo sign-in without --demo", s.stdout)
	}
	if code, body := httpGet(t, s.url+"/healthz", ""); code != http.StatusOK || body != "ok" {
		t.Errorf("GET /healthz = %d %q, want 200 \"ok\"", code, body)
	}
	s.stop(t)
	// Without --demo nobody was created.
	app := mustOpenApp(t, nil, dbPath)
	if n, err := app.Services.Users.CountUsers(context.Background()); err != nil || n != 0 {
		t.Errorf("users = %d (err %v), want 0", n, err)
	}
}

func TestServeAddrFromEnvironment(t *testing.T) {
	dbPath := tempDB(t)
	env := map[string]string{"JUNCTION_ADDR": "127.0.0.1:0", "JUNCTION_DB": dbPath}
	s := startServe(t, env)
	if !strings.HasPrefix(s.url, "http://127.0.0.1:") {
		t.Errorf("URL = %q, want JUNCTION_ADDR's host", s.url)
	}
	if !strings.Contains(s.stdout.String(), dbPath) {
		t.Errorf("stdout = %q, want it to name JUNCTION_DB %s", s.stdout, dbPath)
	}
	s.stop(t)
	if _, err := os.Stat(dbPath); err != nil {
		t.Errorf("JUNCTION_DB was not used: %v", err)
	}
}

func TestServeAddressInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var stdout, stderr syncBuffer
	dbPath := tempDB(t)
	code := Run(ctx, []string{"serve", "--addr", ln.Addr().String(), "--db", dbPath}, &stdout, &stderr, mapEnv(nil))
	if code != exitFailure {
		t.Fatalf("exit code = %d, want 1\nstdout: %s\nstderr: %s", code, &stdout, &stderr)
	}
	requireOneErrorLine(t, stderr.String())
	// The address is checked before anything is created.
	entries, err := os.ReadDir(filepath.Dir(dbPath))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("a failed start left %s behind", e.Name())
	}
}

func TestServeAdminFromEnvironment(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		dbPath := tempDB(t)
		env := map[string]string{"JUNCTION_ADMIN_EMAIL": "boss@example.com", "JUNCTION_ADMIN_PASSWORD": "boss-password"}
		s := startServe(t, env, "--addr", "127.0.0.1:0", "--db", dbPath)
		s.stop(t)

		r := runCLI(t, nil, "user", "create", "--email", "boss@example.com", "--password", "another-password", "--db", dbPath)
		requireCode(t, r, exitFailure)
		requireOneErrorLine(t, r.stderr)
		if !strings.Contains(r.stderr, "already exists") {
			t.Errorf("stderr = %q, want the duplicate message", r.stderr)
		}

		app := mustOpenApp(t, nil, dbPath)
		ctx := context.Background()
		boss, err := app.Services.Users.Authenticate(ctx, "boss@example.com", "boss-password")
		if err != nil {
			t.Fatalf("sign in as the configured admin: %v", err)
		}
		if !boss.IsAdmin {
			t.Errorf("configured user is not an admin")
		}
		if n, _ := app.Services.Users.CountUsers(ctx); n != 1 {
			t.Errorf("users = %d, want 1", n)
		}
	})

	t.Run("NotWhenUsersExist", func(t *testing.T) {
		dbPath := tempDB(t)
		mustCreateUser(t, nil, dbPath, "first@example.com", "first-password", true)
		env := map[string]string{"JUNCTION_ADMIN_EMAIL": "boss@example.com", "JUNCTION_ADMIN_PASSWORD": "boss-password"}
		s := startServe(t, env, "--addr", "127.0.0.1:0", "--db", dbPath)
		s.stop(t)
		// boss was not created, so creating it now works.
		requireCode(t, runCLI(t, nil, "user", "create", "--email", "boss@example.com", "--password", "boss-password", "--db", dbPath), exitOK)
	})

	t.Run("RestartKeepsPassword", func(t *testing.T) {
		dbPath := tempDB(t)
		env := map[string]string{"JUNCTION_ADMIN_EMAIL": "boss@example.com", "JUNCTION_ADMIN_PASSWORD": "boss-password"}
		startServe(t, env, "--addr", "127.0.0.1:0", "--db", dbPath).stop(t)
		// A later start with another password neither fails nor changes the admin.
		env["JUNCTION_ADMIN_PASSWORD"] = "changed-password"
		startServe(t, env, "--addr", "127.0.0.1:0", "--db", dbPath).stop(t)
		app := mustOpenApp(t, nil, dbPath)
		if _, err := app.Services.Users.Authenticate(context.Background(), "boss@example.com", "boss-password"); err != nil {
			t.Errorf("original password no longer works: %v", err)
		}
	})

	t.Run("ErrOnlyEmail", func(t *testing.T) {
		dbPath := tempDB(t)
		env := map[string]string{"JUNCTION_ADMIN_EMAIL": "boss@example.com"}
		var stdout, stderr syncBuffer
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		code := Run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--db", dbPath}, &stdout, &stderr, mapEnv(env))
		if code != exitFailure {
			t.Fatalf("exit code = %d, want 1\nstdout: %s\nstderr: %s", code, &stdout, &stderr)
		}
		requireOneErrorLine(t, stderr.String())
		if !strings.Contains(stderr.String(), "JUNCTION_ADMIN_PASSWORD") {
			t.Errorf("stderr = %q, want it to name the missing variable", &stderr)
		}
	})

	t.Run("ErrShortPassword", func(t *testing.T) {
		dbPath := tempDB(t)
		env := map[string]string{"JUNCTION_ADMIN_EMAIL": "boss@example.com", "JUNCTION_ADMIN_PASSWORD": "short"}
		var stdout, stderr syncBuffer
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		code := Run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--db", dbPath}, &stdout, &stderr, mapEnv(env))
		if code != exitFailure {
			t.Fatalf("exit code = %d, want 1\nstdout: %s\nstderr: %s", code, &stdout, &stderr)
		}
		requireOneErrorLine(t, stderr.String())
		if !strings.Contains(stderr.String(), "8 characters") {
			t.Errorf("stderr = %q, want the password rule", &stderr)
		}
	})
}

func TestCLIBackup(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "junction.db")
	requireCode(t, runCLI(t, nil, "user", "create", "--email", "ada@example.com", "--password", "long enough", "--admin", "--db", dbPath), exitOK)

	out := filepath.Join(dir, "copy.db")
	r := runCLI(t, nil, "backup", "--db", dbPath, out)
	requireCode(t, r, exitOK)
	if !strings.Contains(r.stdout, out) || !strings.Contains(r.stdout, dbPath+".key") {
		t.Errorf("stdout = %q, want the copy and where its key is", r.stdout)
	}
	// The copy is a working database: with the original key, it knows the user.
	if err := os.WriteFile(out+".key", mustRead(t, dbPath+".key"), 0o600); err != nil {
		t.Fatal(err)
	}
	r = runCLI(t, nil, "token", "create", "--email", "ada@example.com", "--db", out)
	requireCode(t, r, exitOK)

	r = runCLI(t, nil, "backup", "--db", dbPath, out)
	requireCode(t, r, exitFailure)
	requireOneErrorLine(t, r.stderr)

	requireCode(t, runCLI(t, nil, "backup", "--db", dbPath), exitUsage)
	requireCode(t, runCLI(t, nil, "backup", "--db", filepath.Join(dir, "missing.db"), filepath.Join(dir, "x.db")), exitFailure)
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestCLITokenCreateNeedsExistingDatabase(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "missing.db")
	r := runCLI(t, nil, "token", "create", "--email", "ada@example.com", "--db", dbPath)
	requireCode(t, r, exitFailure)
	requireOneErrorLine(t, r.stderr)
	for _, p := range []string{dbPath, dbPath + ".key"} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s was created by a command that only reads", p)
		}
	}
	r = runCLI(t, nil, "migrate", "--db", filepath.Join(t.TempDir(), "no", "such", "dir", "x.db"))
	requireCode(t, r, exitFailure)
	if !strings.Contains(r.stderr, "database directory") {
		t.Errorf("stderr = %q, want it to name the missing directory", r.stderr)
	}
}

// TestCLICommandHelp: `junction COMMAND --help` prints that command's flags with their
// defaults (never a secret from the environment) and exits 0.
func TestCLICommandHelp(t *testing.T) {
	env := map[string]string{"JUNCTION_TOKEN": "jrt_secretfromenv", "JUNCTION_OIDC_CLIENT_SECRET": "oidc-secret-from-env"}
	for _, tt := range []struct {
		args []string
		want []string
	}{
		{[]string{"serve", "--help"}, []string{"Usage: junction serve", "--addr string", `(default "127.0.0.1:8080")`, "--demo", "--public-url"}},
		{[]string{"migrate", "-h"}, []string{"Usage: junction migrate", "--db string", `(default "junction.db")`}},
		{[]string{"user", "create", "--help"}, []string{"Usage: junction user create", "--email", "--password", "--admin"}},
		{[]string{"user", "--help"}, []string{"Usage: junction user create"}},
		{[]string{"token", "create", "--help"}, []string{"Usage: junction token create", "--name"}},
		{[]string{"backup", "--help"}, []string{"Usage: junction backup", "--db"}},
		{[]string{"env", "--help"}, []string{"Usage: junction env", "--format string", `(default "dotenv")`, "--token string", "set from the environment"}},
		{[]string{"run", "--help"}, []string{"Usage: junction run", "--server string"}},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := runCLI(t, env, tt.args...)
			requireCode(t, r, exitOK)
			for _, want := range tt.want {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
				}
			}
			for _, secret := range env {
				if strings.Contains(r.stdout, secret) {
					t.Errorf("help shows a secret from the environment:\n%s", r.stdout)
				}
			}
			if strings.Contains(r.stdout, "Commands:") {
				t.Errorf("stdout is the general usage, not the command's:\n%s", r.stdout)
			}
			if r.stderr != "" {
				t.Errorf("stderr = %q, want empty", r.stderr)
			}
		})
	}
}

// TestCLIVersion: `junction version` prints what -ldflags set, else the build info.
func TestCLIVersion(t *testing.T) {
	r := runCLI(t, nil, "version")
	requireCode(t, r, exitOK)
	if !regexp.MustCompile(`^junction \S+ \(commit \S+, built \S+\)\n$`).MatchString(r.stdout) {
		t.Errorf("stdout = %q", r.stdout)
	}
	version, commit, buildDate = "v1.2.3", "abc1234", "2026-12-02T17:00:00Z"
	t.Cleanup(func() { version, commit, buildDate = "", "", "" })
	r = runCLI(t, nil, "version")
	requireCode(t, r, exitOK)
	if want := "junction v1.2.3 (commit abc1234, built 2026-12-02T17:00:00Z)\n"; r.stdout != want {
		t.Errorf("stdout = %q, want %q", r.stdout, want)
	}
	r = runCLI(t, nil, "version", "extra")
	requireCode(t, r, exitUsage)
	requireOneErrorLine(t, r.stderr)
}

// TestCLIVersionFromLdflags builds the binary as the Makefile does and runs it.
func TestCLIVersionFromLdflags(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "junction")
	cmd := exec.Command("go", "build", "-tags", "sqlite_fts5", "-ldflags", "-X main.version=v9.9.9 -X main.commit=feedbee -X main.buildDate=2026-01-02T03:04:05Z", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	if want := "junction v9.9.9 (commit feedbee, built 2026-01-02T03:04:05Z)\n"; string(out) != want {
		t.Errorf("version = %q, want %q", out, want)
	}
}
