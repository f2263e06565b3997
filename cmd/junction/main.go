// Command junction runs the Junction console and its command-line tools.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/junction-dev/junction"
	"github.com/junction-dev/junction/db"
	"github.com/junction-dev/junction/web"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

const usage = `Usage: junction <command> [flags]

Commands:
  serve [--addr A] [--db F] [--demo] [--public-url U] [--password-login=false]
        [--oidc-issuer URL --oidc-client-id ID --oidc-client-secret S]
        [--oidc-name N] [--oidc-admin-group G] [--oidc-project-roles P:ROLE=G,…]
                                          run the console
  migrate [--db F]                        apply schema migrations and exit
  user create --email E --password P [--admin] [--db F]
                                          add a user
  token create --email E [--name N] [--db F]
                                          create a personal access token; prints only the token
  backup [--db F] OUT                     write a consistent copy of the database to OUT
  env [--server URL] [--token T] [--format dotenv|json|shell|js] [--watch]
                                          print a component's environment (runtime token);
                                          --watch prints each new version
  run [--server URL] [--token T] [--watch [--stop-timeout 10s]] -- CMD ARGS…
                                          run CMD with that environment added; --watch
                                          restarts it when the variables change
  version                                 print the version, commit and build date

'junction COMMAND --help' prints that command's flags and their defaults.
--db F is a SQLite file (default junction.db) or a PostgreSQL URL, postgres://…

Environment: JUNCTION_ADDR, JUNCTION_DB, JUNCTION_SECRET_KEY, JUNCTION_PUBLIC_URL,
             JUNCTION_ADMIN_EMAIL, JUNCTION_ADMIN_PASSWORD, JUNCTION_SERVER, JUNCTION_TOKEN,
             JUNCTION_OIDC_ISSUER, JUNCTION_OIDC_CLIENT_ID, JUNCTION_OIDC_CLIENT_SECRET,
             JUNCTION_OIDC_NAME, JUNCTION_OIDC_ADMIN_GROUP, JUNCTION_OIDC_PROJECT_ROLES,
             JUNCTION_PASSWORD_LOGIN
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := Run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

// usageError is a mistake in the command line: exit code 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// Run runs one command and returns the process exit code. Errors go to stderr as one line.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	err := dispatch(ctx, args, stdout, stderr, getenv)
	var ue *usageError
	var exit *exitCodeError
	var help *helpError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &exit):
		return exit.code
	case errors.As(err, &help):
		fmt.Fprint(stdout, help.text)
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(stdout, usage)
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "junction: %s (run 'junction help' for usage)\n", ue.msg)
		return exitUsage
	default:
		fmt.Fprintf(stderr, "junction: %s\n", describe(err))
		return exitFailure
	}
}

func dispatch(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 {
		return &usageError{"no command given"}
	}
	cmd, args := args[0], args[1:]
	switch cmd {
	case "serve":
		return runServe(ctx, args, stdout, stderr, getenv)
	case "migrate":
		return runMigrate(ctx, args, stdout, getenv)
	case "user":
		if len(args) > 0 && isHelpFlag(args[0]) {
			return runUserCreate(ctx, args, stdout, getenv)
		}
		if len(args) == 0 || args[0] != "create" {
			return &usageError{"usage: junction user create --email E --password P [--admin]"}
		}
		return runUserCreate(ctx, args[1:], stdout, getenv)
	case "token":
		if len(args) > 0 && isHelpFlag(args[0]) {
			return runTokenCreate(ctx, args, stdout, getenv)
		}
		if len(args) == 0 || args[0] != "create" {
			return &usageError{"usage: junction token create --email E [--name N]"}
		}
		return runTokenCreate(ctx, args[1:], stdout, getenv)
	case "backup":
		return runBackup(ctx, args, stdout, getenv)
	case "env":
		return runEnv(ctx, args, stdout, stderr, getenv)
	case "run":
		return runRun(ctx, args, stdout, stderr, getenv)
	case "version", "--version":
		return runVersion(args, stdout)
	case "help", "-h", "--help":
		return flag.ErrHelp
	}
	return &usageError{fmt.Sprintf("unknown command %q", cmd)}
}

// newFlagSet returns a flag set that reports mistakes as usage errors instead of exiting.
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return commandHelp(fs)
		}
		return &usageError{fmt.Sprintf("%s: %v", fs.Name(), err)}
	}
	if fs.NArg() > 0 {
		return &usageError{fmt.Sprintf("%s: unexpected argument %q", fs.Name(), fs.Arg(0))}
	}
	return nil
}

func envOr(getenv func(string) string, name, def string) string {
	if v := getenv(name); v != "" {
		return v
	}
	return def
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := newFlagSet("serve")
	addr := fs.String("addr", envOr(getenv, "JUNCTION_ADDR", "127.0.0.1:8080"), "listen address")
	dbPath := fs.String("db", envOr(getenv, "JUNCTION_DB", "junction.db"), "SQLite database file or PostgreSQL URL")
	demo := fs.Bool("demo", false, "seed an example organization")
	publicURL := fs.String("public-url", getenv("JUNCTION_PUBLIC_URL"), "URL where browsers and services reach the console")
	var oidc web.OIDCConfig
	fs.StringVar(&oidc.Issuer, "oidc-issuer", getenv("JUNCTION_OIDC_ISSUER"), "OpenID Connect issuer URL")
	fs.StringVar(&oidc.ClientID, "oidc-client-id", getenv("JUNCTION_OIDC_CLIENT_ID"), "client ID at the provider")
	fs.StringVar(&oidc.ClientSecret, "oidc-client-secret", getenv("JUNCTION_OIDC_CLIENT_SECRET"), "client secret (prefer the environment variable)")
	fs.StringVar(&oidc.Name, "oidc-name", getenv("JUNCTION_OIDC_NAME"), "provider name on the sign-in page")
	fs.StringVar(&oidc.AdminGroup, "oidc-admin-group", getenv("JUNCTION_OIDC_ADMIN_GROUP"), "groups claim value that makes admins")
	fs.StringVar(&oidc.ProjectRoles, "oidc-project-roles", getenv("JUNCTION_OIDC_PROJECT_ROLES"), "project:role=group,… mapping")
	passwordDefault := true
	if v := getenv("JUNCTION_PASSWORD_LOGIN"); v != "" {
		on, err := strconv.ParseBool(v)
		if err != nil {
			return &usageError{fmt.Sprintf("JUNCTION_PASSWORD_LOGIN must be true or false, not %q", v)}
		}
		passwordDefault = on
	}
	passwordLogin := fs.Bool("password-login", passwordDefault, "allow sign-in with e-mail and password")
	if err := parse(fs, args); err != nil {
		return err
	}
	retention, err := ParseRetention(getenv("JUNCTION_AUDIT_RETENTION"))
	if err != nil {
		return &usageError{err.Error()}
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	app, err := OpenApp(ctx, Config{
		Addr: *addr, DBPath: *dbPath, SecretKey: getenv("JUNCTION_SECRET_KEY"),
		AdminEmail: getenv("JUNCTION_ADMIN_EMAIL"), AdminPassword: getenv("JUNCTION_ADMIN_PASSWORD"),
		Demo: *demo, PublicURL: *publicURL, Logger: logger,
		OIDC: oidc, PasswordLoginOff: !*passwordLogin, AuditRetention: retention,
	})
	if err != nil {
		return err
	}
	defer app.Close()

	fmt.Fprintf(stdout, "Junction is running at %s (database %s)\n", app.Server.URL(), app.DB.Path())
	if *demo {
		fmt.Fprintf(stdout, "Demo sign-in: %s / %s (also %s and %s, same password)\n", DemoAdminEmail, DemoPassword, DemoDeveloperEmail, DemoViewerEmail)
	}
	maintCtx, stopMaintenance := context.WithCancel(ctx)
	defer stopMaintenance()
	go app.Maintain(maintCtx, logger)
	errc := make(chan error, 1)
	go func() { errc <- app.Server.Serve() }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := app.Server.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shut down: %w", err)
	}
	return <-errc
}

func runMigrate(ctx context.Context, args []string, stdout io.Writer, getenv func(string) string) error {
	fs := newFlagSet("migrate")
	dbPath := fs.String("db", envOr(getenv, "JUNCTION_DB", "junction.db"), "SQLite database file or PostgreSQL URL")
	if err := parse(fs, args); err != nil {
		return err
	}
	store, _, err := openDB(ctx, *dbPath, getenv("JUNCTION_SECRET_KEY"))
	if err != nil {
		return err
	}
	defer store.Close()
	names, err := store.Migrations(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s is at schema %s (%d migrations applied)\n", store.Path(), names[len(names)-1], len(names))
	return nil
}

func runUserCreate(ctx context.Context, args []string, stdout io.Writer, getenv func(string) string) error {
	fs := newFlagSet("user create")
	email := fs.String("email", "", "e-mail address")
	password := fs.String("password", "", "password (at least 8 characters)")
	admin := fs.Bool("admin", false, "make the user an organization admin")
	dbPath := fs.String("db", envOr(getenv, "JUNCTION_DB", "junction.db"), "SQLite database file or PostgreSQL URL")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *email == "" || *password == "" {
		return &usageError{"user create: --email and --password are required"}
	}
	store, _, err := openDB(ctx, *dbPath, getenv("JUNCTION_SECRET_KEY"))
	if err != nil {
		return err
	}
	defer store.Close()
	user := &junction.User{Email: *email, IsAdmin: *admin}
	if err := services(store, 0).Users.CreateUser(ctx, user, *password); err != nil {
		return err
	}
	role := "user"
	if user.IsAdmin {
		role = "admin"
	}
	fmt.Fprintf(stdout, "created %s %s\n", role, user.Email)
	return nil
}

func runTokenCreate(ctx context.Context, args []string, stdout io.Writer, getenv func(string) string) error {
	fs := newFlagSet("token create")
	email := fs.String("email", "", "e-mail address of the token's owner")
	name := fs.String("name", "cli", "a name to recognise the token by")
	dbPath := fs.String("db", envOr(getenv, "JUNCTION_DB", "junction.db"), "SQLite database file or PostgreSQL URL")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *email == "" {
		return &usageError{"token create: --email is required"}
	}
	if err := requireExisting(*dbPath); err != nil {
		return err
	}
	store, _, err := openDB(ctx, *dbPath, getenv("JUNCTION_SECRET_KEY"))
	if err != nil {
		return err
	}
	defer store.Close()
	users := services(store, 0).Users
	user, err := users.FindUserByEmail(ctx, *email)
	if err != nil {
		return err
	}
	_, secret, err := users.CreateToken(ctx, user.ID, *name)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, secret)
	return nil
}

func runBackup(ctx context.Context, args []string, stdout io.Writer, getenv func(string) string) error {
	fs := newFlagSet("backup")
	dbPath := fs.String("db", envOr(getenv, "JUNCTION_DB", "junction.db"), "SQLite database file or PostgreSQL URL")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return commandHelp(fs)
		}
		return &usageError{fmt.Sprintf("backup: %v", err)}
	}
	if fs.NArg() != 1 {
		return &usageError{"usage: junction backup [--db F] OUT"}
	}
	out := fs.Arg(0)
	if db.IsPostgresURL(*dbPath) {
		return db.ErrPostgresBackup
	}
	if err := requireExisting(*dbPath); err != nil {
		return err
	}
	store, _, err := openDB(ctx, *dbPath, getenv("JUNCTION_SECRET_KEY"))
	if err != nil {
		return err
	}
	defer store.Close()
	if err := store.Backup(ctx, out); err != nil {
		return err
	}
	keyNote := *dbPath + ".key"
	if getenv("JUNCTION_SECRET_KEY") != "" {
		keyNote = "JUNCTION_SECRET_KEY"
	}
	fmt.Fprintf(stdout, "backed up %s to %s; its secrets open only with the key in %s, so keep the two together\n", *dbPath, out, keyNote)
	return nil
}

// requireExisting stops commands that only read an installation from creating an empty
// database (and a key) by mistake.
func requireExisting(dbPath string) error {
	if db.IsPostgresURL(dbPath) {
		return nil // the connection says whether it exists
	}
	if _, err := os.Stat(dbPath); err != nil {
		return fmt.Errorf("no database at %s: start the console or run 'junction migrate --db %s' first", dbPath, dbPath)
	}
	return nil
}
