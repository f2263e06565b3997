package views

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The hints on the component page are copied into a shell: run them in one, with the
// commands replaced by functions that print their arguments, as a reader would paste them.
func TestRuntimeHintsRunInAShell(t *testing.T) {
	sh, err := exec.LookPath("sh")
	require.NoError(t, err)
	run := func(t *testing.T, hint string) []string {
		t.Helper()
		script := `curl() { printf '%s\n' "$@"; }; junction() { printf '%s\n' "$@"; }; ` + hint
		cmd := exec.Command(sh, "-c", script)
		cmd.Env = []string{"JUNCTION_TOKEN=jrt_fromtheenvironment", "PATH=/usr/bin:/bin"}
		out, err := cmd.Output()
		require.NoError(t, err, hint)
		return strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	}
	const server = "http://127.0.0.1:8080"
	v := RuntimeTokensView{ServerURL: server}

	t.Run("OKPlaceholderFromTheEnvironment", func(t *testing.T) {
		require.Equal(t, []string{"-H", "Authorization: Bearer jrt_fromtheenvironment", server + "/api/v1/runtime/env?format=dotenv"}, run(t, v.curlHint()))
		require.Equal(t, []string{"run", "--server", server, "--token", "jrt_fromtheenvironment", "--", "your-command"}, run(t, v.runtimeHint()))
	})
	t.Run("OKNewToken", func(t *testing.T) {
		v := v
		v.New = &NewToken{Secret: "jrt_abc234"}
		require.Equal(t, []string{"-H", "Authorization: Bearer jrt_abc234", server + "/api/v1/runtime/env?format=dotenv"}, run(t, v.curlHint()))
	})
}
