package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/junction-dev/junction"
	"github.com/junction-dev/junction/db"
	"github.com/junction-dev/junction/web"
)

// Config is what the console needs to start.
type Config struct {
	Addr      string // listen address; ":0" picks a free port
	DBPath    string
	SecretKey string // JUNCTION_SECRET_KEY; empty means the <db>.key file
	// AdminEmail and AdminPassword create the first admin when no user exists yet.
	AdminEmail    string
	AdminPassword string
	Demo          bool
	// PublicURL is where browsers and services reach the console (JUNCTION_PUBLIC_URL), for
	// the TokenURL that connections get; empty means the listen address.
	PublicURL string
	// PasswordCost overrides the bcrypt cost (tests lower it); zero keeps the default.
	PasswordCost int
	// OIDC configures sign-in with an identity provider (JUNCTION_OIDC_*); zero means none.
	OIDC web.OIDCConfig
	// PasswordLoginOff turns sign-in with e-mail and password off (JUNCTION_PASSWORD_LOGIN=false).
	PasswordLoginOff bool
	// AuditRetention deletes audit entries older than it (JUNCTION_AUDIT_RETENTION); zero
	// keeps them all.
	AuditRetention time.Duration
	Logger         *slog.Logger
}

// App is an open database with the services and HTTP server over it.
type App struct {
	DB       *db.DB
	Services web.Services
	Server   *web.Server
	// DemoAdded reports whether this start seeded the demo organization.
	DemoAdded bool

	connections *db.ConnectionService // its TokenURL is known once the server listens
	// stopFlusher ends the runtime activity flusher, which flushes once more; flushed is
	// closed when it has.
	stopFlusher context.CancelFunc
	flushed     chan struct{}
	retention   time.Duration
}

// openDB loads the key and opens the database, applying migrations.
func openDB(ctx context.Context, path, secretKey string) (*db.DB, []byte, error) {
	if !db.IsPostgresURL(path) {
		if info, err := os.Stat(filepath.Dir(path)); err != nil || !info.IsDir() {
			return nil, nil, fmt.Errorf("database directory %s does not exist", filepath.Dir(path))
		}
	}
	key, err := db.LoadKey(secretKey, path)
	if err != nil {
		return nil, nil, err
	}
	store, err := db.Open(ctx, path, key)
	if err != nil {
		return nil, nil, err
	}
	return store, key, nil
}

func services(store *db.DB, passwordCost int) web.Services {
	conns := db.NewConnectionService(store, "")
	users := db.NewUserService(store)
	audit := db.NewAuditService(store)
	if passwordCost > 0 {
		users.PasswordCost = passwordCost
	}
	return web.Services{
		Users:        users,
		Projects:     db.NewProjectService(store),
		Components:   db.NewComponentService(store),
		Environments: db.NewEnvironmentService(store),
		Services:     db.NewServiceService(store),
		Connections:  conns,
		Mappings:     db.NewMappingService(store, conns),
		Audit:        audit,
		History:      audit,
		DBStats:      store.Stats,
		Ping:         store.Ping,
		SignInLimits: db.NewSignInLimits(store),
	}
}

// OpenApp opens the database, creates the first admin or the demo data when asked, and
// binds the listener. The caller runs App.Server.Serve and then Close.
func OpenApp(ctx context.Context, cfg Config) (*App, error) {
	// Bind first: a start that fails on the address (in use, say) must leave no new database
	// or key file behind.
	ln, err := web.ListenTCP(cfg.Addr)
	if err != nil {
		return nil, err
	}
	store, key, err := openDB(ctx, cfg.DBPath, cfg.SecretKey)
	if err != nil {
		ln.Close()
		return nil, err
	}
	app := &App{DB: store, Services: services(store, cfg.PasswordCost)}
	app.connections = app.Services.Connections.(*db.ConnectionService)
	// Replicas starting at once take turns (an advisory lock on PostgreSQL), so that the
	// first admin and the demo are created once and the others find them.
	if err := store.Exclusive(ctx, "bootstrap", func() error {
		if err := app.bootstrapAdmin(ctx, cfg.AdminEmail, cfg.AdminPassword); err != nil {
			return err
		}
		if cfg.Demo {
			if app.DemoAdded, err = SeedDemo(ctx, app.Services); err != nil {
				return fmt.Errorf("seed demo data: %w", err)
			}
		}
		return nil
	}); err != nil {
		ln.Close()
		store.Close()
		return nil, err
	}
	var opts []web.Option
	var provider *web.OIDCProvider
	if cfg.OIDC.Enabled() {
		provider = web.NewOIDCProvider(cfg.OIDC)
		opts = append(opts, web.WithOIDC(provider))
	}
	if cfg.PasswordLoginOff {
		opts = append(opts, web.WithPasswordLogin(false))
	}
	publicURL := strings.TrimSuffix(cfg.PublicURL, "/")
	if publicURL != "" {
		opts = append(opts, web.WithPublicURL(publicURL))
	}
	app.Server = web.NewServer(app.Services,
		db.DeriveKey(key, "junction session hash v1"), db.DeriveKey(key, "junction session block v1"), cfg.Logger, opts...)
	app.Server.UseListener(ln)
	// Runtime fetches are counted in memory and written once a minute, never per fetch.
	flushCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	app.stopFlusher, app.flushed = stop, make(chan struct{})
	logger := cfg.Logger
	if logger == nil {
		logger = slog.Default()
	}
	go func() {
		defer close(app.flushed)
		app.Services.Mappings.(*db.MappingService).RunRuntimeActivityFlusher(flushCtx, time.Minute, func(err error) {
			logger.Error("runtime activity", "err", err)
		})
	}()
	if publicURL == "" {
		publicURL = app.Server.URL()
	}
	app.connections.TokenURL = publicURL + "/oauth2/token"
	if provider != nil {
		provider.SetPublicURL(publicURL)
		app.checkProvider(ctx, provider, !cfg.PasswordLoginOff, cfg.Logger)
	}
	app.retention = cfg.AuditRetention
	return app, nil
}

// Maintain runs the background jobs (rotation grace ends, audit retention) until ctx ends.
func (a *App) Maintain(ctx context.Context, logger *slog.Logger) {
	audit := a.Services.Audit.(*db.AuditService)
	maintain(ctx, maintenanceInterval, func(ctx context.Context) {
		runMaintenance(ctx, a.DB, a.connections, audit, a.retention, logger)
	})
}

// checkProvider reaches the identity provider once at start and says in one line what is
// wrong, if anything. The console starts either way: password sign-in (when on) keeps
// working, the sign-in page says the provider is unavailable, and a provider that could not
// be reached is tried again at the next sign-in with it.
func (a *App) checkProvider(ctx context.Context, p *web.OIDCProvider, password bool, logger *slog.Logger) {
	fallback := "password sign-in still works"
	if !password {
		fallback = "password sign-in is off, so only tokens work until this is fixed"
	}
	if err := p.ConfigError(); err != nil {
		logger.Error(fmt.Sprintf("sign-in with %s is unavailable: %v; %s", p.Name(), err, fallback))
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := p.Discover(ctx); err != nil {
		logger.Error(fmt.Sprintf("sign-in with %s is unavailable for now: %v; %s, and the provider is tried again at the next sign-in with it", p.Name(), err, fallback))
	} else {
		logger.Info("sign-in with "+p.Name()+" is on", "issuer", p.Issuer(), "redirect_uri", p.RedirectURL())
	}
	// The mapping may name a project that is created later; say so rather than stop.
	system := junction.NewContextWithUser(ctx, &junction.User{Email: "junction", IsAdmin: true})
	seen := map[string]bool{}
	for _, pr := range p.ProjectRoles() {
		if seen[pr.Project] {
			continue
		}
		seen[pr.Project] = true
		if _, err := a.Services.Projects.FindProject(system, pr.Project); junction.ErrorCode(err) == junction.ENOTFOUND {
			logger.Warn(fmt.Sprintf("JUNCTION_OIDC_PROJECT_ROLES names project %q, which does not exist; its roles are granted once it does", pr.Project))
		} else if err != nil {
			logger.Warn("check JUNCTION_OIDC_PROJECT_ROLES", "err", err)
		}
	}
}

// bootstrapAdmin creates the configured admin when the database has no user yet.
func (a *App) bootstrapAdmin(ctx context.Context, email, password string) error {
	if email == "" && password == "" {
		return nil
	} else if email == "" || password == "" {
		return fmt.Errorf("set both JUNCTION_ADMIN_EMAIL and JUNCTION_ADMIN_PASSWORD, or neither")
	}
	n, err := a.Services.Users.CountUsers(ctx)
	if err != nil || n > 0 {
		return err
	}
	if err := a.Services.Users.CreateUser(ctx, &junction.User{Email: email, IsAdmin: true}, password); err != nil {
		return fmt.Errorf("create admin from JUNCTION_ADMIN_EMAIL: %s", describe(err))
	}
	return nil
}

// Close closes the server's listener, writes the runtime activity counted since the last
// flush, and closes the database.
func (a *App) Close() error {
	err := a.Server.Close()
	if a.stopFlusher != nil {
		a.stopFlusher()
		<-a.flushed
		a.stopFlusher = nil
	}
	return errors.Join(err, a.DB.Close())
}

// describe renders an error as one line for the terminal, field messages included.
func describe(err error) string {
	fields := junction.ErrorFields(err)
	if len(fields) == 0 {
		if junction.ErrorCode(err) == junction.EINTERNAL {
			return err.Error()
		}
		return junction.ErrorMessage(err)
	}
	parts := make([]string, 0, len(fields))
	for name, m := range fields {
		parts = append(parts, name+": "+m)
	}
	sort.Strings(parts)
	return strings.Join(parts, "; ")
}
