// Package web wires the console together: Echo, middleware, sessions, CSRF, authentication,
// the route table and the embedded static files.
package web

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/junction-dev/junction"
	"github.com/junction-dev/junction/handlers"
	"github.com/junction-dev/junction/static"
)

// Services are the domain services the server exposes.
type Services struct {
	Users        junction.UserService
	Projects     junction.ProjectService
	Components   junction.ComponentService
	Environments junction.EnvironmentService
	Services     junction.ServiceService
	Connections  junction.ConnectionService
	Mappings     junction.MappingService
	Audit        junction.AuditLog
	History      junction.HistoryService
	// DBStats, when set, reports the database pools in /metrics.
	DBStats func() (write, read sql.DBStats)
	// Ping, when set, tells /healthz whether the database answers.
	Ping func(ctx context.Context) error
	// SignInLimits, when set, counts sign-in attempts for every replica on the database;
	// without it each process counts its own.
	SignInLimits SignInCounter
}

// Server is the console's HTTP server.
type Server struct {
	echo     *echo.Echo
	http     *http.Server
	sessions *sessionStore
	services Services
	logger   *slog.Logger
	ln       net.Listener
	signIns  *signInLimiter
	// signInsByAddr allows a client address 60 attempts at once, then one a second.
	signInsByAddr *signInLimiter
	metrics       *metrics
	// oidc is sign-in with an identity provider; nil when none is configured.
	oidc *oidcSignIn
	// draining is closed by Shutdown, so that long polls answer at once.
	draining     chan struct{}
	drainingOnce sync.Once
}

// options are the optional parts of the server.
type options struct {
	oidc        *OIDCProvider
	passwordOff bool
	publicURL   string
}

// Option configures an optional part of the server.
type Option func(*options)

// WithOIDC offers sign-in with an OpenID Connect provider on /login.
func WithOIDC(p *OIDCProvider) Option { return func(o *options) { o.oidc = p } }

// WithPasswordLogin turns sign-in with e-mail and password on (the default) or off.
// Personal access tokens and runtime tokens work either way.
func WithPasswordLogin(on bool) Option { return func(o *options) { o.passwordOff = !on } }

// WithPublicURL says where browsers and services reach the console (JUNCTION_PUBLIC_URL),
// for the server URL pages show; without it pages use the address of the request.
func WithPublicURL(u string) Option {
	return func(o *options) { o.publicURL = strings.TrimSuffix(u, "/") }
}

// NewServer builds the server. sessionHashKey signs and sessionBlockKey encrypts the
// session cookie; both come from the installation's master key.
func NewServer(services Services, sessionHashKey, sessionBlockKey []byte, logger *slog.Logger, opts ...Option) *Server {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	s := &Server{
		echo:     echo.New(),
		sessions: newSessionStore(sessionHashKey, sessionBlockKey, services.Users),
		services: services,
		logger:   logger,
		// Ten attempts at once, then one every six seconds, per client and e-mail.
		signIns:       newSignInLimiter("pair", services.SignInLimits, 6*time.Second, 10),
		signInsByAddr: newSignInLimiter("addr", services.SignInLimits, time.Second, 60),
		metrics:       newMetrics(services.DBStats),
		draining:      make(chan struct{}),
	}
	s.echo.HideBanner, s.echo.HidePort = true, true
	if history, ok := services.Audit.(junction.HistoryService); ok && services.History == nil {
		services.History = history // the store's audit log reads the histories too
	}
	h := &handlers.Handler{
		Users: services.Users, Projects: services.Projects, Components: services.Components,
		Environments: services.Environments, Services: services.Services, Connections: services.Connections,
		Mappings: services.Mappings, Audit: services.Audit, History: services.History, Sessions: s.sessions, Logger: logger,
		PasswordLoginOff: o.passwordOff, Draining: s.draining, PublicURL: o.publicURL,
	}
	if o.oidc != nil {
		// The flow cookie is sealed with the session keys: the same on every replica.
		s.oidc = newOIDCSignIn(o.oidc, sessionHashKey, sessionBlockKey, logger)
		h.Provider = s.oidc
	}
	s.echo.HTTPErrorHandler = h.HandleError
	s.echo.Pre(middleware.RemoveTrailingSlashWithConfig(middleware.TrailingSlashConfig{RedirectCode: http.StatusPermanentRedirect}))
	s.echo.Use(s.logRequests, s.recoverPanics, s.securityHeaders, middleware.BodyLimit("1M"), s.authenticate, s.checkCSRF, s.requireUser)
	s.routes(h)
	s.http = &http.Server{
		Handler:           s.echo,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	return s
}

// routes is the route table.
func (s *Server) routes(h *handlers.Handler) {
	e := s.echo
	e.GET("/healthz", s.healthz)
	e.GET("/metrics", s.metrics.handler())
	e.HEAD("/healthz", s.healthz)
	e.GET(static.Prefix+"*", echo.WrapHandler(static.Handler()))
	e.GET("/login", h.LoginPage)
	e.POST("/login", h.Login, s.limitSignIn)
	e.GET("/login/oidc", h.LoginOIDC, s.limitProviderSignIn)
	e.GET(CallbackPath, h.LoginOIDCCallback, s.limitProviderSignIn)
	e.GET("/logout", h.LogoutPage)
	e.POST("/logout", h.Logout)
	e.POST("/oauth2/token", h.Token)
	e.GET("/.well-known/jwks.json", h.JWKS)
	e.GET("/.well-known/oauth-authorization-server", h.AuthorizationServerMetadata)
	e.GET("/.well-known/openid-configuration", h.AuthorizationServerMetadata)
	e.POST("/oauth2/introspect", h.Introspect)
	e.POST("/api/v1/api-keys/verify", h.APIVerifyAPIKey)
	e.GET(runtimePath, h.RuntimeEnv)

	// Everything below needs a signed-in user (see requireUser). Groups carry no middleware,
	// so that a wrong method on a known path stays 405 rather than a group catch-all 404.
	pages := e.Group("")
	pages.GET("/", func(c echo.Context) error { return c.Redirect(http.StatusSeeOther, handlers.HomePath) })
	pages.GET("/services", h.ServicesPage)
	pages.GET("/services/new", h.NewServicePage)
	pages.GET("/services/new/third-party", h.NewThirdPartyPage)
	pages.POST("/services/third-party", h.CreateThirdParty)
	pages.GET("/services/new/database", h.NewDatabasePage)
	pages.POST("/services/database", h.CreateDatabase)
	pages.GET("/services/:id", h.ServicePage)
	pages.POST("/services/:id", h.SaveService)
	pages.GET("/services/:id/edit", h.EditServicePage)
	pages.GET("/services/:id/connect", h.ConnectService)
	pages.POST("/services/:id/listing", h.SetServiceListing)
	pages.POST("/services/:id/delete", h.DeleteService)
	pages.GET("/projects", h.ProjectsPage)
	pages.GET("/projects/new", h.NewProjectPage)
	pages.POST("/projects", h.CreateProject)
	pages.GET("/projects/:p", h.ProjectPage)
	pages.GET("/projects/:p/diagram", h.ProjectDiagramPage)
	pages.POST("/projects/:p", h.UpdateProject)
	pages.POST("/projects/:p/delete", h.DeleteProject)
	pages.POST("/projects/:p/members", h.SetMember)
	pages.POST("/projects/:p/members/remove", h.RemoveMember)
	pages.GET("/projects/:p/connections/new", h.NewConnectionPage)
	pages.POST("/projects/:p/connections", h.CreateConnectionForm)
	pages.GET("/projects/:p/components/:c/connections/new", h.NewConnectionPage)
	pages.POST("/projects/:p/components/:c/connections", h.CreateConnectionForm)
	pages.GET("/connections/:id", h.ConnectionPage)
	pages.POST("/connections/:id", h.UpdateConnectionForm)
	pages.GET("/connections/:id/parameters", h.ConnectionParameters)
	pages.POST("/connections/:id/delete", h.DeleteConnectionForm)
	pages.GET("/connections/:id/rotate", h.RotatePage)
	pages.POST("/connections/:id/rotate", h.RotateForm)
	pages.POST("/connections/:id/rotate/finish", h.FinishRotationForm)
	pages.GET("/connections/:id/history", h.ConnectionHistoryPage)
	pages.GET("/services/:id/history", h.ServiceHistoryPage)
	pages.GET("/projects/:p/history", h.ProjectHistoryPage)
	pages.GET("/projects/:p/components/:c/env/history", h.MappingHistoryPage)
	pages.POST("/projects/:p/components/:c/env/restore", h.RestoreMappingsForm)
	pages.GET("/projects/:p/components/new", h.NewComponentPage)
	pages.POST("/projects/:p/components", h.CreateComponent)
	pages.GET("/projects/:p/components/:c", h.ComponentPage)
	pages.POST("/projects/:p/components/:c", h.UpdateComponent)
	pages.POST("/projects/:p/components/:c/delete", h.DeleteComponent)
	pages.GET("/projects/:p/components/:c/env", h.EnvPage)
	pages.GET("/projects/:p/components/:c/export", h.Export)
	pages.GET("/projects/:p/components/:c/import", h.ImportPage)
	pages.POST("/projects/:p/components/:c/import", h.ImportPage)
	pages.POST("/projects/:p/components/:c/env", h.SaveMappings)
	pages.POST("/projects/:p/components/:c/env/validate", h.ValidateMappings)
	pages.POST("/projects/:p/components/:c/runtime-tokens", h.CreateRuntimeTokenForm)
	pages.POST("/projects/:p/components/:c/runtime-tokens/:id/delete", h.RevokeRuntimeTokenForm)
	pages.GET("/projects/:p/components/:c/endpoints/new", h.NewEndpointPage)
	pages.POST("/projects/:p/components/:c/endpoints", h.PublishEndpoint)
	pages.GET("/environments", h.EnvironmentsPage)
	pages.POST("/environments", h.CreateEnvironment)
	pages.GET("/audit", h.AuditPage)
	pages.GET("/users", h.UsersPage)
	pages.POST("/users", h.CreateUser)
	pages.GET("/account", h.AccountPage)
	pages.GET("/account/tokens", h.AccountPage)
	pages.POST("/account/tokens", h.CreateToken)
	pages.POST("/account/tokens/:id/delete", h.DeleteToken)

	// A GET on a form's target (a reload, Back, a bookmark) goes to the page the form is on
	// rather than answering 405.
	for path, page := range formPages {
		pages.GET(path, redirectToPage(page))
	}

	api := e.Group("/api/v1")
	api.GET("/me", h.Me)
	api.GET("/environments", h.APIEnvironments)
	api.POST("/environments", h.APICreateEnvironment)
	api.GET("/projects", h.APIProjects)
	api.POST("/projects", h.APICreateProject)
	api.GET("/projects/:p", h.APIProject)
	api.PATCH("/projects/:p", h.APIUpdateProject)
	api.DELETE("/projects/:p", h.APIDeleteProject)
	api.GET("/projects/:p/members", h.APIMembers)
	api.PUT("/projects/:p/members/:email", h.APISetMember)
	api.DELETE("/projects/:p/members/:email", h.APIRemoveMember)
	api.GET("/projects/:p/components", h.APIComponents)
	api.POST("/projects/:p/components", h.APICreateComponent)
	api.GET("/projects/:p/components/:c", h.APIComponent)
	api.PATCH("/projects/:p/components/:c", h.APIUpdateComponent)
	api.DELETE("/projects/:p/components/:c", h.APIDeleteComponent)
	api.GET("/services", h.APIServices)
	api.POST("/services", h.APICreateService)
	api.GET("/services/:id", h.APIService)
	api.PATCH("/services/:id", h.APIUpdateService)
	api.DELETE("/services/:id", h.APIDeleteService)
	api.GET("/projects/:p/connections", h.APIProjectConnections)
	api.POST("/projects/:p/connections", h.APICreateConnection)
	api.GET("/projects/:p/components/:c/connections", h.APIComponentConnections)
	api.POST("/projects/:p/components/:c/connections", h.APICreateConnection)
	api.GET("/connections/:id", h.APIConnection)
	api.PATCH("/connections/:id", h.APIUpdateConnection)
	api.DELETE("/connections/:id", h.APIDeleteConnection)
	api.POST("/connections/:id/rotate", h.APIRotateConnection)
	api.POST("/connections/:id/rotate/finish", h.APIFinishRotation)
	api.GET("/projects/:p/components/:c/mappings/history", h.APIMappingHistory)
	api.POST("/projects/:p/components/:c/mappings/restore", h.APIRestoreMappings)
	api.GET("/audit", h.APIAudit)
	api.GET("/projects/:p/components/:c/mappings", h.APIMappings)
	api.PUT("/projects/:p/components/:c/mappings/:id", h.APISetMappings)
	api.DELETE("/projects/:p/components/:c/mappings/:id", h.APIDeleteMappings)
	api.GET("/projects/:p/components/:c/env", h.APIEnv)
	api.GET("/projects/:p/components/:c/component.yaml", h.APIComponentYAML)
	api.PUT("/projects/:p/components/:c/component.yaml", h.APIImportComponentYAML)
	api.GET("/projects/:p/components/:c/runtime-tokens", h.APIRuntimeTokens)
	api.POST("/projects/:p/components/:c/runtime-tokens", h.APICreateRuntimeToken)
	api.DELETE("/projects/:p/components/:c/runtime-tokens/:id", h.APIRevokeRuntimeToken)
}

// healthTimeout bounds how long /healthz waits for the database.
const healthTimeout = 2 * time.Second

// healthz answers 200 "ok" when the database answers, else 503 with one line saying so, so
// that a load balancer takes a replica that lost its database out of rotation.
func (s *Server) healthz(c echo.Context) error {
	status, body := http.StatusOK, "ok"
	if s.services.Ping != nil {
		ctx, cancel := context.WithTimeout(c.Request().Context(), healthTimeout)
		err := s.services.Ping(ctx)
		cancel()
		if err != nil {
			status, body = http.StatusServiceUnavailable, "database unavailable"
			s.logger.Warn("health check: the database does not answer", "err", err)
		}
	}
	if c.Request().Method == http.MethodHead {
		return c.NoContent(status)
	}
	return c.String(status, body)
}

// formPages maps each POST-only form target to the page it belongs to; ":name" parts are
// filled from the request's path.
var formPages = map[string]string{
	"/services/third-party":                                "/services/new/third-party",
	"/services/database":                                   "/services/new/database",
	"/services/:id/listing":                                "/services/:id",
	"/services/:id/delete":                                 "/services/:id",
	"/projects/:p/delete":                                  "/projects/:p",
	"/projects/:p/members":                                 "/projects/:p",
	"/projects/:p/members/remove":                          "/projects/:p",
	"/projects/:p/connections":                             "/projects/:p",
	"/projects/:p/components/:c/connections":               "/projects/:p/components/:c",
	"/connections/:id/delete":                              "/connections/:id",
	"/projects/:p/components":                              "/projects/:p",
	"/projects/:p/components/:c/delete":                    "/projects/:p/components/:c",
	"/projects/:p/components/:c/env/validate":              "/projects/:p/components/:c/env",
	"/projects/:p/components/:c/runtime-tokens":            "/projects/:p/components/:c",
	"/projects/:p/components/:c/runtime-tokens/:id/delete": "/projects/:p/components/:c",
	"/projects/:p/components/:c/endpoints":                 "/projects/:p/components/:c",
	"/account/tokens/:id/delete":                           "/account/tokens",
}

// redirectToPage answers a GET on a form target with a 303 to its page.
func redirectToPage(page string) echo.HandlerFunc {
	return func(c echo.Context) error {
		parts := strings.Split(page, "/")
		for i, part := range parts {
			if strings.HasPrefix(part, ":") {
				parts[i] = url.PathEscape(c.Param(part[1:]))
			}
		}
		return c.Redirect(http.StatusSeeOther, strings.Join(parts, "/"))
	}
}

// Routes lists the registered routes, for tests that must cover every one.
func (s *Server) Routes() []*echo.Route { return s.echo.Routes() }

// ServeHTTP lets tests drive the server without a listener.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.echo.ServeHTTP(w, r) }

// Listen binds addr (":0" picks a free port).
func (s *Server) Listen(addr string) error {
	ln, err := ListenTCP(addr)
	if err != nil {
		return err
	}
	s.ln = ln
	return nil
}

// ListenTCP binds addr, so that a caller can find out that the address is taken before it
// creates anything else (a database, a key file).
func ListenTCP(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	return ln, nil
}

// UseListener serves on a listener bound before (see ListenTCP).
func (s *Server) UseListener(ln net.Listener) { s.ln = ln }

// URL is the address the server is reachable at once Listen has returned.
func (s *Server) URL() string {
	addr := s.ln.Addr().(*net.TCPAddr)
	host := addr.IP.String()
	if addr.IP.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, fmt.Sprint(addr.Port))
}

// Serve answers requests until Shutdown is called.
func (s *Server) Serve() error {
	if err := s.http.Serve(s.ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Shutdown stops accepting connections and waits for in-flight requests to finish; long
// polls of the runtime API answer at once (304).
func (s *Server) Shutdown(ctx context.Context) error {
	s.drainingOnce.Do(func() { close(s.draining) })
	return s.http.Shutdown(ctx)
}

// Close closes the listener and every connection at once.
func (s *Server) Close() error {
	err := s.http.Close()
	if s.ln != nil {
		// Serve closes the listener it was given; this covers a server that never served.
		if cerr := s.ln.Close(); cerr != nil && !errors.Is(cerr, net.ErrClosed) {
			err = errors.Join(err, cerr)
		}
	}
	return err
}

// logRequests logs one line per request: a request ID (also sent back as X-Request-ID),
// method, path (never the query, which could hold a secret), status, size and duration.
func (s *Server) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		id := randomToken()[:16]
		c.Response().Header().Set("X-Request-ID", id)
		// The audit entries that the request's changes write name it and its client (a
		// runtime fetch changes nothing: the hot path skips the copy of the request).
		if c.Path() != runtimePath {
			req := c.Request()
			c.SetRequest(req.WithContext(junction.NewContextWithRequest(req.Context(), junction.RequestInfo{ID: id, ClientAddr: clientHost(c)})))
		}
		if err := next(c); err != nil {
			c.Error(err)
		}
		res := c.Response()
		s.metrics.observe(c, time.Since(start))
		if res.Status < 400 && c.Path() == runtimePath {
			// The hot path: components fetch at every start and poll for changes. Metrics
			// count these requests; the log keeps only their failures.
			return nil
		}
		level := slog.LevelInfo
		if res.Status >= 500 {
			level = slog.LevelError
		}
		s.logger.LogAttrs(c.Request().Context(), level, "request",
			slog.String("id", id),
			slog.String("method", c.Request().Method),
			slog.String("path", c.Request().URL.Path),
			slog.Int("status", res.Status),
			slog.Int64("bytes", res.Size),
			slog.Duration("duration", time.Since(start)),
		)
		return nil
	}
}

// recoverPanics turns a panic into a logged 500 so one bad request never stops the server.
func (s *Server) recoverPanics(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				s.logger.Error("panic", "path", c.Request().URL.Path, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
				err = fmt.Errorf("panic: %v", r)
			}
		}()
		return next(c)
	}
}

// contentSecurityPolicy allows only this origin's scripts and styles: no inline script, no eval.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

func (s *Server) securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		if c.Request().URL.Path == runtimePath {
			// A machine's fetch: no page to protect, only its secrets to keep out of caches.
			h.Set("Cache-Control", "no-store")
			h.Set("X-Content-Type-Options", "nosniff")
			return next(c)
		}
		csp := contentSecurityPolicy
		if s.oidc != nil {
			if sources := s.oidc.formActionSources(); sources != "" {
				// Signing out redirects the sign-out form to the provider's end_session_endpoint,
				// which form-action must allow.
				csp = strings.Replace(csp, "form-action 'self'", "form-action 'self' "+sources, 1)
			}
		}
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
		if isHTTPS(c.Request()) {
			h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		}
		if !strings.HasPrefix(c.Request().URL.Path, static.Prefix) {
			// Pages and API answers may show secrets: keep them out of shared caches.
			h.Set("Cache-Control", "no-store")
		}
		return next(c)
	}
}

// authenticate finds the user of a request from a bearer token or the session cookie. A
// bearer token that does not work is a 401 at once; a stale session is simply anonymous.
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		if c.Path() == "/healthz" || strings.HasPrefix(req.URL.Path, static.Prefix) || machinePaths[req.URL.Path] {
			// The token endpoint reads its own Basic credentials; machines have no session.
			return next(c)
		}
		ctx := req.Context()
		if auth := req.Header.Get("Authorization"); auth != "" {
			scheme, token, _ := strings.Cut(auth, " ")
			if !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
				return junction.Errorf(junction.EUNAUTHORIZED, "Use an Authorization: Bearer <token> header.")
			}
			user, err := s.services.Users.FindUserByToken(ctx, strings.TrimSpace(token))
			if err != nil {
				return err
			}
			c.Set(ctxAuthMethod, "token")
			c.SetRequest(req.WithContext(junction.NewContextWithUser(ctx, user)))
			return next(c)
		}
		if id, ok := s.sessions.session(c).Values[keySessionID].(string); ok {
			user, err := s.services.Users.FindUserBySession(ctx, id)
			if err == nil {
				c.Set(ctxAuthMethod, "session")
				c.SetRequest(req.WithContext(junction.NewContextWithUser(ctx, user)))
			} else if junction.ErrorCode(err) != junction.EUNAUTHORIZED {
				return err
			}
		}
		return next(c)
	}
}

// runtimePath is the runtime API, the hot path.
const runtimePath = "/api/v1/runtime/env"

// publicPaths are the only routes that anonymous visitors reach.
var publicPaths = map[string]bool{"/healthz": true, "/login": true, "/logout": true, "/login/oidc": true, CallbackPath: true,
	"/oauth2/token": true, "/oauth2/introspect": true, "/.well-known/jwks.json": true, "/.well-known/oauth-authorization-server": true,
	"/.well-known/openid-configuration": true, "/api/v1/api-keys/verify": true, "/api/v1/runtime/env": true}

// machinePaths are called by services, not browsers: they carry no session and need no
// CSRF token.
var machinePaths = map[string]bool{"/oauth2/token": true, "/oauth2/introspect": true, "/api/v1/api-keys/verify": true, "/api/v1/runtime/env": true}

// requireUser sends anonymous page requests to the sign-in page and answers 401 to the API;
// only the sign-in pages, the health check and static files are public.
func (s *Server) requireUser(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		path := c.Request().URL.Path
		if junction.UserFromContext(c.Request().Context()) != nil || publicPaths[path] || strings.HasPrefix(path, static.Prefix) {
			return next(c)
		}
		if handlers.IsAPI(c) {
			return junction.Errorf(junction.EUNAUTHORIZED, "Sign in or send an Authorization: Bearer token.")
		}
		target := "/login"
		if c.Request().Method == http.MethodGet && c.Request().URL.Path != "/" {
			target += "?next=" + url.QueryEscape(c.Request().URL.RequestURI())
		}
		if c.Request().Header.Get("HX-Request") == "true" {
			c.Response().Header().Set("HX-Redirect", target)
			return c.NoContent(http.StatusOK)
		}
		return c.Redirect(http.StatusSeeOther, target)
	}
}

// checkCSRF requires the session's CSRF token on every state-changing request that a
// browser could send with the cookie. Bearer-token requests carry no ambient credentials
// and are exempt.
func (s *Server) checkCSRF(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		switch c.Request().Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			return next(c)
		}
		if c.Get(ctxAuthMethod) == "token" || machinePaths[c.Request().URL.Path] || s.sessions.validCSRF(c) {
			return next(c)
		}
		if junction.UserFromContext(c.Request().Context()) == nil && !publicPaths[c.Request().URL.Path] {
			// Without a session the answer is "sign in" (requireUser), not "bad form": nothing
			// can change anyway.
			return next(c)
		}
		return handlers.ErrCSRF
	}
}
