package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction"
)

// watching runs a junction command in the background until the test ends or it exits.
type watching struct {
	stdout, stderr *syncBuffer
	cancel         context.CancelFunc
	done           chan int
}

func startWatching(t *testing.T, args ...string) *watching {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w := &watching{stdout: &syncBuffer{}, stderr: &syncBuffer{}, cancel: cancel, done: make(chan int, 1)}
	go func() { w.done <- Run(ctx, args, w.stdout, w.stderr, func(string) string { return "" }) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-w.done:
		case <-time.After(10 * time.Second):
			t.Error("the watch did not end")
		}
	})
	return w
}

// waitFor waits until out contains want, failing after 15 s (a generous bound, not a timing
// assert: the long poll answers within milliseconds of the change).
func waitFor(t *testing.T, what string, out func() string, want string) {
	t.Helper()
	require.Eventually(t, func() bool { return strings.Contains(out(), want) }, 15*time.Second, 20*time.Millisecond,
		"%s never showed %q; it has:\n%s", what, want, out())
}

// remap renames the fixture's ServiceURL variable.
func remap(t *testing.T, app *App, name string) {
	t.Helper()
	as := junction.NewContextWithUser(context.Background(), mustAdmin(t, app))
	conns, err := app.Services.Connections.FindConnections(as, junction.ConnectionFilter{Project: "shop", Component: "orders"})
	require.NoError(t, err)
	require.NotEmpty(t, conns)
	_, err = app.Services.Mappings.SetMappings(as, "shop", "orders", conns[0].ID,
		map[string]string{"ServiceURL": name, "AuthToken": "TWILIO_AUTHTOKEN"})
	require.NoError(t, err)
}

// childScript prints the TWILIO_ names it was started with, and "stopped" on SIGTERM.
const childScript = `trap 'echo stopped; exit 0' TERM; echo "started with $(env | grep -o '^TWILIO_[A-Z]*' | sort | tr '\n' ' ')"; while :; do sleep 0.05; done`

// TestCLIRunWatch restarts a real child process when the variables change, saying which
// names changed, and stops it when the token is revoked.
func TestCLIRunWatch(t *testing.T) {
	base, token, app := runtimeFixture(t)
	w := startWatching(t, "run", "--watch", "--stop-timeout", "5s", "--server", base, "--token", token, "--", "sh", "-c", childScript)
	waitFor(t, "the command", w.stdout.String, "started with TWILIO_AUTHTOKEN TWILIO_SERVICEURL")

	remap(t, app, "TWILIO_URL")
	waitFor(t, "the command", w.stdout.String, "started with TWILIO_AUTHTOKEN TWILIO_URL")
	require.Contains(t, w.stdout.String(), "stopped", "the first command got SIGTERM")
	require.Contains(t, w.stderr.String(), "junction: variables changed (TWILIO_URL (added), TWILIO_SERVICEURL (removed)): restarting sh\n")
	require.NotContains(t, w.stderr.String(), "sandbox", "names only, never values")
	require.Equal(t, 2, strings.Count(w.stdout.String(), "started with"), "one restart for one change")

	// A change that leaves the variables as they were restarts nothing.
	remap(t, app, "TWILIO_URL")
	as := junction.NewContextWithUser(context.Background(), mustAdmin(t, app))
	tokens, err := app.Services.Mappings.FindRuntimeTokens(as, "shop", "orders")
	require.NoError(t, err)
	require.NoError(t, app.Services.Mappings.RevokeRuntimeToken(as, "shop", "orders", tokens[0].ID))
	select {
	case code := <-w.done:
		require.Equal(t, exitFailure, code, "a revoked token ends the watch with an error")
	case <-time.After(15 * time.Second):
		t.Fatal("run --watch went on after the token was revoked")
	}
	require.Equal(t, 2, strings.Count(w.stdout.String(), "started with"), "no restart for an unchanged environment")
	require.Equal(t, 2, strings.Count(w.stdout.String(), "stopped"), "the command was stopped")
	require.Contains(t, w.stderr.String(), "junction: the runtime token is unknown or revoked: stopped sh\n")
	w.done <- exitFailure // for the cleanup
}

// TestCLIRunWatchStopTimeout kills a command that ignores SIGTERM once the stop timeout
// ends, and starts the new one.
func TestCLIRunWatchStopTimeout(t *testing.T) {
	base, token, app := runtimeFixture(t)
	stubborn := `trap '' TERM; echo "started with $(env | grep -o '^TWILIO_[A-Z]*' | sort | tr '\n' ' ')"; while :; do sleep 0.05; done`
	w := startWatching(t, "run", "--watch", "--stop-timeout", "200ms", "--server", base, "--token", token, "--", "sh", "-c", stubborn)
	waitFor(t, "the command", w.stdout.String, "started with TWILIO_AUTHTOKEN TWILIO_SERVICEURL")
	remap(t, app, "TWILIO_URL")
	waitFor(t, "the command", w.stdout.String, "started with TWILIO_AUTHTOKEN TWILIO_URL")
}

// TestCLIRunWatchExitCode keeps the command's exit code when it exits on its own.
func TestCLIRunWatchExitCode(t *testing.T) {
	base, token, _ := runtimeFixture(t)
	code, _, errOut := runOut(t, "run", "--watch", "--server", base, "--token", token, "--", "sh", "-c", "exit 3")
	require.Equal(t, 3, code, errOut)
}

// TestCLIEnvWatch prints each new version, after a comment line.
func TestCLIEnvWatch(t *testing.T) {
	base, token, app := runtimeFixture(t)
	// The fixture's token value has both quotes and a $, which dotenv cannot carry: shell.
	w := startWatching(t, "env", "--watch", "--format", "shell", "--server", base, "--token", token)
	waitFor(t, "env --watch", w.stdout.String, "export TWILIO_SERVICEURL='https://sandbox.twilio.example'\n")
	remap(t, app, "TWILIO_URL")
	waitFor(t, "env --watch", w.stdout.String, "export TWILIO_URL='https://sandbox.twilio.example'\n")
	out := w.stdout.String()
	require.Regexp(t, `(?m)^# junction: the variables changed at \d{4}-\d\d-\d\dT`, out)
	require.Less(t, strings.Index(out, "TWILIO_SERVICEURL="), strings.Index(out, "# junction:"))
	require.Less(t, strings.Index(out, "# junction:"), strings.Index(out, "TWILIO_URL="))
	w.cancel()
	require.Equal(t, 0, <-w.done, "an interrupted watch ends quietly")
	w.done <- 0
}

// TestWatcherRetries retries network errors and failing answers with a backoff, says so once
// and once more when the console answers again, and returns the next version.
func TestWatcherRetries(t *testing.T) {
	var calls atomic.Int32
	console := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch calls.Add(1) {
		case 1, 2:
			http.Error(w, "restarting", http.StatusServiceUnavailable)
		case 3:
			require.Equal(t, `"v1"`, r.Header.Get("If-None-Match"))
			require.Equal(t, "60s", r.URL.Query().Get("wait"))
			w.WriteHeader(http.StatusNotModified) // the wait ended with no change
		default:
			w.Header().Set("ETag", `"v2"`)
			w.Write([]byte(`{"A":"2"}`))
		}
	}))
	defer console.Close()
	var stderr bytes.Buffer
	w := newWatcher(console.URL, "jrt_x", "json", `"v1"`, &stderr)
	w.wait, w.minBackoff = time.Minute, time.Millisecond
	body, err := w.next(t.Context())
	require.NoError(t, err)
	require.JSONEq(t, `{"A":"2"}`, string(body))
	require.Equal(t, `"v2"`, w.etag)
	require.Equal(t, int32(4), calls.Load())
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	require.Len(t, lines, 2, stderr.String())
	require.Contains(t, lines[0], "answered 503 Service Unavailable; retrying")
	require.Contains(t, lines[1], "answers again")

	console.Close()
	stderr.Reset()
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	_, err = w.next(ctx)
	require.Error(t, err, "an unreachable console is retried until interrupted")
	require.Contains(t, stderr.String(), "cannot reach the console")
	require.Equal(t, 1, strings.Count(stderr.String(), "retrying"), "said once, not at every retry")
}

// TestChangedNames lists names, never values.
func TestChangedNames(t *testing.T) {
	got := changedNames(map[string]string{"A": "1", "B": "2", "C": "3"}, map[string]string{"A": "1", "B": "9", "D": "4"})
	require.Equal(t, []string{"B", "D (added)", "C (removed)"}, got)
	require.Empty(t, changedNames(map[string]string{"A": "1"}, map[string]string{"A": "1"}))
}

func mustAdmin(t *testing.T, app *App) *junction.User {
	t.Helper()
	user, err := app.Services.Users.FindUserByEmail(context.Background(), "admin@example.org")
	require.NoError(t, err)
	return user
}
