package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction"
)

// runtimeFixture runs the console with a component that maps a Twilio connection, and
// returns the console's URL and a runtime token for development.
func runtimeFixture(t *testing.T) (string, string, *App) {
	t.Helper()
	base, app := e2eServer(t)
	ctx := context.Background()
	admin := &junction.User{Email: "admin@example.org", IsAdmin: true}
	require.NoError(t, app.Services.Users.CreateUser(ctx, admin, e2ePassword))
	as := junction.NewContextWithUser(ctx, admin)
	require.NoError(t, app.Services.Projects.CreateProject(as, &junction.Project{Handle: "shop", Name: "Shop"}))
	require.NoError(t, app.Services.Components.CreateComponent(as, "shop", &junction.Component{Handle: "orders", Name: "Orders"}))
	twilio := &junction.Service{Kind: junction.KindThirdParty, Name: "Twilio", Version: "v1",
		Parameters: []junction.ServiceParameter{{Name: "AuthToken", Secret: true}},
		Endpoints: []junction.Endpoint{{Name: "sandbox", URL: "https://sandbox.twilio.example", Environments: []string{"development"},
			Values: map[string]string{"AuthToken": "it's a \"secret\" $HOME"}}}}
	require.NoError(t, app.Services.Services.CreateService(as, twilio))
	conn := &junction.Connection{Name: "twilio", Project: "shop", Component: "orders", Service: junction.ServiceRef{ID: twilio.ID}}
	require.NoError(t, app.Services.Connections.CreateConnection(as, conn))
	_, err := app.Services.Mappings.SetMappings(as, "shop", "orders", conn.ID,
		map[string]string{"ServiceURL": "TWILIO_SERVICEURL", "AuthToken": "TWILIO_AUTHTOKEN"})
	require.NoError(t, err)
	_, token, err := app.Services.Mappings.CreateRuntimeToken(as, "shop", "orders", "development")
	require.NoError(t, err)
	return base, token, app
}

func runOut(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Run(context.Background(), args, &stdout, &stderr, func(string) string { return "" })
	return code, stdout.String(), stderr.String()
}

func TestCLIRunAndEnv(t *testing.T) {
	base, token, _ := runtimeFixture(t)

	code, out, errOut := runOut(t, "run", "--server", base, "--token", token, "--", "sh", "-c", "echo $TWILIO_SERVICEURL")
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "https://sandbox.twilio.example\n", out)

	code, out, _ = runOut(t, "run", "--server", base, "--token", token, "--", "sh", "-c", `printf '%s' "$TWILIO_AUTHTOKEN"; exit 7`)
	require.Equal(t, 7, code, "run exits with the command's exit code")
	require.Equal(t, `it's a "secret" $HOME`, out, "values arrive exactly")

	code, out, _ = runOut(t, "env", "--server", base, "--token", token, "--format", "json")
	require.Equal(t, 0, code)
	var values map[string]string
	require.NoError(t, json.Unmarshal([]byte(out), &values))
	require.Equal(t, "https://sandbox.twilio.example", values["TWILIO_SERVICEURL"])

	code, out, _ = runOut(t, "env", "--server", base, "--token", token, "--format", "shell")
	require.Equal(t, 0, code)
	require.Contains(t, out, `export TWILIO_AUTHTOKEN='it'"'"'s a "secret" $HOME'`)
}

// runtimeGet answers GET /api/v1/runtime/env?format=F as the console sends it.
func runtimeGet(t *testing.T, base, token, format string) (int, string, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+"/api/v1/runtime/env?format="+format, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res.StatusCode, res.Header.Get("Content-Type"), string(body)
}

func TestCLIEnvFormats(t *testing.T) {
	base, token, app := runtimeFixture(t)
	// A web application whose variables hold no secret, for config.js.
	ctx := context.Background()
	admin, err := app.Services.Users.FindUserByEmail(ctx, "admin@example.org")
	require.NoError(t, err)
	as := junction.NewContextWithUser(ctx, admin)
	require.NoError(t, app.Services.Components.CreateComponent(as, "shop", &junction.Component{Handle: "web", Name: "Web", Type: junction.ComponentTypeWebApp}))
	maps := &junction.Service{Kind: junction.KindThirdParty, Name: "Maps", Version: "v1",
		Parameters: []junction.ServiceParameter{{Name: "BrowserKey"}},
		Endpoints: []junction.Endpoint{{Name: "any", URL: "https://maps.example/js?v=3&x=<y>", Environments: []string{"development"},
			Values: map[string]string{"BrowserKey": " key with spaces "}}}}
	require.NoError(t, app.Services.Services.CreateService(as, maps))
	conn := &junction.Connection{Name: "maps", Project: "shop", Component: "web", Service: junction.ServiceRef{ID: maps.ID}}
	require.NoError(t, app.Services.Connections.CreateConnection(as, conn))
	_, err = app.Services.Mappings.SetMappings(as, "shop", "web", conn.ID, map[string]string{"ServiceURL": "MAPS_URL", "BrowserKey": "MAPS_KEY"})
	require.NoError(t, err)
	_, webToken, err := app.Services.Mappings.CreateRuntimeToken(as, "shop", "web", "development")
	require.NoError(t, err)

	t.Run("ShellIsTheServersAnswer", func(t *testing.T) {
		status, ctype, want := runtimeGet(t, base, token, "shell")
		require.Equal(t, http.StatusOK, status, want)
		require.Equal(t, "text/plain; charset=utf-8", ctype)
		code, out, errOut := runOut(t, "env", "--server", base, "--token", token, "--format", "shell")
		require.Equal(t, 0, code, errOut)
		require.Equal(t, want, out)
		require.Equal(t, "export TWILIO_AUTHTOKEN='it'\"'\"'s a \"secret\" $HOME'\nexport TWILIO_SERVICEURL='https://sandbox.twilio.example'\n", out)
	})

	t.Run("JSIsTheServersAnswer", func(t *testing.T) {
		status, ctype, want := runtimeGet(t, base, webToken, "js")
		require.Equal(t, http.StatusOK, status, want)
		require.Equal(t, "text/javascript; charset=utf-8", ctype)
		code, out, errOut := runOut(t, "env", "--server", base, "--token", webToken, "--format", "js")
		require.Equal(t, 0, code, errOut)
		require.Equal(t, want, out)
		require.Equal(t, "window.configs = {\n  \"MAPS_KEY\": \" key with spaces \",\n  \"MAPS_URL\": \"https://maps.example/js?v=3\\u0026x=\\u003cy\\u003e\"\n};\n", out)
	})

	t.Run("DotenvIsTheServersAnswer", func(t *testing.T) {
		status, _, want := runtimeGet(t, base, webToken, "dotenv")
		require.Equal(t, http.StatusOK, status, want)
		code, out, errOut := runOut(t, "env", "--server", base, "--token", webToken)
		require.Equal(t, 0, code, errOut)
		require.Equal(t, want, out)
		require.Equal(t, "MAPS_KEY=' key with spaces '\nMAPS_URL='https://maps.example/js?v=3&x=<y>'\n", out, "spaces kept from the catalog to the file")
	})

	t.Run("ErrJSSecret", func(t *testing.T) {
		code, out, errOut := runOut(t, "env", "--server", base, "--token", token, "--format", "js")
		require.Equal(t, exitFailure, code)
		require.Empty(t, out)
		require.Equal(t, 1, strings.Count(errOut, "\n"), "one line: %q", errOut)
		require.Contains(t, errOut, "TWILIO_AUTHTOKEN is a secret parameter")
		require.NotContains(t, errOut, "$HOME", "never the value")
	})

	t.Run("ErrDotenvCannotCarry", func(t *testing.T) {
		code, out, errOut := runOut(t, "env", "--server", base, "--token", token)
		require.Equal(t, exitFailure, code)
		require.Empty(t, out, "no file that some readers misread")
		require.Equal(t, 1, strings.Count(errOut, "\n"), "one line: %q", errOut)
		require.Contains(t, errOut, "TWILIO_AUTHTOKEN cannot be written as a .env file")
		require.Contains(t, errOut, "Use --format json or --format shell.")
	})
}

func TestCLIRunErrors(t *testing.T) {
	base, token, _ := runtimeFixture(t)
	for _, tc := range []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"MissingToken", []string{"run", "--server", base, "--", "true"}, exitUsage, "no runtime token"},
		{"NoCommand", []string{"run", "--server", base, "--token", token}, exitUsage, "usage"},
		{"RevokedToken", []string{"env", "--server", base, "--token", "jrt_revoked"}, exitFailure, "unknown or revoked"},
		{"Unreachable", []string{"env", "--server", "http://127.0.0.1:1", "--token", token}, exitFailure, "cannot reach"},
		{"BadFormat", []string{"env", "--server", base, "--token", token, "--format", "xml"}, exitUsage, "--format"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runOut(t, tc.args...)
			require.Equal(t, tc.code, code, stderr)
			require.Equal(t, 1, strings.Count(stderr, "\n"), "one line: %q", stderr)
			require.Contains(t, stderr, tc.msg)
		})
	}
}
