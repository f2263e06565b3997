package main

import (
	"bytes"
	"context"
	"encoding/json"
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

	code, out, _ = runOut(t, "env", "--server", base, "--token", token)
	require.Equal(t, 0, code)
	require.Contains(t, out, `TWILIO_AUTHTOKEN="it's a \"secret\" \$HOME"`)

	code, out, _ = runOut(t, "env", "--server", base, "--token", token, "--format", "shell")
	require.Equal(t, 0, code)
	require.Contains(t, out, `export TWILIO_AUTHTOKEN='it'"'"'s a "secret" $HOME'`)
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
