package main

import (
	"context"
	"encoding/hex"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction"
	"github.com/junction-dev/junction/internal/oidctest"
	"github.com/junction-dev/junction/web"
)

// linesWith returns the lines of s that contain sub.
func linesWith(s, sub string) []string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		if strings.Contains(line, sub) {
			out = append(out, line)
		}
	}
	return out
}

// closedURL is an http URL where nothing listens.
func closedURL(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	u := "http://" + ln.Addr().String()
	ln.Close()
	return u
}

func TestServeOIDCStart(t *testing.T) {
	idp := oidctest.Start(t)
	tests := []struct {
		name string
		env  map[string]string
		args []string
		// line is what the one start-up line about the provider says.
		line string
		// page is what the sign-in page then says.
		page string
	}{
		{"ErrNoClientSecret", map[string]string{"JUNCTION_OIDC_ISSUER": "https://idp.example.com", "JUNCTION_OIDC_CLIENT_ID": "junction"}, nil,
			"sign-in with idp.example.com is unavailable: JUNCTION_OIDC_CLIENT_SECRET is not set; password sign-in still works",
			"Sign-in with idp.example.com is not configured correctly."},
		{"ErrOnlyAdminGroup", map[string]string{"JUNCTION_OIDC_ADMIN_GROUP": "admins"}, nil,
			"sign-in with your identity provider is unavailable: JUNCTION_OIDC_ISSUER is not set; password sign-in still works",
			"Sign-in with your identity provider is not configured correctly."},
		{"ErrBadProjectRoles", map[string]string{"JUNCTION_OIDC_ISSUER": idp.Issuer, "JUNCTION_OIDC_CLIENT_ID": oidctest.ClientID,
			"JUNCTION_OIDC_CLIENT_SECRET": oidctest.ClientSecret, "JUNCTION_OIDC_NAME": "Acme SSO", "JUNCTION_OIDC_PROJECT_ROLES": "shop:owner=team"}, nil,
			`sign-in with Acme SSO is unavailable: JUNCTION_OIDC_PROJECT_ROLES: entry 1 \"shop:owner=team\": role \"owner\" is not developer or viewer`,
			"Sign-in with Acme SSO is not configured correctly."},
		{"ErrIssuerUnreachable", nil, []string{"--oidc-issuer", "{issuer}", "--oidc-client-id", "junction", "--oidc-client-secret", "s", "--oidc-name", "Corp"},
			"sign-in with Corp is unavailable for now: discovery at {issuer}",
			"Corp is unavailable: Junction could not reach it."},
		{"ErrIssuerUnreachablePasswordOff", map[string]string{"JUNCTION_PASSWORD_LOGIN": "false"},
			[]string{"--oidc-issuer", "{issuer}", "--oidc-client-id", "junction", "--oidc-client-secret", "s", "--oidc-name", "Corp"},
			"password sign-in is off, so only tokens work until this is fixed",
			"Corp is unavailable: Junction could not reach it."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			issuer := closedURL(t)
			for i, a := range tt.args {
				tt.args[i] = strings.ReplaceAll(a, "{issuer}", issuer)
			}
			s := startServe(t, tt.env, append([]string{"--addr", "127.0.0.1:0", "--db", tempDB(t)}, tt.args...)...)
			lines := linesWith(s.stderr.String(), "unavailable")
			require.Len(t, lines, 1, "one line about the provider:\n%s", s.stderr)
			require.Contains(t, lines[0], strings.ReplaceAll(tt.line, "{issuer}", issuer))
			status, body := httpGet(t, s.url+"/login", "")
			require.Equal(t, http.StatusOK, status, "the console runs")
			require.Contains(t, body, tt.page)
			require.Equal(t, tt.env["JUNCTION_PASSWORD_LOGIN"] != "false", strings.Contains(body, `data-testid="login-form"`))
			s.stop(t)
		})
	}
	t.Run("OKSaysRedirectURIAndUnknownProjects", func(t *testing.T) {
		env := map[string]string{"JUNCTION_OIDC_ISSUER": idp.Issuer, "JUNCTION_OIDC_CLIENT_ID": oidctest.ClientID,
			"JUNCTION_OIDC_CLIENT_SECRET": oidctest.ClientSecret, "JUNCTION_OIDC_PROJECT_ROLES": "nope:viewer=support,nope:developer=team",
			"JUNCTION_PUBLIC_URL": "https://junction.example.com/"}
		s := startServe(t, env, "--addr", "127.0.0.1:0", "--db", tempDB(t))
		stderr := s.stderr.String()
		require.Empty(t, linesWith(stderr, "unavailable"), stderr)
		on := linesWith(stderr, "is on")
		require.Len(t, on, 1, stderr)
		require.Contains(t, on[0], "redirect_uri=https://junction.example.com/login/oidc/callback")
		require.Len(t, linesWith(stderr, `names project \"nope\", which does not exist`), 1, stderr)
		s.stop(t)
	})
}

func TestServePasswordLogin(t *testing.T) {
	t.Run("ErrNotABoolean", func(t *testing.T) {
		r := runCLI(t, map[string]string{"JUNCTION_PASSWORD_LOGIN": "nope"}, "serve", "--addr", "127.0.0.1:0", "--db", tempDB(t))
		requireCode(t, r, exitUsage)
		requireOneErrorLine(t, r.stderr)
		require.Contains(t, r.stderr, `JUNCTION_PASSWORD_LOGIN must be true or false, not "nope"`)
	})
	t.Run("OffButTheCLIStillAddsAdmins", func(t *testing.T) {
		dbPath := tempDB(t)
		mustCreateUser(t, nil, dbPath, "first@example.com", "first-password", true)
		token := mustCreateToken(t, nil, dbPath, "first@example.com")
		s := startServe(t, nil, "--addr", "127.0.0.1:0", "--db", dbPath, "--password-login=false")
		_, body := httpGet(t, s.url+"/login", "")
		require.NotContains(t, body, `data-testid="login-form"`)
		status, body := httpGet(t, s.url+"/api/v1/me", token)
		require.Equal(t, http.StatusOK, status, "personal access tokens keep working")
		require.Contains(t, body, "first@example.com")
		s.stop(t)
	})
}

// TestBrowserOIDC signs in with the identity provider as a person would: the button on the
// sign-in page, the provider's own login page, back in the catalog; then signs out at both.
func TestBrowserOIDC(t *testing.T) {
	if testing.Short() {
		t.Skip("browser tests are not short")
	}
	idp := oidctest.Start(t)
	idp.AddUser(oidctest.User{ID: "sub-grace", Username: "grace", Password: "provider-password", Email: "grace@example.com",
		EmailVerified: true, Name: "Grace Hopper", Groups: []string{"junction-admins"}})
	app, err := OpenApp(context.Background(), Config{
		Addr:         "127.0.0.1:0",
		DBPath:       filepath.Join(t.TempDir(), "junction.db"),
		SecretKey:    hex.EncodeToString(make([]byte, 32)),
		PasswordCost: 4,
		Logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
		OIDC: web.OIDCConfig{Issuer: idp.Issuer, ClientID: oidctest.ClientID, ClientSecret: oidctest.ClientSecret,
			Name: "Acme SSO", AdminGroup: "junction-admins"},
	})
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- app.Server.Serve() }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		require.NoError(t, app.Server.Shutdown(ctx))
		require.NoError(t, <-done)
		app.Close()
	})
	base := app.Server.URL()
	idp.SetRedirectURIs(base+web.CallbackPath, base+"/login")
	require.NoError(t, app.Services.Users.CreateUser(context.Background(), &junction.User{Email: "pw@example.org"}, e2ePassword))

	for _, scheme := range []string{"light", "dark"} {
		t.Run(scheme, func(t *testing.T) {
			b := newBrowserTab(t)
			if scheme == "dark" {
				_, err := chromedp.Call(b.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
					Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}}})
				require.NoError(t, err)
			}
			b.run(t,
				chromedp.Navigate(base+"/projects"),
				chromedp.WaitVisible(chromedp.CSS(`[data-testid=oidc-sign-in]`)),
			)
			require.Equal(t, "Sign in with Acme SSO", b.text(t, `[data-testid=oidc-sign-in]`))
			require.True(t, b.exists(t, `[data-testid=login-form]`), "password sign-in beside it")
			b.screenshot(t, "oidc-login-"+scheme)
			b.run(t,
				chromedp.Click(chromedp.CSS(`[data-testid=oidc-sign-in]`)),
				chromedp.WaitVisible(chromedp.ID(`username`)),
			)
			require.True(t, strings.HasPrefix(b.location(t), idp.Issuer+"/login/username"), b.location(t))
			b.run(t,
				chromedp.SendKeys(chromedp.ID(`username`), "grace"),
				chromedp.SendKeys(chromedp.ID(`password`), "provider-password"),
				chromedp.Click(chromedp.ID(`submit`)),
				chromedp.WaitVisible(chromedp.CSS(`[data-testid=signed-in-user]`)),
			)
			require.Equal(t, base+"/projects", b.location(t), "back where the sign-in started")
			require.Equal(t, "grace@example.com", b.text(t, `[data-testid=signed-in-user]`))
			require.True(t, b.exists(t, `.badge-admin`), "admin through the provider's group")
			b.run(t,
				chromedp.Navigate(base+"/"),
				chromedp.WaitVisible(chromedp.CSS(`[data-testid=signed-in-user]`)),
			)
			require.Equal(t, base+"/services", b.location(t), "lands in the catalog")

			// Signing out ends the session at the provider too, which sends the browser back.
			b.run(t,
				chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)),
				chromedp.WaitVisible(chromedp.CSS(`[data-testid=oidc-sign-in]`)),
			)
			require.Equal(t, base+"/login", b.location(t))
			require.Contains(t, b.text(t, `#flashes`), "You have signed out.")
			b.noConsoleErrors(t)
		})
	}
	require.Equal(t, 2, idp.Logouts(), "each sign-out reached the provider")
}
