package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"sort"
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

// fetchEnv gets the component's variables for the token's environment from the console.
func fetchEnv(ctx context.Context, server, token string) (map[string]string, error) {
	body, err := fetchRuntime(ctx, server, token, "json")
	if err != nil {
		return nil, err
	}
	var values map[string]string
	if err := json.Unmarshal(body, &values); err != nil {
		return nil, fmt.Errorf("the console at %s did not answer JSON: %w", server, err)
	}
	return values, nil
}

// fetchRuntime gets the component's variables in one of the runtime API's formats, so that
// the CLI prints exactly what the console answers.
func fetchRuntime(ctx context.Context, server, token, format string) ([]byte, error) {
	if token == "" {
		return nil, &usageError{"no runtime token: pass --token or set JUNCTION_TOKEN"}
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(server, "/")+"/api/v1/runtime/env?format="+url.QueryEscape(format), nil)
	if err != nil {
		return nil, &usageError{fmt.Sprintf("bad --server %q", server)}
	}
	req.Header.Set("Authorization", "Bearer "+token)
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
		return body, nil
	case http.StatusUnauthorized:
		return nil, errors.New("the runtime token is unknown or revoked")
	case http.StatusUnprocessableEntity:
		// The console refuses a format that cannot carry the values; its message says why.
		var e struct {
			Error struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		if json.Unmarshal(body, &e) == nil && e.Error.Message != "" {
			return nil, errors.New(strings.ReplaceAll(e.Error.Message, "format=", "--format "))
		}
	}
	return nil, fmt.Errorf("the console at %s answered %s", server, res.Status)
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

// runEnv prints the environment: junction env [--server URL] [--token T] [--format F], in
// the console's own words for dotenv, shell and js.
func runEnv(ctx context.Context, args []string, stdout io.Writer, getenv func(string) string) error {
	fs := newFlagSet("env")
	server, token := runtimeFlags(fs, getenv)
	format := fs.String("format", "dotenv", "dotenv, json, shell or js")
	if err := parse(fs, args); err != nil {
		return err
	}
	switch *format {
	case "json":
		values, err := fetchEnv(ctx, *server, *token)
		if err != nil {
			return err
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(values)
	case "dotenv", "shell", "js":
		body, err := fetchRuntime(ctx, *server, *token, *format)
		if err != nil {
			return err
		}
		_, err = stdout.Write(body)
		return err
	}
	return &usageError{"env: --format must be dotenv, json, shell or js"}
}

// exitCodeError carries the exit code of the command that run started.
type exitCodeError struct{ code int }

func (e *exitCodeError) Error() string { return fmt.Sprintf("command exited with %d", e.code) }

// runRun starts a command with the component's variables added to the environment:
// junction run [--server URL] [--token T] -- CMD ARGS…. Signals go to the command, and run
// exits with its exit code.
func runRun(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := newFlagSet("run")
	server, token := runtimeFlags(fs, getenv)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return commandHelp(fs)
		}
		return &usageError{fmt.Sprintf("run: %v", err)}
	}
	command := fs.Args()
	if len(command) == 0 {
		return &usageError{"usage: junction run [--server URL] [--token T] -- CMD ARGS…"}
	}
	values, err := fetchEnv(ctx, *server, *token)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(values))
	for name := range values {
		names = append(names, name)
	}
	sort.Strings(names)
	env := os.Environ()
	for _, name := range names {
		env = append(env, name+"="+values[name])
	}
	cmd := exec.Command(command[0], command[1:]...)
	cmd.Env, cmd.Stdin, cmd.Stdout, cmd.Stderr = env, os.Stdin, stdout, stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %v", command[0], rootCause(err))
	}
	signals := make(chan os.Signal, 4)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT)
	defer signal.Stop(signals)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	for {
		select {
		case sig := <-signals:
			cmd.Process.Signal(sig)
		case err := <-done:
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
	}
}
