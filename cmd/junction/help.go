package main

import (
	"flag"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
)

// helpError asks Run to print one command's help on stdout and exit 0.
type helpError struct{ text string }

func (e *helpError) Error() string { return "help requested" }

// synopses are the first line of each command's help.
var synopses = map[string]string{
	"serve":        "junction serve [flags]: run the console",
	"migrate":      "junction migrate [flags]: apply schema migrations and exit",
	"user create":  "junction user create --email E --password P [--admin] [flags]: add a user",
	"token create": "junction token create --email E [--name N] [flags]: create a personal access token; prints only the token",
	"backup":       "junction backup [--db F] OUT: write a consistent copy of the database to OUT",
	"env":          "junction env [flags]: print a component's environment (runtime token)",
	"run":          "junction run [flags] -- CMD ARGS…: run CMD with the component's environment added",
	"version":      "junction version: print the version, commit and build date",
}

// secretFlags hold credentials: their help says whether they are set, never their value.
var secretFlags = map[string]bool{"token": true, "password": true, "oidc-client-secret": true}

// commandHelp is the help of one command: its synopsis, then every flag with its meaning
// and default (as the environment sets it).
func commandHelp(fs *flag.FlagSet) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Usage: %s\n", synopses[fs.Name()])
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	if n > 0 {
		b.WriteString("\nFlags:\n")
	}
	fs.VisitAll(func(f *flag.Flag) {
		name, usage := flag.UnquoteUsage(f)
		fmt.Fprintf(&b, "  --%s", f.Name)
		if name != "" {
			fmt.Fprintf(&b, " %s", name)
		}
		fmt.Fprintf(&b, "\n      %s", usage)
		switch {
		case secretFlags[f.Name] && f.DefValue != "":
			b.WriteString(" (default: set from the environment)")
		case secretFlags[f.Name]:
		case f.DefValue != "" && f.DefValue != "false":
			fmt.Fprintf(&b, " (default %q)", f.DefValue)
		}
		b.WriteByte('\n')
	})
	return &helpError{b.String()}
}

func isHelpFlag(arg string) bool {
	return arg == "-h" || arg == "--help" || arg == "-help"
}

// Set at build time: go build -ldflags "-X main.version=v1.2.0 -X main.commit=abc1234
// -X main.buildDate=2026-12-02T17:00:00Z" (see the Makefile's build target).
var (
	version   = ""
	commit    = ""
	buildDate = ""
)

// buildVersion answers the version, commit and build date: those set with -ldflags, else
// what the Go toolchain recorded in the binary (module version, VCS revision and time).
func buildVersion() (v, c, d string) {
	v, c, d = version, commit, buildDate
	modified := false
	if info, ok := debug.ReadBuildInfo(); ok {
		if v == "" && info.Main.Version != "" {
			v = info.Main.Version
		}
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				if c == "" {
					c = s.Value
				}
			case "vcs.time":
				if d == "" {
					d = s.Value
				}
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	if modified && commit == "" && c != "" {
		c += "-dirty"
	}
	if v == "" {
		v = "(devel)"
	}
	if c == "" {
		c = "unknown"
	}
	if d == "" {
		d = "unknown"
	}
	return v, c, d
}

// runVersion prints "junction VERSION (commit C, built D)".
func runVersion(args []string, stdout io.Writer) error {
	fs := newFlagSet("version")
	if err := parse(fs, args); err != nil {
		return err
	}
	v, c, d := buildVersion()
	fmt.Fprintf(stdout, "junction %s (commit %s, built %s)\n", v, c, d)
	return nil
}
