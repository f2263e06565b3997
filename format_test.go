package junction_test

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction"
)

func TestFormatDotenv(t *testing.T) {
	t.Run("Representation", func(t *testing.T) {
		tests := []struct {
			name   string
			values map[string]string
			want   string
		}{
			{"Empty", map[string]string{}, ""},
			{"Plain", map[string]string{"A": "plain"}, "A='plain'\n"},
			{"EmptyValue", map[string]string{"A": ""}, "A=''\n"},
			{"Sorted", map[string]string{"B": "2", "A": "1", "_C": "3", "a": "4"}, "A='1'\nB='2'\n_C='3'\na='4'\n"},
			{"SpacesKept", map[string]string{"A": "  lead and trail \t"}, "A='  lead and trail \t'\n"},
			{"DoubleQuotes", map[string]string{"A": `say "hi"`}, `A='say "hi"'` + "\n"},
			{"Backslashes", map[string]string{"A": `C:\path\new`}, `A='C:\path\new'` + "\n"},
			{"Dollars", map[string]string{"A": "$HOME costs $5 ${X"}, "A='$HOME costs $5 ${X'\n"},
			{"CommandsStayText", map[string]string{"A": "$(touch x) `touch x`"}, "A='$(touch x) `touch x`'\n"},
			{"Hash", map[string]string{"A": "a #b"}, "A='a #b'\n"},
			{"Newlines", map[string]string{"A": "line1\nline2\n"}, "A='line1\nline2\n'\n"},
			{"PEM", map[string]string{"KEY": "-----BEGIN KEY-----\nabc+/=\n-----END KEY-----"}, "KEY='-----BEGIN KEY-----\nabc+/=\n-----END KEY-----'\n"},
			{"Unicode", map[string]string{"A": "héllo ✓\u2028\u2029"}, "A='héllo ✓\u2028\u2029'\n"},
			{"SingleQuoteInDoubleQuotes", map[string]string{"A": " it's  # not a comment "}, `A=" it's  # not a comment "` + "\n"},
			{"SingleQuoteAndLiteralDollar", map[string]string{"A": "it's 5$ or $ 5"}, `A="it's 5$ or $ 5"` + "\n"},
			{"SingleQuoteAndNewline", map[string]string{"A": "it's\nfine"}, "A=\"it's\nfine\"\n"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := junction.FormatDotenv(tt.values)
				require.NoError(t, err)
				require.Equal(t, tt.want, got)
			})
		}
	})

	t.Run("Refused", func(t *testing.T) {
		tests := []struct {
			name, value, why string
		}{
			{"ErrNUL", "a\x00b", "NUL"},
			{"ErrInvalidUTF8", "a\xffb", "UTF-8"},
			{"ErrCRLF", "a\r\nb", "carriage return"},
			{"ErrCR", "a\rb", "carriage return"},
			{"ErrPythonVariable", "${HOME}", "python-dotenv expands"},
			{"ErrPythonDefault", "x${X:-y}", "python-dotenv expands"},
			{"ErrTwoBackslashes", `\\server\share`, "two backslashes"},
			{"ErrFinalBackslash", `end\`, "ends with a backslash"},
			{"ErrQuoteAndDollarName", "it's $HOME", "a $ that shells expand"},
			{"ErrQuoteAndCommand", "it's $(id)", "a $ that shells expand"},
			{"ErrQuoteAndBacktick", "it's `id`", "single quote and one of"},
			{"ErrBothQuotes", `it's "x"`, "single quote and one of"},
			{"ErrQuoteAndBackslash", `it's C:\x`, "single quote and one of"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				out, err := junction.FormatDotenv(map[string]string{"OK": "fine", "WEIRD_TOKEN": tt.value})
				require.Error(t, err)
				require.Empty(t, out, "no file when a value is refused")
				require.Equal(t, junction.EINVALID, junction.ErrorCode(err))
				msg := junction.ErrorMessage(err)
				require.True(t, strings.HasPrefix(msg, "WEIRD_TOKEN cannot be written as a .env file"), msg)
				require.Contains(t, msg, tt.why)
				require.Contains(t, msg, "Use format=json or format=shell.")
				require.ElementsMatch(t, []string{"WEIRD_TOKEN"}, keys(junction.ErrorFields(err)))
				require.NotContains(t, msg, tt.value, "the message never quotes the value, which may be a secret")
			})
		}
	})

	t.Run("RefusedSeveral", func(t *testing.T) {
		_, err := junction.FormatDotenv(map[string]string{"B": "x\r", "A": "${A}", "C": "ok"})
		require.Equal(t, junction.EINVALID, junction.ErrorCode(err))
		require.True(t, strings.HasPrefix(junction.ErrorMessage(err), "A, B cannot be written"), junction.ErrorMessage(err))
		require.ElementsMatch(t, []string{"A", "B"}, keys(junction.ErrorFields(err)))
	})
}

func TestFormatShell(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		got, err := junction.FormatShell(map[string]string{"B": "it's $HOME `id`\r\n", "A": ""})
		require.NoError(t, err)
		require.Equal(t, "export A=''\nexport B='it'\"'\"'s $HOME `id`\r\n'\n", got)
	})
	t.Run("ErrNUL", func(t *testing.T) {
		_, err := junction.FormatShell(map[string]string{"A": "a\x00"})
		require.Equal(t, junction.EINVALID, junction.ErrorCode(err))
		require.Contains(t, junction.ErrorMessage(err), "A holds a NUL")
	})
}

func TestFormatJS(t *testing.T) {
	vars := []junction.EnvVar{
		{Name: "API_URL", Value: "https://api.example/v1?a=1&b=2", HasValue: true},
		{Name: "GREETING", Value: "</script><script>alert(1)</script> \u2028\u2029 it's \"x\" \\ é", HasValue: true},
		{Name: "UNSET", HasValue: false},
	}

	t.Run("OK", func(t *testing.T) {
		got, err := junction.FormatJS(vars)
		require.NoError(t, err)
		require.Equal(t, "window.configs = {\n"+
			`  "API_URL": "https://api.example/v1?a=1\u0026b=2",`+"\n"+
			`  "GREETING": "\u003c/script\u003e\u003cscript\u003ealert(1)\u003c/script\u003e \u2028\u2029 it's \"x\" \\ é"`+"\n"+
			"};\n", got, "keys sorted; <, >, &, U+2028 and U+2029 escaped; variables without a value left out")
		require.NotContains(t, got, "<")
	})

	t.Run("Empty", func(t *testing.T) {
		got, err := junction.FormatJS(nil)
		require.NoError(t, err)
		require.Equal(t, "window.configs = {};\n", got)
	})

	t.Run("ErrSecret", func(t *testing.T) {
		withSecrets := append(vars[:len(vars):len(vars)],
			junction.EnvVar{Name: "TWILIO_TOKEN", Value: "s3cret", Secret: true, HasValue: true, Parameter: "AuthToken", ConnectionName: "twilio"},
			junction.EnvVar{Name: "DB_PASSWORD", Secret: true, Parameter: "Password", ConnectionName: "db"})
		out, err := junction.FormatJS(withSecrets)
		require.Empty(t, out)
		require.Equal(t, junction.EINVALID, junction.ErrorCode(err))
		msg := junction.ErrorMessage(err)
		require.Contains(t, msg, "DB_PASSWORD, TWILIO_TOKEN are secret parameters")
		require.Contains(t, msg, "never receive a secret")
		require.NotContains(t, msg, "s3cret")
		require.ElementsMatch(t, []string{"DB_PASSWORD", "TWILIO_TOKEN"}, keys(junction.ErrorFields(err)))

		_, err = junction.FormatJS(withSecrets[:len(withSecrets)-1])
		require.Contains(t, junction.ErrorMessage(err), "TWILIO_TOKEN is a secret parameter")
	})

	t.Run("NodeReadsTheValues", func(t *testing.T) {
		// A browser runs config.js as a script: Node, running it the same way, gets exactly
		// the values.
		node, err := exec.LookPath("node")
		require.NoError(t, err, "node is needed (make dotenv-readers installs it)")
		js, err := junction.FormatJS(vars)
		require.NoError(t, err)
		out, err := exec.Command(node, "-e", `const vm = require("vm"); const window = {};
vm.runInNewContext(process.argv[1], { window }); process.stdout.write(JSON.stringify(window.configs))`, js).Output()
		require.NoError(t, err)
		var got map[string]string
		require.NoError(t, json.Unmarshal(out, &got))
		require.Equal(t, map[string]string{"API_URL": vars[0].Value, "GREETING": vars[1].Value}, got)
	})
}
