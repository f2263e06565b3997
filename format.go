package junction

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The formats a component's variables are handed out in: dotenv, shell, JavaScript
// (config.js) and a Kubernetes Secret.

// sortedNames returns the names of values in order.
func sortedNames(values map[string]string) []string {
	names := make([]string, 0, len(values))
	for name := range values {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// pythonDotenvVariable is what python-dotenv expands in every value, however it is quoted
// (its variables.py: ${NAME} and ${NAME:-default}); it has no escape for it.
var pythonDotenvVariable = regexp.MustCompile(`\$\{[^}:]*(?::-[^}]*)?\}`)

// dotenvValue writes one value for a .env file so that godotenv, python-dotenv, npm dotenv
// and `set -a; . ./file` in bash and dash all read back exactly value, and sourcing runs
// nothing; or it says why no representation does. Variable names need no care: they are
// [A-Za-z_][A-Za-z0-9_]*.
//
// Single quotes are the first choice: the shells keep everything but ' literally, godotenv
// and npm dotenv take what is between them as is. They fail when the value holds a ' (no
// reader but python-dotenv has an escape for it), two backslashes in a row (python-dotenv
// reads \\ as \) or ends with a backslash (godotenv reads \' as an escaped quote and never
// finds the end).
//
// Double quotes come next, for values with a ' but no ` " \ and no $ that starts an
// expansion: inside them the shells run ` and expand $NAME, ${, $(, $[ and the special
// parameters, treat \ specially, godotenv expands $NAME and drops backslashes, and npm
// dotenv has no escape for ". Line breaks and everything else stay as they are.
//
// No representation carries, for all the readers at once:
//   - NUL: no environment variable holds one;
//   - a carriage return: npm dotenv and godotenv turn \r\n into \n, python-dotenv reads the
//     file with universal newlines, and the \r escape means \r to the shells;
//   - ${NAME} or ${NAME:-default}: python-dotenv expands them in every value;
//   - a ' together with one of ` " \ or an expanding $ (neither quoting fits), \\, or a
//     final \.
//
// The round-trip test in dotenv_readers_test.go checks all of this against the readers.
func dotenvValue(value string) (string, string) {
	switch {
	case strings.IndexByte(value, 0) >= 0:
		return "", "it holds a NUL character, which no environment variable can hold"
	case !utf8.ValidString(value):
		return "", "it is not valid UTF-8"
	case strings.IndexByte(value, '\r') >= 0:
		return "", "it holds a carriage return, which npm dotenv, godotenv and python-dotenv turn into a line break"
	case pythonDotenvVariable.MatchString(value):
		return "", "it holds ${…}, which python-dotenv expands however it is quoted"
	case !strings.Contains(value, "'") && !strings.Contains(value, `\\`) && !strings.HasSuffix(value, `\`):
		return "'" + value + "'", ""
	case !strings.ContainsAny(value, "`\"\\") && !expandsInDoubleQuotes(value):
		return `"` + value + `"`, ""
	case strings.Contains(value, `\\`):
		return "", "it holds two backslashes in a row, which python-dotenv reads as one"
	case strings.HasSuffix(value, `\`):
		return "", "it ends with a backslash, which godotenv reads as escaping the closing quote"
	case strings.ContainsAny(value, "`\"\\"):
		return "", "it holds a single quote and one of ` \" \\, which no quoting keeps literal for every dotenv reader"
	}
	return "", "it holds a single quote and a $ that shells expand inside double quotes, which no quoting keeps literal for every dotenv reader"
}

// expandsInDoubleQuotes reports whether value holds a $ that bash or dash expand inside
// double quotes: one followed by a name, a digit, {, (, [ (bash's old arithmetic) or a
// special parameter. Any other $, and a final one, stays literal (godotenv keeps those too).
func expandsInDoubleQuotes(value string) bool {
	for i := 0; i+1 < len(value); i++ {
		if value[i] != '$' {
			continue
		}
		c := value[i+1]
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.IndexByte("_{([@*#?-$!", c) >= 0 {
			return true
		}
	}
	return false
}

// FormatDotenv renders variables as a .env file, sorted, one NAME='value' (or NAME="value")
// per variable, that godotenv, python-dotenv, npm dotenv and `set -a; . ./file` in bash
// and dash read back exactly, without running anything (see dotenvValue). A value none of
// them can carry is refused: EINVALID naming the variables, pointing to json or shell.
func FormatDotenv(values map[string]string) (string, error) {
	var b strings.Builder
	fields := FieldErrors{}
	var refused []string
	for _, name := range sortedNames(values) {
		repr, why := dotenvValue(values[name])
		if why != "" {
			refused = append(refused, name)
			fields.Add(name, why+".")
			continue
		}
		b.WriteString(name + "=" + repr + "\n")
	}
	if len(refused) > 0 {
		msg := refused[0] + " cannot be written as a .env file that every dotenv reader reads the same: " + fields[refused[0]]
		if len(refused) > 1 {
			msg = strings.Join(refused, ", ") + " cannot be written as a .env file that every dotenv reader reads the same (" +
				refused[0] + ": " + strings.TrimSuffix(fields[refused[0]], ".") + ")."
		}
		return "", &Error{Code: EINVALID, Message: msg + " Use format=json or format=shell.", Fields: fields}
	}
	return b.String(), nil
}

// FormatShell renders variables as POSIX shell export lines, single-quoted, for eval: every
// value is literal, line breaks included. Only a NUL, which no shell variable can hold, is
// refused (EINVALID naming the variable).
func FormatShell(values map[string]string) (string, error) {
	var b strings.Builder
	for _, name := range sortedNames(values) {
		if strings.IndexByte(values[name], 0) >= 0 {
			return "", &Error{Code: EINVALID, Message: name + " holds a NUL character, which no shell variable can hold. Use format=json.",
				Fields: map[string]string{name: "It holds a NUL character."}}
		}
		b.WriteString("export " + name + "='" + strings.ReplaceAll(values[name], "'", `'"'"'`) + "'\n")
	}
	return b.String(), nil
}

// FormatJS renders the variables that have a value as the config.js of a web application,
// `window.configs = {…};`, keys the variable names, values JSON strings escaped so that the
// file is also safe inside a <script> element (<, >, &, U+2028 and U+2029 as \u escapes).
// A browser must never receive a secret: any secret parameter among vars is refused
// (EINVALID naming them).
func FormatJS(vars []EnvVar) (string, error) {
	values := map[string]string{}
	fields := FieldErrors{}
	var secrets []string
	for _, v := range vars {
		if v.Secret {
			secrets = append(secrets, v.Name)
			fields.Add(v.Name, "It is a secret parameter ("+v.Parameter+" of "+v.ConnectionName+").")
		} else if v.HasValue {
			values[v.Name] = v.Value
		}
	}
	if len(secrets) > 0 {
		sort.Strings(secrets)
		return "", &Error{Code: EINVALID, Fields: fields, Message: fmt.Sprintf(
			"config.js goes to browsers, which must never receive a secret, and %s %s: unmap %s or read the variables on a server (format=json).",
			strings.Join(secrets, ", "), oneOrMany(len(secrets), "is a secret parameter", "are secret parameters"), oneOrMany(len(secrets), "it", "them"))}
	}
	// json.Marshal sorts the keys and escapes <, >, &, U+2028 and U+2029.
	body, err := json.MarshalIndent(values, "", "  ")
	if err != nil {
		return "", err
	}
	return "window.configs = " + string(body) + ";\n", nil
}

func oneOrMany(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// FormatKubernetesSecret renders variables as a Kubernetes Secret manifest with stringData.
func FormatKubernetesSecret(name string, values map[string]string) string {
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: Secret\nmetadata:\n  name: " + name + "\ntype: Opaque\nstringData:\n")
	for _, key := range sortedNames(values) {
		b.WriteString("  " + key + ": " + strconv.Quote(values[key]) + "\n")
	}
	return b.String()
}

// EnvValues keeps the variables that have a value, by name: what the JSON, dotenv and shell
// formats carry.
func EnvValues(vars []EnvVar) map[string]string {
	values := make(map[string]string, len(vars))
	for _, v := range vars {
		if v.HasValue {
			values[v.Name] = v.Value
		}
	}
	return values
}
