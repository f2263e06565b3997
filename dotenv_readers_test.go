package junction_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/joho/godotenv"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction"
)

// The dotenv round trip: every value FormatDotenv writes reads back exactly with godotenv,
// python-dotenv, npm dotenv, and `set -a; . ./file` in bash and dash, and sourcing runs
// nothing; every value it refuses is one that none of the usual representations carries
// for all of them. The readers are real: `make dotenv-readers` installs them (Debian's
// python3-dotenv and dash, npm dotenv pinned in testdata/dotenv-readers).

// dotenvReaders runs the readers on files, each reader once for all of them.
type dotenvReaders struct {
	python, node, bash, dash string
	versions                 map[string]string
}

// readerNames are the readers FormatDotenv must satisfy, in the order results list them.
var readerNames = []string{"godotenv", "python-dotenv", "npm dotenv", "npm dotenv (fast)", "bash", "dash"}

const readersDir = "testdata/dotenv-readers"

// requireDotenvReaders finds the readers and fails the test, in CI or not, when one is
// missing: a round trip that skips a reader would pass without checking it.
func requireDotenvReaders(t *testing.T) *dotenvReaders {
	t.Helper()
	r := &dotenvReaders{versions: map[string]string{"godotenv": "v1.5.1 (go.mod)"}}
	hint := " (run `make dotenv-readers`: it apt-installs python3-dotenv, dash and nodejs and runs npm ci in " + readersDir + ")"
	// Debian's python3-dotenv is for Debian's python3, which a PATH python may not be.
	for _, py := range []string{"/usr/bin/python3", "python3"} {
		if path, err := exec.LookPath(py); err == nil && exec.Command(path, "-c", "import dotenv").Run() == nil {
			r.python = path
			break
		}
	}
	require.NotEmpty(t, r.python, "no python3 with python-dotenv"+hint)
	var err error
	r.node, err = exec.LookPath("node")
	require.NoError(t, err, "no node"+hint)
	_, err = os.Stat(filepath.Join(readersDir, "node_modules", "dotenv", "package.json"))
	require.NoError(t, err, "npm dotenv is not installed"+hint)
	r.bash, err = exec.LookPath("bash")
	require.NoError(t, err, "no bash"+hint)
	r.dash, err = exec.LookPath("dash")
	require.NoError(t, err, "no dash"+hint)
	out, err := exec.Command(r.bash, "-c", `printf %s "$BASH_VERSION"`).Output()
	require.NoError(t, err)
	r.versions["bash"] = string(out)
	if out, err := exec.Command("dpkg-query", "-W", "-f", "${Version}", "dash").Output(); err == nil {
		r.versions["dash"] = string(out)
	}
	if out, err := exec.Command("dpkg-query", "-W", "-f", "${Version}", "python3-dotenv").Output(); err == nil {
		r.versions["python3-dotenv (dpkg)"] = string(out)
	}
	return r
}

// readResult is what one reader made of one file: the variables, or nothing when it
// failed (ok false).
type readResult struct {
	values map[string]string
	ok     bool
}

// read runs the readers named on files (paths relative to dir, which is also the shells'
// working directory), each once for all the files, and returns the results by reader, then
// by file. With exported (one file only) the shells print what `set -a` exported (env -0);
// otherwise each file sets one variable V, which a builtin prints, quicker for many files.
// npm dotenv also gives its fast parser's results and Node's own (util.parseEnv, the
// parser of `node --env-file`) as "node --env-file".
func (r *dotenvReaders) read(t *testing.T, dir string, files []string, exported bool, readers ...string) map[string][]readResult {
	t.Helper()
	out := map[string][]readResult{}
	abs := make([]string, len(files))
	for i, f := range files {
		abs[i] = filepath.Join(dir, f)
	}
	for _, reader := range readers {
		switch reader {
		case "godotenv":
			for _, f := range abs {
				values, err := godotenv.Read(f)
				out[reader] = append(out[reader], readResult{values, err == nil})
			}
		case "python-dotenv":
			var py []struct {
				Version string            `json:"version"`
				Values  map[string]string `json:"values"`
				Error   string            `json:"error"`
			}
			runJSON(t, exec.Command(r.python, append([]string{r.script(t, "read.py")}, abs...)...), &py)
			require.Len(t, py, len(files)+1)
			r.versions[reader] = py[0].Version
			for _, res := range py[1:] {
				out[reader] = append(out[reader], readResult{res.Values, res.Error == ""})
			}
		case "npm dotenv":
			type parsed struct {
				Values map[string]string `json:"values"`
				Error  string            `json:"error"`
			}
			var js []struct {
				Version string `json:"version"`
				Node    string `json:"nodeVersion"`
				Classic parsed `json:"classic"`
				Fast    parsed `json:"fast"`
				NodeEnv parsed `json:"node"`
			}
			runJSON(t, exec.Command(r.node, append([]string{r.script(t, "read.js")}, abs...)...), &js)
			require.Len(t, js, len(files)+1)
			r.versions[reader], r.versions["node"] = js[0].Version, js[0].Node
			for _, res := range js[1:] {
				out[reader] = append(out[reader], readResult{res.Classic.Values, res.Classic.Error == ""})
				out["npm dotenv (fast)"] = append(out["npm dotenv (fast)"], readResult{res.Fast.Values, res.Fast.Error == ""})
				out["node --env-file"] = append(out["node --env-file"], readResult{res.NodeEnv.Values, res.NodeEnv.Error == ""})
			}
		case "bash", "dash":
			out[reader] = r.source(t, reader, dir, files, exported)
		case "npm dotenv (fast)":
			require.Contains(t, readers, "npm dotenv", "the fast parser runs with npm dotenv")
		default:
			t.Fatalf("no reader %q", reader)
		}
	}
	return out
}

func (r *dotenvReaders) script(t *testing.T, name string) string {
	t.Helper()
	path, err := filepath.Abs(filepath.Join(readersDir, name))
	require.NoError(t, err)
	return path
}

// source reads files with `set -a; . ./file` in shell, each in a subshell with its output
// thrown away. The parent prints a NUL after each file, so that a file that kills its
// subshell (dash exits on a syntax error) still yields one record.
func (r *dotenvReaders) source(t *testing.T, shell, dir string, files []string, exported bool) []readResult {
	t.Helper()
	script := `for f in "$@"; do ( set -a; . "./$f" >/dev/null 2>&1 </dev/null; if [ -n "${V+x}" ]; then printf 'V=%s' "$V"; fi ); printf '\0'; done`
	if exported {
		require.Len(t, files, 1)
		script = `set -a; . "./$1" </dev/null; env -0`
	}
	path := map[string]string{"bash": r.bash, "dash": r.dash}[shell]
	cmd := exec.Command(path, append([]string{"-c", script, shell}, files...)...)
	cmd.Dir, cmd.Env = dir, []string{"PATH=/usr/bin:/bin"}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), "%s: %s", shell, stderr.String())
	records := strings.Split(stdout.String(), "\000")
	if exported {
		require.Empty(t, stderr.String(), shell)
		values := map[string]string{}
		for _, kv := range records {
			if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, "V") {
				values[k] = v
			}
		}
		return []readResult{{values, true}}
	}
	require.Len(t, records, len(files)+1, shell)
	var out []readResult
	for _, rec := range records[:len(files)] {
		values := map[string]string{}
		if v, ok := strings.CutPrefix(rec, "V="); ok {
			values["V"] = v
		}
		out = append(out, readResult{values, true})
	}
	return out
}

func runJSON(t *testing.T, cmd *exec.Cmd, v any) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), "%s: %s", cmd.Path, stderr.String())
	require.NoError(t, json.Unmarshal(stdout.Bytes(), v), "%s: %s", cmd.Path, stdout.String())
}

// dotenvCorpus is the hard values: named ones, then combinations of hard pieces.
func dotenvCorpus() []string {
	values := []string{
		"", " ", "   ", "\t", "plain", "  leading", "trailing  ", " both ", "\ttabs\t", "a\tb",
		"#", "# comment?", "a#b", "a #b", "a # b", "#start", "end #", "x=#y",
		"'", "''", "it's", "'quoted'", "don't stop", " ' ",
		`"`, `""`, `say "hi"`, `"quoted"`, `a"b'c`,
		"$", "$$", "$HOME", "$X$Y", "cost $5", "${HOME}", "${X:-default}", "${X-default}", "${X:=y}", "${X", "$}", "${}", "a${b}c", "$(touch pwned)", "$((1+1))", "$'x'", "$\"x\"",
		"`", "``", "`touch pwned`", "a`b", "it's `x`",
		"it's $HOME", "it's $x", "it's $_", "don't pay $5", "it's $(touch pwned)", "'$$'", "'$@'", "'$#'", "'$?'", "'$-'", "'$!'", "'$*'", "'$[1+1]'", "'${'",
		"it's $ 5", "it's 5$", "it's $.", "$'", "'$/$%$:$=$+$^$~$]$}$)$<$>$&$|$;$,", "'$\n'", "'$\t'", "'$é'", "'$ '",
		`\`, `\\`, `\\\`, `C:\path\new`, `\\server\share`, `end\`, `\n`, `\r`, `\t`, `\$`, `\"`, `\'`, `\#`, `a\ b`, `\u0041`, `\x41`,
		"a\nb", "a\nb\n", "\n", "\n\n", "\nlead", "multi\n  indented\n\tlines", "line1\nKEY=v", "x\n#not a comment", "x\n'y'", "a\n\"b\"",
		"a\r\nb", "a\rb", "\r", "\r\n", "trailing\r\n",
		"héllo ✓", "日本語", "emoji 😀", "\u2028", "a\u2028b", "\u2029", "a\u2029b\u2028", "\u0085", "\u00a0nbsp\u00a0", "\ufeffbom", "\u200b",
		"\x01\x02", "\x1b[31mred", "\x7f", "\v", "\f", "\x1c\x1d\x1e",
		"-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg+/=\n-----END PRIVATE KEY-----\n",
		"https://api.example.com/v1?a=1&b=2#frag", "postgres://u:p@h:5432/d?sslmode=disable", "= eq", "a=b", "export X=1", "X=1 Y=2",
		"a;b", "a && b", "a|b", "<a>", "(x)", "*", "?", "[a]", "{a,b}", "~", "~/x", "!", "!!", "%s", "\\\n", "a\\\nb",
		"\x00", "a\x00b", "\xff", "ok\xc3",
	}
	pieces := []string{`\`, `\\`, `'`, `"`, "$", "${X}", "$X", "`", "#", " ", "\t", "\n", "\r\n", "=", "x", "é", "\u2028", "\\n", "$(", ")", "{", "}"}
	for i := range 160 {
		var b strings.Builder
		for j := 0; j <= i%5; j++ {
			b.WriteString(pieces[(i*7+j*11+i/3)%len(pieces)])
		}
		values = append(values, b.String())
	}
	return values
}

// dotenvCandidates are the usual ways to write value in a .env file: unquoted, in single,
// double or backtick quotes, each raw, with \n and \r escapes, with backslash escapes of
// \, the quote, $ and ` (and, unquoted, of what the shell treats specially), or both.
func dotenvCandidates(value string) []string {
	var out []string
	for _, quote := range []string{"", "'", `"`, "`"} {
		special := `\$` + "`" + quote
		if quote == "" {
			special += " \t\"'#;&|<>()*?[]{}~!"
		}
		for _, escape := range []struct{ backslash, lines bool }{{false, false}, {false, true}, {true, false}, {true, true}} {
			s := value
			if escape.backslash {
				var b strings.Builder
				for _, r := range s {
					if strings.ContainsRune(special, r) {
						b.WriteByte('\\')
					}
					b.WriteRune(r)
				}
				s = b.String()
			}
			if escape.lines {
				s = strings.NewReplacer("\n", `\n`, "\r", `\r`).Replace(s)
			}
			out = append(out, quote+s+quote)
		}
	}
	return out
}

func TestDotenvReaders(t *testing.T) {
	r := requireDotenvReaders(t)
	corpus := dotenvCorpus()

	// Every value, written every usual way and as FormatDotenv writes it (if it does), one
	// file per representation.
	tried := t.TempDir()
	var files []string
	var of []int               // the corpus value of each file
	formatted := map[int]int{} // corpus value -> its file written by FormatDotenv
	write := func(i int, name, content string) {
		files, of = append(files, name), append(of, i)
		require.NoError(t, os.WriteFile(filepath.Join(tried, name), []byte(content), 0o600))
	}
	for i, value := range corpus {
		if out, err := junction.FormatDotenv(map[string]string{"V": value}); err == nil {
			formatted[i] = len(files)
			write(i, fmt.Sprintf("f%d.env", i), out)
		}
		for j, c := range dotenvCandidates(value) {
			write(i, fmt.Sprintf("c%d_%d.env", i, j), "V="+c+"\n")
		}
	}
	// bash is slow to fork: it reads only the files that every other reader reads right,
	// the only ones whose result can matter.
	results := r.read(t, tried, files, false, "godotenv", "python-dotenv", "npm dotenv", "npm dotenv (fast)", "dash")
	readsBack := func(reader string, file int) bool {
		res := results[reader][file]
		return res.ok && len(res.values) == 1 && res.values["V"] == corpus[of[file]]
	}
	var survivors []string
	var survivorIndex []int
	for file := range files {
		all := true
		for _, reader := range readerNames {
			all = all && (reader == "bash" || readsBack(reader, file))
		}
		if _, isFormatted := formatted[of[file]]; all || isFormatted && formatted[of[file]] == file {
			survivors, survivorIndex = append(survivors, files[file]), append(survivorIndex, file)
		}
	}
	results["bash"] = make([]readResult, len(files))
	for k, res := range r.read(t, tried, survivors, false, "bash")["bash"] {
		results["bash"][survivorIndex[k]] = res
	}
	carriedBy := map[int]string{} // corpus value -> a representation every reader reads right
	for file := range files {
		all := true
		for _, reader := range readerNames {
			all = all && readsBack(reader, file)
		}
		if all {
			carriedBy[of[file]] = mustRead(t, tried, files[file])
		}
	}

	t.Run("AcceptedValuesReadBack", func(t *testing.T) {
		for i, file := range formatted {
			for _, reader := range readerNames {
				assert.True(t, readsBack(reader, file), "%s reads %.80q, written %.80q, as %.80q", reader, corpus[i], mustRead(t, tried, files[file]), fmt.Sprint(results[reader][file].values))
			}
		}
	})

	t.Run("RefusedExactlyWhenNothingCarries", func(t *testing.T) {
		for i, value := range corpus {
			_, err := junction.FormatDotenv(map[string]string{"V": value})
			if by, ok := carriedBy[i]; ok {
				assert.NoError(t, err, "%q: every reader reads %q right", value, by)
			} else if assert.Error(t, err, "%q: no representation works for every reader", value) {
				assert.Equal(t, junction.EINVALID, junction.ErrorCode(err))
			}
		}
		require.Greater(t, len(formatted), len(corpus)/2, "most of the corpus is carried")
		require.Less(t, len(formatted), len(corpus), "and some of it is not")
	})

	t.Run("WrongRepresentationsRunCommands", func(t *testing.T) {
		// The corpus makes sourcing run `touch pwned` when a value is written unsafely:
		// some of the tried representations did, so the check of OneFile can fail.
		_, err := os.Stat(filepath.Join(tried, "pwned"))
		require.NoError(t, err, "no tried representation ran the corpus's command")
	})

	t.Run("OneFile", func(t *testing.T) {
		// All the accepted values in one file, as FormatDotenv writes them for a component:
		// every reader reads exactly these variables, the shells export them, and sourcing
		// runs nothing.
		values := map[string]string{}
		for i := range formatted {
			values[fmt.Sprintf("V%03d", i)] = corpus[i]
		}
		out, err := junction.FormatDotenv(values)
		require.NoError(t, err)
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, ".env"), []byte(out), 0o600))
		results := r.read(t, dir, []string{".env"}, true, "godotenv", "python-dotenv", "npm dotenv", "npm dotenv (fast)", "bash", "dash")
		for _, reader := range readerNames {
			require.True(t, results[reader][0].ok, reader)
			require.Equal(t, values, results[reader][0].values, reader)
		}
		entries, err := os.ReadDir(dir)
		require.NoError(t, err)
		require.Len(t, entries, 1, "sourcing created files: %v", entries)
		// Node's own parser (util.parseEnv, what `node --env-file` uses, Node 20.12 and later)
		// is not one FormatDotenv is held to, but the README says it reads these files too.
		if node := results["node --env-file"][0]; node.ok {
			require.Equal(t, values, node.values, "node --env-file (Node %s)", r.versions["node"])
			r.versions["node --env-file"] = "checked with Node " + r.versions["node"]
		} else {
			t.Logf("node --env-file not checked: Node %s has no util.parseEnv", r.versions["node"])
		}
	})

	t.Logf("%d values, %d carried, %d representations tried; readers: %v", len(corpus), len(formatted), len(files), r.versions)
}

func mustRead(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	require.NoError(t, err)
	return string(b)
}
