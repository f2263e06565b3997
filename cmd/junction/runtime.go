package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"
)

// runtimeFlags are the flags of env and run: where the console is and the runtime token.
func runtimeFlags(fs *flag.FlagSet, getenv func(string) string) (server, token *string) {
	server = fs.String("server", envOr(getenv, "JUNCTION_SERVER", "http://127.0.0.1:8080"), "console URL")
	token = fs.String("token", getenv("JUNCTION_TOKEN"), "runtime token")
	return server, token
}

// permanentError is an answer that trying again cannot change: a revoked token, a format
// that cannot carry the values. A watch ends on it; network errors are retried.
type permanentError struct{ msg string }

func (e *permanentError) Error() string { return e.msg }

// runtimeAnswer is one answer of the runtime API: a body with its ETag, or (notModified) the
// ETag sent is still current.
type runtimeAnswer struct {
	body        []byte
	etag        string
	notModified bool
}

// getRuntime fetches the component's variables in one of the runtime API's formats, so that
// the CLI prints exactly what the console answers. With etag and wait it is a long poll: the
// console holds it until the variables change or wait ends (notModified).
func getRuntime(ctx context.Context, server, token, format, etag string, wait time.Duration) (*runtimeAnswer, error) {
	if token == "" {
		return nil, &usageError{"no runtime token: pass --token or set JUNCTION_TOKEN"}
	}
	ctx, cancel := context.WithTimeout(ctx, wait+30*time.Second)
	defer cancel()
	target := strings.TrimSuffix(server, "/") + "/api/v1/runtime/env?format=" + url.QueryEscape(format)
	if wait > 0 {
		target += fmt.Sprintf("&wait=%ds", int(wait.Seconds()))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return nil, &usageError{fmt.Sprintf("bad --server %q", server)}
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("cannot reach the console at %s: %v", server, rootCause(err))
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("read the answer of %s: %w", server, err)
	}
	switch res.StatusCode {
	case http.StatusOK:
		return &runtimeAnswer{body: body, etag: res.Header.Get("ETag")}, nil
	case http.StatusNotModified:
		return &runtimeAnswer{etag: etag, notModified: true}, nil
	case http.StatusUnauthorized:
		return nil, &permanentError{"the runtime token is unknown or revoked"}
	case http.StatusUnprocessableEntity:
		// The console refuses a format that cannot carry the values; its message says why.
		var e struct {
			Error struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		if json.Unmarshal(body, &e) == nil && e.Error.Message != "" {
			return nil, &permanentError{strings.ReplaceAll(e.Error.Message, "format=", "--format ")}
		}
	}
	return nil, fmt.Errorf("the console at %s answered %s", server, res.Status)
}

// fetchRuntime gets the variables once in format.
func fetchRuntime(ctx context.Context, server, token, format string) (*runtimeAnswer, error) {
	return getRuntime(ctx, server, token, format, "", 0)
}

// decodeEnv reads a format=json answer.
func decodeEnv(server string, body []byte) (map[string]string, error) {
	var values map[string]string
	if err := json.Unmarshal(body, &values); err != nil {
		return nil, fmt.Errorf("the console at %s did not answer JSON: %w", server, err)
	}
	return values, nil
}

func rootCause(err error) error {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err
		}
		err = next
	}
}

// watcher follows the variables with long polls. Network errors and failing answers are
// retried with a backoff from one second doubling to 30 s, said once on stderr, and once
// more when the console answers again; a permanentError ends the watch.
type watcher struct {
	server, token, format string
	etag                  string
	stderr                io.Writer
	// wait is the long poll's length; minBackoff, maxBackoff the retry delays (tests shorten
	// them).
	wait, minBackoff, maxBackoff time.Duration
	failing                      bool
}

func newWatcher(server, token, format, etag string, stderr io.Writer) *watcher {
	return &watcher{server: server, token: token, format: format, etag: etag, stderr: stderr,
		wait: time.Minute, minBackoff: time.Second, maxBackoff: 30 * time.Second}
}

// next blocks until the variables differ from the last version seen and returns the new one.
func (w *watcher) next(ctx context.Context) ([]byte, error) {
	backoff := w.minBackoff
	for {
		ans, err := getRuntime(ctx, w.server, w.token, w.format, w.etag, w.wait)
		if err == nil {
			if w.failing {
				fmt.Fprintf(w.stderr, "junction: the console at %s answers again\n", w.server)
				w.failing = false
			}
			backoff = w.minBackoff
			if ans.notModified {
				continue
			}
			w.etag = ans.etag
			return ans.body, nil
		}
		var perm *permanentError
		var usage *usageError
		if errors.As(err, &perm) || errors.As(err, &usage) || ctx.Err() != nil {
			return nil, err
		}
		if !w.failing {
			fmt.Fprintf(w.stderr, "junction: %v; retrying\n", err)
			w.failing = true
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, w.maxBackoff)
	}
}

// runEnv prints the environment: junction env [--server URL] [--token T] [--format F]
// [--watch], in the console's own words for dotenv, shell and js. With --watch it goes on
// printing each new version, after a comment line saying when it changed.
func runEnv(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := newFlagSet("env")
	server, token := runtimeFlags(fs, getenv)
	format := fs.String("format", "dotenv", "dotenv, json, shell or js")
	watch := fs.Bool("watch", false, "print each new version when the variables change")
	if err := parse(fs, args); err != nil {
		return err
	}
	if !slices.Contains([]string{"dotenv", "json", "shell", "js"}, *format) {
		return &usageError{"env: --format must be dotenv, json, shell or js"}
	}
	ans, err := fetchRuntime(ctx, *server, *token, *format)
	if err != nil {
		return err
	}
	if err := printEnv(stdout, *server, *format, ans.body); err != nil || !*watch {
		return err
	}
	w := newWatcher(*server, *token, *format, ans.etag, stderr)
	for {
		body, err := w.next(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil // interrupted: the watch is over
			}
			return err
		}
		comment := "#"
		if *format == "js" {
			comment = "//"
		}
		note := fmt.Sprintf("%s junction: the variables changed at %s\n", comment, time.Now().UTC().Format(time.RFC3339))
		if *format == "json" {
			fmt.Fprint(stderr, note) // a comment would make the output invalid JSON
		} else {
			fmt.Fprint(stdout, note)
		}
		if err := printEnv(stdout, *server, *format, body); err != nil {
			return err
		}
	}
}

// printEnv writes one version: JSON indented, the other formats as the console wrote them.
func printEnv(stdout io.Writer, server, format string, body []byte) error {
	if format != "json" {
		_, err := stdout.Write(body)
		return err
	}
	values, err := decodeEnv(server, body)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(values)
}

// exitCodeError carries the exit code of the command that run started.
type exitCodeError struct{ code int }

func (e *exitCodeError) Error() string { return fmt.Sprintf("command exited with %d", e.code) }

// runRun starts a command with the component's variables added to the environment:
// junction run [--server URL] [--token T] [--watch [--stop-timeout D]] -- CMD ARGS….
// Signals go to the command, and run exits with its exit code. With --watch a change of the
// variables restarts the command (SIGTERM, then SIGKILL after the stop timeout) with the new
// ones, saying which names changed; a revoked token stops it and run fails.
func runRun(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := newFlagSet("run")
	server, token := runtimeFlags(fs, getenv)
	watch := fs.Bool("watch", false, "restart the command when the variables change")
	stopTimeout := fs.Duration("stop-timeout", 10*time.Second, "how long the command may take to stop (on a restart, or when run is interrupted) before SIGKILL")
	if err := fs.Parse(args); err != nil { // CMD and its arguments follow the flags
		if errors.Is(err, flag.ErrHelp) {
			return commandHelp(fs)
		}
		return &usageError{fmt.Sprintf("run: %v", err)}
	}
	command := fs.Args()
	if len(command) == 0 {
		return &usageError{"usage: junction run [--server URL] [--token T] [--watch] -- CMD ARGS…"}
	}
	ans, err := fetchRuntime(ctx, *server, *token, "json")
	if err != nil {
		return err
	}
	values, err := decodeEnv(*server, ans.body)
	if err != nil {
		return err
	}
	signals := make(chan os.Signal, 4)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT)
	defer signal.Stop(signals)

	type change struct {
		body []byte
		err  error
	}
	changes := make(chan change)
	if *watch {
		watchCtx, cancel := context.WithCancel(ctx)
		defer cancel()
		w := newWatcher(*server, *token, "json", ans.etag, stderr)
		go func() {
			for {
				body, err := w.next(watchCtx)
				select {
				case changes <- change{body, err}:
				case <-watchCtx.Done():
					return
				}
				if err != nil {
					return
				}
			}
		}()
	}

	cmd, done, err := startCommand(command, values, stdout, stderr)
	if err != nil {
		return err
	}
	interrupted := ctx.Done()
	for {
		select {
		case sig := <-signals:
			cmd.Process.Signal(sig)
		case <-interrupted:
			// junction itself was told to stop (the signal went on to the command above):
			// the command gets the stop timeout to exit, then it is killed.
			interrupted = nil
			go func() {
				time.Sleep(*stopTimeout)
				cmd.Process.Kill()
			}()
		case err := <-done:
			return exitStatus(err)
		case ch := <-changes:
			if ctx.Err() != nil {
				continue // stopping: no restart
			}
			if ch.err != nil {
				stopCommand(cmd, done, *stopTimeout)
				if ctx.Err() != nil {
					return ctx.Err()
				}
				return fmt.Errorf("%v: stopped %s", ch.err, command[0])
			}
			next, err := decodeEnv(*server, ch.body)
			if err != nil {
				fmt.Fprintf(stderr, "junction: %v; keeping %s running\n", err, command[0])
				continue
			}
			names := changedNames(values, next)
			if len(names) == 0 {
				continue
			}
			fmt.Fprintf(stderr, "junction: variables changed (%s): restarting %s\n", strings.Join(names, ", "), command[0])
			stopCommand(cmd, done, *stopTimeout)
			values = next
			if cmd, done, err = startCommand(command, values, stdout, stderr); err != nil {
				return err
			}
		}
	}
}

// startCommand starts command with values added to this process's environment; done gets
// the result of its Wait.
func startCommand(command []string, values map[string]string, stdout, stderr io.Writer) (*exec.Cmd, <-chan error, error) {
	env := os.Environ()
	for _, name := range slices.Sorted(maps.Keys(values)) {
		env = append(env, name+"="+values[name])
	}
	cmd := exec.Command(command[0], command[1:]...)
	cmd.Env, cmd.Stdin, cmd.Stdout, cmd.Stderr = env, os.Stdin, stdout, stderr
	if err := cmd.Start(); err != nil {
		return nil, nil, fmt.Errorf("start %s: %v", command[0], rootCause(err))
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	return cmd, done, nil
}

// stopCommand sends SIGTERM and waits up to timeout for the command to exit, then kills it.
func stopCommand(cmd *exec.Cmd, done <-chan error, timeout time.Duration) {
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(timeout):
		cmd.Process.Kill()
		<-done
	}
}

// exitStatus turns the command's Wait result into run's own: its exit code, or 128 plus the
// signal that ended it, as shells report it.
func exitStatus(err error) error {
	var exit *exec.ExitError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &exit):
		if status, ok := exit.Sys().(syscall.WaitStatus); ok && status.Signaled() {
			return &exitCodeError{128 + int(status.Signal())}
		}
		return &exitCodeError{exit.ExitCode()}
	}
	return err
}

// changedNames lists, sorted, the names whose values differ between old and new: added
// and removed ones marked so. Never a value.
func changedNames(old, new map[string]string) []string {
	var names []string
	for _, name := range slices.Sorted(maps.Keys(new)) {
		if prev, ok := old[name]; !ok {
			names = append(names, name+" (added)")
		} else if prev != new[name] {
			names = append(names, name)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(old)) {
		if _, ok := new[name]; !ok {
			names = append(names, name+" (removed)")
		}
	}
	return names
}
