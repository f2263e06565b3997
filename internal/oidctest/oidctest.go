// Package oidctest runs a real OpenID Connect provider for tests: the op package of
// github.com/zitadel/oidc over its example in-memory storage, on 127.0.0.1, with a small
// login page. Tests add users with groups, and can make the provider misbehave (expired ID
// tokens, a forged nonce) or go down.
package oidctest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"
)

// Client credentials of the one client the provider knows.
const (
	ClientID     = "junction"
	ClientSecret = "junction-client-secret"
)

// User is a person who can sign in at the provider.
type User struct {
	ID            string // the subject
	Username      string // typed on the login page
	Password      string
	Email         string
	EmailVerified bool
	Name          string
	Groups        []string
}

// Provider is a running OpenID provider.
type Provider struct {
	// Issuer is the provider's URL, e.g. http://127.0.0.1:41234.
	Issuer string

	server *http.Server
	ln     net.Listener

	mu              sync.Mutex
	users           map[string]*User
	redirectURIs    []string
	postLogoutURIs  []string
	idTokenLifetime time.Duration

	down       atomic.Bool
	wrongNonce atomic.Bool
	logouts    atomic.Int32
}

// Start runs a provider until the test ends.
func Start(tb testing.TB) *Provider {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("oidctest: listen: %v", err)
	}
	p := &Provider{Issuer: "http://" + ln.Addr().String(), ln: ln, users: map[string]*User{}, idTokenLifetime: time.Hour}
	handler, err := p.handler()
	if err != nil {
		ln.Close()
		tb.Fatalf("oidctest: %v", err)
	}
	p.server = &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	go p.server.Serve(ln)
	tb.Cleanup(func() { p.server.Close() })
	return p
}

func (p *Provider) handler() (http.Handler, error) {
	client := storage.WebClient(ClientID, ClientSecret)
	store := &providerStorage{
		Storage: storage.NewStorageWithClients(userStore{p}, map[string]*storage.Client{ClientID: client}),
		p:       p,
	}
	var key [32]byte
	if _, err := rand.Read(key[:]); err != nil {
		return nil, err
	}
	config := &op.Config{
		CryptoKey:                key,
		DefaultLogoutRedirectURI: "/logged-out",
		CodeMethodS256:           true,
		AuthMethodPost:           true,
		SupportedUILocales:       []language.Tag{language.English},
		SupportedScopes:          []string{oidc.ScopeOpenID, oidc.ScopeProfile, oidc.ScopeEmail, "groups"},
	}
	provider, err := op.NewProvider(config, store, op.StaticIssuer(p.Issuer), op.WithAllowInsecure())
	if err != nil {
		return nil, fmt.Errorf("create provider: %w", err)
	}
	login := &loginPage{store: store, callback: op.AuthCallbackURL(provider)}
	interceptor := op.NewIssuerInterceptor(provider.IssuerFromRequest)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login/username", login.show)
	mux.Handle("POST /login/username", interceptor.HandlerFunc(login.check))
	mux.HandleFunc("/logged-out", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "signed out") })
	mux.Handle("/", provider)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p.down.Load() {
			// Down: the connection is dropped without an answer.
			if hj, ok := w.(http.Hijacker); ok {
				if conn, _, err := hj.Hijack(); err == nil {
					conn.Close()
					return
				}
			}
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		if r.URL.Path == "/end_session" {
			p.logouts.Add(1)
		}
		mux.ServeHTTP(w, r)
	}), nil
}

// AddUser adds (or replaces) a user.
func (p *Provider) AddUser(u User) {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := u
	c.Groups = slices.Clone(u.Groups)
	p.users[u.ID] = &c
}

// SetGroups changes a user's groups.
func (p *Provider) SetGroups(id string, groups ...string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.users[id].Groups = groups
}

// SetEmail changes a user's e-mail address.
func (p *Provider) SetEmail(id, email string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.users[id].Email = email
}

// SetRedirectURIs sets the client's registered redirect and post-logout redirect URIs.
func (p *Provider) SetRedirectURIs(redirect, postLogout string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.redirectURIs, p.postLogoutURIs = []string{redirect}, []string{postLogout}
}

// SetIDTokenLifetime sets how long ID tokens last; a negative lifetime issues expired ones.
func (p *Provider) SetIDTokenLifetime(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.idTokenLifetime = d
}

// SetWrongNonce makes the provider put a nonce other than the one asked for in ID tokens.
func (p *Provider) SetWrongNonce(on bool) { p.wrongNonce.Store(on) }

// SetDown makes the provider drop every connection (true) or answer again (false).
func (p *Provider) SetDown(down bool) { p.down.Store(down) }

// Logouts counts the requests to the end_session endpoint.
func (p *Provider) Logouts() int { return int(p.logouts.Load()) }

var formID = regexp.MustCompile(`name="id" value="([^"]+)"`)

// SignIn follows an authorization URL through the provider's login page as a browser would,
// and returns the URL the provider sends the browser back to (the redirect URI with code
// and state). It follows only the provider's own redirects.
func (p *Provider) SignIn(authorizeURL, username, password string) (*url.URL, error) {
	client := &http.Client{Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	next, err := url.Parse(authorizeURL)
	if err != nil {
		return nil, err
	}
	var form url.Values
	for range 10 {
		var res *http.Response
		if form != nil {
			res, err = client.PostForm(next.String(), form)
			form = nil
		} else {
			res, err = client.Get(next.String())
		}
		if err != nil {
			return nil, err
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		switch {
		case res.StatusCode >= 300 && res.StatusCode < 400:
			loc, err := next.Parse(res.Header.Get("Location"))
			if err != nil {
				return nil, err
			}
			if loc.Host != next.Host {
				return loc, nil
			}
			next = loc
		case res.StatusCode == http.StatusOK && next.Path == "/login/username" && res.Request.Method == http.MethodGet:
			m := formID.FindSubmatch(body)
			if m == nil {
				return nil, errors.New("oidctest: login page without a request id")
			}
			form = url.Values{"id": {string(m[1])}, "username": {username}, "password": {password}}
		default:
			return nil, fmt.Errorf("oidctest: %s %s: %d %s", res.Request.Method, next, res.StatusCode, strings.TrimSpace(string(body)))
		}
	}
	return nil, errors.New("oidctest: too many redirects")
}

// providerStorage is the example storage with this provider's users, groups claim, client
// settings and misbehaviours.
type providerStorage struct {
	*storage.Storage
	p *Provider
}

func (s *providerStorage) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	c, err := s.Storage.GetClientByClientID(ctx, id)
	if err != nil {
		return nil, err
	}
	return &providerClient{Client: c, p: s.p}, nil
}

func (s *providerStorage) CreateAuthRequest(ctx context.Context, req *oidc.AuthRequest, userID string) (op.AuthRequest, error) {
	if s.p.wrongNonce.Load() {
		forged := *req
		forged.Nonce = "forged-" + req.Nonce
		req = &forged
	}
	return s.Storage.CreateAuthRequest(ctx, req, userID)
}

func (s *providerStorage) SetUserinfoFromRequest(ctx context.Context, info *oidc.UserInfo, token op.IDTokenRequest, scopes []string) error {
	if err := s.Storage.SetUserinfoFromRequest(ctx, info, token, scopes); err != nil {
		return err
	}
	s.addClaims(info, token.GetSubject(), slices.Contains(scopes, "groups"))
	return nil
}

func (s *providerStorage) SetUserinfoFromToken(ctx context.Context, info *oidc.UserInfo, tokenID, subject, origin string) error {
	if err := s.Storage.SetUserinfoFromToken(ctx, info, tokenID, subject, origin); err != nil {
		return err
	}
	s.addClaims(info, subject, true)
	return nil
}

// addClaims adds the groups claim, and email_verified false, which the example storage
// leaves out (omitempty) but real providers send.
func (s *providerStorage) addClaims(info *oidc.UserInfo, subject string, groups bool) {
	u := s.p.user(subject)
	if u == nil {
		return
	}
	if groups && u.Groups != nil {
		info.AppendClaims("groups", slices.Clone(u.Groups))
	}
	if info.Email != "" && !u.EmailVerified {
		info.AppendClaims("email_verified", false)
	}
}

func (p *Provider) user(id string) *User {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.users[id]
}

// providerClient is the example web client with this provider's redirect URIs, ID token
// lifetime and the groups scope.
type providerClient struct {
	op.Client
	p *Provider
}

func (c *providerClient) RedirectURIs() []string {
	c.p.mu.Lock()
	defer c.p.mu.Unlock()
	return slices.Clone(c.p.redirectURIs)
}

func (c *providerClient) PostLogoutRedirectURIs() []string {
	c.p.mu.Lock()
	defer c.p.mu.Unlock()
	return slices.Clone(c.p.postLogoutURIs)
}

func (c *providerClient) IDTokenLifetime() time.Duration {
	c.p.mu.Lock()
	defer c.p.mu.Unlock()
	return c.p.idTokenLifetime
}

func (c *providerClient) IsScopeAllowed(scope string) bool { return scope == "groups" }

// userStore serves the provider's users to the example storage.
type userStore struct{ p *Provider }

func (s userStore) GetUserByID(id string) *storage.User {
	return toStorageUser(s.p.user(id))
}

func (s userStore) GetUserByUsername(username string) *storage.User {
	s.p.mu.Lock()
	defer s.p.mu.Unlock()
	for _, u := range s.p.users {
		if u.Username == username {
			return toStorageUser(u)
		}
	}
	return nil
}

func (s userStore) ExampleClientID() string { return storage.ServiceUserID }

func toStorageUser(u *User) *storage.User {
	if u == nil {
		return nil
	}
	first, last, _ := strings.Cut(u.Name, " ")
	return &storage.User{ID: u.ID, Username: u.Username, Password: u.Password, FirstName: first, LastName: last,
		Email: u.Email, EmailVerified: u.EmailVerified, PreferredLanguage: language.English}
}

// loginPage is the provider's own sign-in form.
type loginPage struct {
	store    *providerStorage
	callback func(context.Context, string) string
}

var loginTemplate = template.Must(template.New("login").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Test provider sign-in</title></head>
<body><h1>Test identity provider</h1>
<form method="post" action="/login/username">
<input type="hidden" name="id" value="{{.ID}}">
<label for="username">Username</label> <input id="username" name="username" autocomplete="username">
<label for="password">Password</label> <input id="password" name="password" type="password">
<p id="error">{{.Error}}</p>
<button type="submit" id="submit">Sign in</button>
</form></body></html>`))

func (l *loginPage) show(w http.ResponseWriter, r *http.Request) {
	loginTemplate.Execute(w, map[string]string{"ID": r.FormValue("authRequestID")})
}

func (l *loginPage) check(w http.ResponseWriter, r *http.Request) {
	id := r.FormValue("id")
	if err := l.store.CheckUsernamePassword(r.FormValue("username"), r.FormValue("password"), id); err != nil {
		w.WriteHeader(http.StatusUnauthorized)
		loginTemplate.Execute(w, map[string]string{"ID": id, "Error": err.Error()})
		return
	}
	http.Redirect(w, r, l.callback(r.Context(), id), http.StatusFound)
}
