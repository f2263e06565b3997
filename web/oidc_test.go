package web_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction"
	"github.com/junction-dev/junction/internal/oidctest"
	"github.com/junction-dev/junction/web"
)

const idpPassword = "provider-password"

// oidcFixture is the console with sign-in through a real OpenID provider running beside it.
type oidcFixture struct {
	idp      *oidctest.Provider
	ts       *testServer
	provider *web.OIDCProvider
	admin    *junction.User
}

func newOIDCFixture(t *testing.T, configure func(*web.OIDCConfig), opts ...web.Option) *oidcFixture {
	t.Helper()
	idp := oidctest.Start(t)
	cfg := web.OIDCConfig{Issuer: idp.Issuer, ClientID: oidctest.ClientID, ClientSecret: oidctest.ClientSecret, Name: "Acme SSO"}
	if configure != nil {
		configure(&cfg)
	}
	return newOIDCFixtureFor(t, idp, cfg, opts...)
}

func newOIDCFixtureFor(t *testing.T, idp *oidctest.Provider, cfg web.OIDCConfig, opts ...web.Option) *oidcFixture {
	t.Helper()
	p := web.NewOIDCProvider(cfg)
	ts := newTestServerWithLog(t, io.Discard, append(opts, web.WithOIDC(p))...)
	p.SetPublicURL(ts.URL)
	if idp != nil {
		idp.SetRedirectURIs(ts.URL+web.CallbackPath, ts.URL+"/login")
	}
	return &oidcFixture{idp: idp, ts: ts, provider: p, admin: ts.createUser(t, "root@example.com", true)}
}

// addUser adds a person at the provider, with username and subject derived from the name.
func (f *oidcFixture) addUser(name, email string, groups ...string) oidctest.User {
	u := oidctest.User{ID: "sub-" + name, Username: name, Password: idpPassword, Email: email, EmailVerified: true,
		Name: strings.ToUpper(name[:1]) + name[1:] + " Example", Groups: groups}
	f.idp.AddUser(u)
	return u
}

// start begins a sign-in and returns the provider's authorization URL.
func (f *oidcFixture) start(t *testing.T, b *browser, next string) string {
	t.Helper()
	res, body := b.get("/login/oidc?next=" + url.QueryEscape(next))
	require.Equal(t, http.StatusSeeOther, res.StatusCode, body)
	loc := res.Header.Get("Location")
	require.True(t, strings.HasPrefix(loc, f.idp.Issuer+"/"), loc)
	return loc
}

// authorize signs in at the provider and returns the path on Junction it sends the browser to.
func (f *oidcFixture) authorize(t *testing.T, authURL, username string) string {
	t.Helper()
	back, err := f.idp.SignIn(authURL, username, idpPassword)
	require.NoError(t, err)
	require.Equal(t, strings.TrimPrefix(f.ts.URL, "http://"), back.Host)
	require.Equal(t, web.CallbackPath, back.Path)
	return back.RequestURI()
}

// signIn runs the whole flow and returns the callback's answer.
func (f *oidcFixture) signIn(t *testing.T, b *browser, username, next string) (*http.Response, string) {
	t.Helper()
	return b.get(f.authorize(t, f.start(t, b, next), username))
}

func (f *oidcFixture) mustSignIn(t *testing.T, b *browser, username string) *junction.User {
	t.Helper()
	res, body := f.signIn(t, b, username, "/projects")
	require.Equal(t, http.StatusSeeOther, res.StatusCode, body)
	require.Equal(t, "/projects", res.Header.Get("Location"))
	return me(t, b)
}

// me returns the signed-in user of b, or nil.
func me(t *testing.T, b *browser) *junction.User {
	t.Helper()
	res, body := b.get("/api/v1/me")
	if res.StatusCode == http.StatusUnauthorized {
		return nil
	}
	require.Equal(t, http.StatusOK, res.StatusCode, body)
	var u junction.User
	require.NoError(t, json.Unmarshal([]byte(body), &u))
	return &u
}

func (f *oidcFixture) roles(t *testing.T, email string) map[string]junction.Role {
	t.Helper()
	projects, _, err := f.ts.svc.Projects.FindProjects(as(f.admin), junction.ProjectFilter{Page: junction.NewPage(1, 200)})
	require.NoError(t, err)
	out := map[string]junction.Role{}
	for _, p := range projects {
		members, err := f.ts.svc.Projects.FindMembers(as(f.admin), p.Handle)
		require.NoError(t, err)
		for _, m := range members {
			if m.Email == email {
				out[p.Handle] = m.Role
			}
		}
	}
	return out
}

func (f *oidcFixture) signInAudit(t *testing.T) []*junction.AuditEntry {
	t.Helper()
	entries, _, err := f.ts.svc.Audit.FindAudit(as(f.admin), junction.AuditFilter{Action: "session.sign_in", Page: junction.NewPage(1, 200)})
	require.NoError(t, err)
	return entries
}

func TestOIDCSignIn(t *testing.T) {
	f := newOIDCFixture(t, nil)

	t.Run("LoginPageOffersProvider", func(t *testing.T) {
		res, body := f.ts.browser(t).get("/login?next=/projects")
		require.Equal(t, http.StatusOK, res.StatusCode)
		require.Contains(t, body, `data-testid="oidc-sign-in"`)
		require.Contains(t, body, "Sign in with Acme SSO")
		require.Contains(t, body, `href="/login/oidc?next=%2Fprojects"`)
		require.Contains(t, body, `data-testid="login-form"`, "password sign-in stays on")
		require.NotContains(t, body, "provider-problem")
	})
	t.Run("AuthorizationRequest", func(t *testing.T) {
		authURL, err := url.Parse(f.start(t, f.ts.browser(t), "/"))
		require.NoError(t, err)
		q := authURL.Query()
		require.Equal(t, "code", q.Get("response_type"))
		require.Equal(t, oidctest.ClientID, q.Get("client_id"))
		require.Equal(t, f.ts.URL+web.CallbackPath, q.Get("redirect_uri"))
		require.Equal(t, "S256", q.Get("code_challenge_method"))
		require.NotEmpty(t, q.Get("code_challenge"))
		require.NotEmpty(t, q.Get("state"))
		require.NotEmpty(t, q.Get("nonce"))
		require.NotEqual(t, q.Get("state"), q.Get("nonce"))
		require.ElementsMatch(t, []string{"openid", "email", "profile", "groups"}, strings.Fields(q.Get("scope")))
	})
	t.Run("FirstSignInCreatesUser", func(t *testing.T) {
		f.addUser("alice", "Alice@Example.com")
		b := f.ts.browser(t)
		_, _ = b.get("/login")
		before := sessionCookie(t, b)
		user := f.mustSignIn(t, b, "alice")
		require.Equal(t, "alice@example.com", user.Email)
		require.Equal(t, "Alice Example", user.Name)
		require.False(t, user.IsAdmin)
		require.NotEqual(t, before, sessionCookie(t, b), "session renewed at sign-in")
		found, err := f.ts.svc.Users.FindUserByEmail(context.Background(), "alice@example.com")
		require.NoError(t, err)
		require.Equal(t, user.Email, found.Email)

		entries := f.signInAudit(t)
		require.NotEmpty(t, entries)
		require.Equal(t, "alice@example.com", entries[0].Actor)
		require.Equal(t, "ok", entries[0].Outcome)
		require.Equal(t, "oidc issuer="+f.idp.Issuer+" subject=sub-alice", entries[0].Target.Name)

		t.Run("UsersPageShowsTheName", func(t *testing.T) {
			b := f.ts.browser(t)
			b.mustLogin("root@example.com")
			_, body := b.get("/users")
			require.Contains(t, body, "alice@example.com")
			require.Contains(t, body, "Alice Example")
		})
		t.Run("NoPasswordForProviderUsers", func(t *testing.T) {
			for _, pw := range []string{"", idpPassword, "whatever-password"} {
				res, _ := f.ts.browser(t).login("alice@example.com", pw)
				require.Equal(t, http.StatusUnauthorized, res.StatusCode)
			}
		})
		t.Run("SecondSignInSameUser", func(t *testing.T) {
			again := f.mustSignIn(t, f.ts.browser(t), "alice")
			require.Equal(t, user.Email, again.Email)
			n, err := f.ts.svc.Users.CountUsers(context.Background())
			require.NoError(t, err)
			require.Equal(t, 2, n, "root and alice")
		})
	})
	t.Run("LinksExistingPasswordUser", func(t *testing.T) {
		f.ts.createUser(t, "bob@example.com", false)
		f.addUser("bob", "BOB@example.com")
		n, _ := f.ts.svc.Users.CountUsers(context.Background())
		user := f.mustSignIn(t, f.ts.browser(t), "bob")
		require.Equal(t, "bob@example.com", user.Email)
		after, _ := f.ts.svc.Users.CountUsers(context.Background())
		require.Equal(t, n, after, "linked, not duplicated")
		f.ts.browser(t).mustLogin("bob@example.com") // the password still works

		t.Run("EmailChangeAtProviderFollowsSubject", func(t *testing.T) {
			f.idp.SetEmail("sub-bob", "robert@example.com")
			user := f.mustSignIn(t, f.ts.browser(t), "bob")
			require.Equal(t, "robert@example.com", user.Email)
			after, _ := f.ts.svc.Users.CountUsers(context.Background())
			require.Equal(t, n, after)
		})
		t.Run("ErrSubjectLinkedToDifferentUser", func(t *testing.T) {
			// Another account at the provider now carries robert's address.
			f.addUser("mallory", "robert@example.com")
			b := f.ts.browser(t)
			res, body := f.signIn(t, b, "mallory", "/")
			require.Equal(t, http.StatusForbidden, res.StatusCode)
			require.Contains(t, body, "linked to a different account at the identity provider")
			require.Nil(t, me(t, b), "no session")
			require.Equal(t, "denied", f.signInAudit(t)[0].Outcome)
			require.Equal(t, "oidc issuer="+f.idp.Issuer+" subject=sub-mallory", f.signInAudit(t)[0].Target.Name)
		})
	})
	t.Run("NextIsKeptAndLocalOnly", func(t *testing.T) {
		f.addUser("nina", "nina@example.com")
		for next, want := range map[string]string{
			"/projects?page=2":     "/projects?page=2",
			"//evil.example/":      "/services",
			"https://evil.example": "/services",
		} {
			res, body := f.signIn(t, f.ts.browser(t), "nina", next)
			require.Equal(t, http.StatusSeeOther, res.StatusCode, body)
			require.Equal(t, want, res.Header.Get("Location"), next)
		}
	})
}

func TestOIDCGroupsToRoles(t *testing.T) {
	f := newOIDCFixture(t, func(c *web.OIDCConfig) {
		c.AdminGroup = "junction-admins"
		c.ProjectRoles = "shop:viewer=support,shop:developer=team-shop,blog:viewer=support,later:developer=team-shop"
	})
	for _, handle := range []string{"shop", "blog", "docs"} {
		require.NoError(t, f.ts.svc.Projects.CreateProject(as(f.admin), &junction.Project{Handle: handle, Name: handle}))
	}

	t.Run("AdminGroup", func(t *testing.T) {
		f.addUser("ada", "ada@example.com", "junction-admins", "other")
		require.True(t, f.mustSignIn(t, f.ts.browser(t), "ada").IsAdmin)

		f.idp.SetGroups("sub-ada", "other")
		require.False(t, f.mustSignIn(t, f.ts.browser(t), "ada").IsAdmin, "the provider takes away the admin it granted")

		f.idp.SetGroups("sub-ada", "junction-admins")
		require.True(t, f.mustSignIn(t, f.ts.browser(t), "ada").IsAdmin)
	})
	t.Run("AdminByHandStays", func(t *testing.T) {
		f.ts.createUser(t, "hand@example.com", true)
		f.addUser("hand", "hand@example.com", "junction-admins")
		require.True(t, f.mustSignIn(t, f.ts.browser(t), "hand").IsAdmin)
		f.idp.SetGroups("sub-hand")
		require.True(t, f.mustSignIn(t, f.ts.browser(t), "hand").IsAdmin, "an admin made by hand stays admin")
	})
	t.Run("ProjectRoles", func(t *testing.T) {
		f.addUser("dev", "dev@example.com", "support", "team-shop")
		_, err := f.ts.svc.Projects.SetMember(as(f.admin), "docs", "dev@example.com", junction.RoleViewer)
		require.Equal(t, junction.EINVALID, junction.ErrorCode(err), "no such user before the first sign-in")

		user := f.mustSignIn(t, f.ts.browser(t), "dev")
		require.False(t, user.IsAdmin)
		require.Equal(t, map[string]junction.Role{"shop": junction.RoleDeveloper, "blog": junction.RoleViewer}, f.roles(t, "dev@example.com"),
			"the highest role among matching groups; the unknown project is skipped")

		// An admin grants a role by hand; the provider never touches it.
		_, err = f.ts.svc.Projects.SetMember(as(f.admin), "docs", "dev@example.com", junction.RoleDeveloper)
		require.NoError(t, err)

		f.idp.SetGroups("sub-dev", "support")
		f.mustSignIn(t, f.ts.browser(t), "dev")
		require.Equal(t, map[string]junction.Role{"shop": junction.RoleViewer, "blog": junction.RoleViewer, "docs": junction.RoleDeveloper},
			f.roles(t, "dev@example.com"), "roles follow the groups at each sign-in")

		f.idp.SetGroups("sub-dev")
		f.mustSignIn(t, f.ts.browser(t), "dev")
		require.Equal(t, map[string]junction.Role{"docs": junction.RoleDeveloper}, f.roles(t, "dev@example.com"),
			"provider roles go with the groups; the hand-granted one stays")

		t.Run("ProjectCreatedLater", func(t *testing.T) {
			require.NoError(t, f.ts.svc.Projects.CreateProject(as(f.admin), &junction.Project{Handle: "later", Name: "Later"}))
			f.idp.SetGroups("sub-dev", "team-shop")
			f.mustSignIn(t, f.ts.browser(t), "dev")
			require.Equal(t, junction.RoleDeveloper, f.roles(t, "dev@example.com")["later"])
		})
		t.Run("RoleSetByHandIsNoLongerManaged", func(t *testing.T) {
			_, err := f.ts.svc.Projects.SetMember(as(f.admin), "shop", "dev@example.com", junction.RoleViewer)
			require.NoError(t, err)
			f.idp.SetGroups("sub-dev")
			f.mustSignIn(t, f.ts.browser(t), "dev")
			roles := f.roles(t, "dev@example.com")
			require.Equal(t, junction.RoleViewer, roles["shop"], "set by hand, so it stays")
			require.NotContains(t, roles, "later", "still managed by the provider, so it goes")
		})
	})
}

func TestOIDCRefusedSignIns(t *testing.T) {
	f := newOIDCFixture(t, nil)
	f.addUser("ursula", "ursula@example.com")

	// refused checks that a sign-in ended on the sign-in page with status and message, with
	// no session and a denied audit entry.
	refused := func(t *testing.T, b *browser, res *http.Response, body string, status int, message string) {
		t.Helper()
		require.Equal(t, status, res.StatusCode, body)
		require.Contains(t, body, `data-testid="login-error"`)
		require.Contains(t, body, message)
		require.Contains(t, body, `data-testid="oidc-sign-in"`, "the page offers to try again")
		require.Nil(t, me(t, b), "no session")
		res, _ = b.get("/services")
		require.Equal(t, http.StatusSeeOther, res.StatusCode)
	}
	lastAudit := func(t *testing.T) *junction.AuditEntry {
		entries := f.signInAudit(t)
		require.NotEmpty(t, entries)
		return entries[0]
	}

	t.Run("ErrWrongState", func(t *testing.T) {
		b := f.ts.browser(t)
		callback := f.authorize(t, f.start(t, b, "/"), "ursula")
		u, _ := url.Parse(callback)
		q := u.Query()
		q.Set("state", "not-the-state")
		u.RawQuery = q.Encode()
		res, body := b.get(u.RequestURI())
		refused(t, b, res, body, http.StatusUnauthorized, "state mismatch")
		require.Equal(t, "denied", lastAudit(t).Outcome)
		require.Equal(t, "anonymous", lastAudit(t).Actor)

		t.Run("TheStateIsSpent", func(t *testing.T) {
			res, body := b.get(callback)
			refused(t, b, res, body, http.StatusUnauthorized, "expired or was started in another browser")
		})
	})
	t.Run("ErrMissingState", func(t *testing.T) {
		b := f.ts.browser(t)
		callback := f.authorize(t, f.start(t, b, "/"), "ursula")
		u, _ := url.Parse(callback)
		q := u.Query()
		q.Del("state")
		u.RawQuery = q.Encode()
		res, body := b.get(u.RequestURI())
		refused(t, b, res, body, http.StatusUnauthorized, "state mismatch")
	})
	t.Run("ErrOtherBrowser", func(t *testing.T) {
		// A callback link sent to someone else (login CSRF) finds no sign-in of theirs.
		callback := f.authorize(t, f.start(t, f.ts.browser(t), "/"), "ursula")
		victim := f.ts.browser(t)
		res, body := victim.get(callback)
		refused(t, victim, res, body, http.StatusUnauthorized, "expired or was started in another browser")
	})
	t.Run("ErrReplayedCode", func(t *testing.T) {
		b := f.ts.browser(t)
		callback := f.authorize(t, f.start(t, b, "/"), "ursula")
		// A copy of the browser's sign-in cookie, as an attacker who saw it would have.
		attacker := f.ts.browser(t)
		u, _ := url.Parse(f.ts.URL + web.CallbackPath)
		attacker.client.Jar.SetCookies(u, b.client.Jar.Cookies(u))

		res, body := b.get(callback)
		require.Equal(t, http.StatusSeeOther, res.StatusCode, body)
		res, body = attacker.get(callback)
		refused(t, attacker, res, body, http.StatusUnauthorized, "refused the sign-in code (invalid_grant)")
		require.NotNil(t, me(t, b), "the first use still signed in")
	})
	t.Run("ErrWrongNonce", func(t *testing.T) {
		f.idp.SetWrongNonce(true)
		defer f.idp.SetWrongNonce(false)
		b := f.ts.browser(t)
		res, body := f.signIn(t, b, "ursula", "/")
		refused(t, b, res, body, http.StatusUnauthorized, "nonce mismatch")
	})
	t.Run("ErrExpiredIDToken", func(t *testing.T) {
		f.idp.SetIDTokenLifetime(-time.Minute)
		defer f.idp.SetIDTokenLifetime(time.Hour)
		b := f.ts.browser(t)
		res, body := f.signIn(t, b, "ursula", "/")
		refused(t, b, res, body, http.StatusUnauthorized, "The ID token from Acme SSO has expired")
	})
	t.Run("ErrUnverifiedEmail", func(t *testing.T) {
		u := f.addUser("victor", "victor@example.com")
		u.EmailVerified = false
		f.idp.AddUser(u)
		b := f.ts.browser(t)
		res, body := f.signIn(t, b, "victor", "/")
		refused(t, b, res, body, http.StatusForbidden, "victor@example.com is not verified")
		entry := lastAudit(t)
		require.Equal(t, "denied", entry.Outcome)
		require.Equal(t, "victor@example.com", entry.Actor)
		require.Equal(t, "oidc issuer="+f.idp.Issuer+" subject=sub-victor", entry.Target.Name)
		_, err := f.ts.svc.Users.FindUserByEmail(context.Background(), "victor@example.com")
		require.Equal(t, junction.ENOTFOUND, junction.ErrorCode(err), "no user created")
	})
	t.Run("ErrMissingEmail", func(t *testing.T) {
		f.addUser("nomail", "")
		b := f.ts.browser(t)
		res, body := f.signIn(t, b, "nomail", "/")
		refused(t, b, res, body, http.StatusForbidden, "did not give an e-mail address")
	})
	t.Run("ErrProviderRefused", func(t *testing.T) {
		// The provider sends the browser back with an error (the user cancelled, say).
		b := f.ts.browser(t)
		authURL, _ := url.Parse(f.start(t, b, "/"))
		res, body := b.get(web.CallbackPath + "?error=access_denied&error_description=Call+555-0100&state=" + url.QueryEscape(authURL.Query().Get("state")))
		refused(t, b, res, body, http.StatusUnauthorized, "Acme SSO did not sign you in (access_denied).")
		require.NotContains(t, body, "555-0100", "the provider's free text is not shown")
	})
	t.Run("ErrIssuerDownAtCallback", func(t *testing.T) {
		b := f.ts.browser(t)
		callback := f.authorize(t, f.start(t, b, "/"), "ursula")
		f.idp.SetDown(true)
		res, body := b.get(callback)
		f.idp.SetDown(false)
		require.Equal(t, http.StatusServiceUnavailable, res.StatusCode, body)
		require.Contains(t, body, "Acme SSO is unavailable")
		require.Nil(t, me(t, b))
	})
}

func TestOIDCIssuerDown(t *testing.T) {
	idp := oidctest.Start(t)
	idp.SetDown(true)
	f := newOIDCFixtureFor(t, idp, web.OIDCConfig{Issuer: idp.Issuer, ClientID: oidctest.ClientID, ClientSecret: oidctest.ClientSecret})
	f.addUser("ursula", "ursula@example.com")
	b := f.ts.browser(t)

	res, body := b.get("/login/oidc")
	require.Equal(t, http.StatusServiceUnavailable, res.StatusCode)
	name := strings.TrimPrefix(idp.Issuer, "http://")
	require.Contains(t, body, name+" is unavailable: Junction could not reach it. Try again in a moment.", "the name defaults to the issuer's host")
	require.Contains(t, body, `data-testid="oidc-sign-in"`, "the button tries again")
	require.NotContains(t, body, `data-testid="provider-problem"`, "the error says it; no note repeats it")

	res, body = b.get("/login")
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Contains(t, body, `data-testid="provider-problem"`)
	require.Contains(t, body, `data-testid="oidc-sign-in"`, "the button tries again")
	require.Contains(t, body, `data-testid="login-form"`, "password sign-in still works")
	b.mustLogin("root@example.com")

	t.Run("ProviderUpLaterWorksWithoutRestart", func(t *testing.T) {
		idp.SetDown(false)
		b := f.ts.browser(t)
		require.Equal(t, "ursula@example.com", f.mustSignIn(t, b, "ursula").Email)
		_, body := f.ts.browser(t).get("/login")
		require.NotContains(t, body, "provider-problem")
	})
	t.Run("ConnectionRefused", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		closed := "http://" + ln.Addr().String()
		ln.Close()
		f := newOIDCFixtureFor(t, nil, web.OIDCConfig{Issuer: closed, ClientID: "x", ClientSecret: "y", Name: "Corp"})
		require.Error(t, f.provider.Discover(context.Background()))
		res, body := f.ts.browser(t).get("/login/oidc")
		require.Equal(t, http.StatusServiceUnavailable, res.StatusCode)
		require.Contains(t, body, "Corp is unavailable")
	})
}

func TestOIDCMisconfigured(t *testing.T) {
	tests := []struct {
		name   string
		cfg    web.OIDCConfig
		errMsg string
	}{
		{"ErrNoClientSecret", web.OIDCConfig{Issuer: "https://idp.example.com", ClientID: "junction"}, "JUNCTION_OIDC_CLIENT_SECRET is not set"},
		{"ErrNoClientID", web.OIDCConfig{Issuer: "https://idp.example.com", ClientSecret: "s"}, "JUNCTION_OIDC_CLIENT_ID is not set"},
		{"ErrNoIssuer", web.OIDCConfig{ClientID: "junction", ClientSecret: "s"}, "JUNCTION_OIDC_ISSUER is not set"},
		{"ErrIssuerNotURL", web.OIDCConfig{Issuer: "idp.example.com", ClientID: "junction", ClientSecret: "s"}, "is not an http(s) URL"},
		{"ErrBadProjectRoles", web.OIDCConfig{Issuer: "https://idp.example.com", ClientID: "junction", ClientSecret: "s", ProjectRoles: "shop=team"},
			`JUNCTION_OIDC_PROJECT_ROLES: entry 1 "shop=team": no :role after the project`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newOIDCFixtureFor(t, nil, tt.cfg)
			require.ErrorContains(t, f.provider.ConfigError(), tt.errMsg)
			require.Equal(t, f.provider.ConfigError(), f.provider.Discover(context.Background()))
			b := f.ts.browser(t)
			res, body := b.get("/login")
			require.Equal(t, http.StatusOK, res.StatusCode)
			require.Contains(t, body, "is not configured correctly")
			require.NotContains(t, body, `data-testid="oidc-sign-in"`, "a button that cannot work is hidden")
			require.Contains(t, body, `data-testid="login-form"`)
			res, body = b.get("/login/oidc")
			require.Equal(t, http.StatusServiceUnavailable, res.StatusCode)
			require.Contains(t, body, "is not configured correctly")
			require.NotContains(t, body, `data-testid="oidc-sign-in"`)
			b.mustLogin("root@example.com")
		})
	}
}

func TestPasswordLoginOff(t *testing.T) {
	f := newOIDCFixture(t, nil, web.WithPasswordLogin(false))
	b := f.ts.browser(t)
	res, body := b.get("/login")
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.NotContains(t, body, `data-testid="login-form"`)
	require.Contains(t, body, `data-testid="oidc-sign-in"`)

	// The page has no form, but a form from before (or a script) may still post.
	csrf := regexp.MustCompile(`X-CSRF-Token&#34;:&#34;([^&]+)&#34;`).FindStringSubmatch(body)
	require.NotNil(t, csrf, "the page carries the CSRF token for htmx")
	res, body = b.postRaw("/login", url.Values{"email": {"root@example.com"}, "password": {testPassword}, "csrf_token": {csrf[1]}})
	require.Equal(t, http.StatusForbidden, res.StatusCode)
	require.Contains(t, body, "Sign-in with a password is turned off on this console. Sign in with Acme SSO instead.")
	require.Nil(t, me(t, b))

	t.Run("TokensStillWork", func(t *testing.T) {
		status, body := f.ts.api(t, http.MethodGet, "/api/v1/me", f.ts.token(t, f.admin), "")
		require.Equal(t, http.StatusOK, status)
		require.Equal(t, "root@example.com", body["email"])
	})
	t.Run("ProviderSignInWorks", func(t *testing.T) {
		f.addUser("pat", "pat@example.com")
		require.Equal(t, "pat@example.com", f.mustSignIn(t, f.ts.browser(t), "pat").Email)
	})
	t.Run("NoMethodAtAll", func(t *testing.T) {
		ts := newTestServerWithLog(t, io.Discard, web.WithPasswordLogin(false))
		_, body := ts.browser(t).get("/login")
		require.Contains(t, body, `data-testid="no-sign-in"`)
		require.NotContains(t, body, `data-testid="login-form"`)
	})
}

func TestOIDCSignOut(t *testing.T) {
	f := newOIDCFixture(t, nil)
	f.addUser("olga", "olga@example.com")

	t.Run("EndsTheSessionAtTheProvider", func(t *testing.T) {
		b := f.ts.browser(t)
		f.mustSignIn(t, b, "olga")
		res, _ := b.get("/projects")
		csp := res.Header.Get("Content-Security-Policy")
		require.Contains(t, csp, "form-action 'self' "+f.idp.Issuer+";", "the sign-out form may go on to the provider")

		stolen := sessionCookie(t, b)
		res, _ = b.post("/logout", nil)
		require.Equal(t, http.StatusSeeOther, res.StatusCode)
		end, err := url.Parse(res.Header.Get("Location"))
		require.NoError(t, err)
		require.Equal(t, f.idp.Issuer+"/end_session", end.Scheme+"://"+end.Host+end.Path)
		require.Equal(t, f.ts.URL+"/login", end.Query().Get("post_logout_redirect_uri"))
		require.Equal(t, oidctest.ClientID, end.Query().Get("client_id"))
		require.NotEmpty(t, end.Query().Get("id_token_hint"))

		// The provider accepts the hint and sends the browser back to the sign-in page.
		logouts := f.idp.Logouts()
		res, err = b.client.Get(end.String())
		require.NoError(t, err)
		res.Body.Close()
		require.Equal(t, http.StatusFound, res.StatusCode)
		require.Equal(t, f.ts.URL+"/login", res.Header.Get("Location"))
		require.Equal(t, logouts+1, f.idp.Logouts())

		_, body := b.get("/login")
		require.Contains(t, body, "You have signed out.")
		require.Nil(t, me(t, b))
		req, _ := http.NewRequest(http.MethodGet, f.ts.URL+"/api/v1/me", nil)
		req.AddCookie(&http.Cookie{Name: "junction_session", Value: stolen})
		res, err = http.DefaultClient.Do(req)
		require.NoError(t, err)
		res.Body.Close()
		require.Equal(t, http.StatusUnauthorized, res.StatusCode, "the session ended server-side")
	})
	t.Run("PasswordSessionSignsOutLocally", func(t *testing.T) {
		b := f.ts.browser(t)
		b.mustLogin("root@example.com")
		res, _ := b.post("/logout", nil)
		require.Equal(t, http.StatusSeeOther, res.StatusCode)
		require.Equal(t, "/login", res.Header.Get("Location"))
	})
}

// TestOIDCReplicas starts a sign-in on one replica and finishes it on another: the flow state
// lives in the sealed cookie and the database, not in a process.
func TestOIDCReplicas(t *testing.T) {
	f := newOIDCFixture(t, nil)
	f.addUser("rita", "rita@example.com")
	// The second replica shares the database and the key, and is reached at the same URL
	// (behind one load balancer): the browser's requests are sent to it by rewriting the host.
	p2 := web.NewOIDCProvider(web.OIDCConfig{Issuer: f.idp.Issuer, ClientID: oidctest.ClientID, ClientSecret: oidctest.ClientSecret, Name: "Acme SSO"})
	p2.SetPublicURL(f.ts.URL)
	replica := newTestServerOn(t, f.ts.store, f.ts.key, io.Discard, web.WithOIDC(p2))

	b := f.ts.browser(t)
	callback := f.authorize(t, f.start(t, b, "/projects"), "rita")
	b.client.Transport = rewriteHost{to: strings.TrimPrefix(replica.URL, "http://")}
	res, body := b.get(callback)
	require.Equal(t, http.StatusSeeOther, res.StatusCode, body)
	require.Equal(t, "/projects", res.Header.Get("Location"))
	require.Equal(t, "rita@example.com", me(t, b).Email)

	b.client.Transport = nil // back to the first replica: the session is in the shared database
	require.Equal(t, "rita@example.com", me(t, b).Email)

	t.Run("SignOutOnAReplicaThatNeverMetTheProvider", func(t *testing.T) {
		p3 := web.NewOIDCProvider(web.OIDCConfig{Issuer: f.idp.Issuer, ClientID: oidctest.ClientID, ClientSecret: oidctest.ClientSecret})
		p3.SetPublicURL(f.ts.URL)
		third := newTestServerOn(t, f.ts.store, f.ts.key, io.Discard, web.WithOIDC(p3))
		b.client.Transport = rewriteHost{to: strings.TrimPrefix(third.URL, "http://")}
		defer func() { b.client.Transport = nil }()
		res, _ := b.get("/projects")
		require.Equal(t, http.StatusOK, res.StatusCode)
		require.Contains(t, res.Header.Get("Content-Security-Policy"), "form-action 'self' "+f.idp.Issuer+";",
			"the page's sign-out form may go on to the provider before this replica has talked to it")
		res, _ = b.post("/logout", nil)
		require.True(t, strings.HasPrefix(res.Header.Get("Location"), f.idp.Issuer+"/end_session?"),
			"the ID token kept with the session is found by any replica: %s", res.Header.Get("Location"))
	})
}

// rewriteHost sends every request to another address, as a load balancer would.
type rewriteHost struct{ to string }

func (r rewriteHost) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.URL.Host = r.to
	return http.DefaultTransport.RoundTrip(req)
}
