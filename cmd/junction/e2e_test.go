package main

import (
	"context"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction"
)

// e2ePassword is the password of every user the browser tests create.
const e2ePassword = "browser-test-password"

// e2eServer starts the real console (OpenApp, the same wiring as `junction serve`) on a free
// port with a temporary database and returns its URL and services.
func e2eServer(t *testing.T) (string, *App) {
	return e2eServerWith(t, false)
}

func e2eServerWith(t *testing.T, demo bool) (string, *App) {
	t.Helper()
	app, err := OpenApp(context.Background(), Config{
		Demo:         demo,
		Addr:         "127.0.0.1:0",
		DBPath:       filepath.Join(t.TempDir(), "junction.db"),
		SecretKey:    hex.EncodeToString(make([]byte, 32)),
		PasswordCost: 4,
		Logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
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
	return app.Server.URL(), app
}

// chromiumPath finds the browser. `make test` installs Chromium when it is missing; running
// `go test` by hand without it fails unless JUNCTION_SKIP_BROWSER=1 says to skip.
func chromiumPath(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	if os.Getenv("JUNCTION_SKIP_BROWSER") == "1" {
		t.Skip("no Chromium and JUNCTION_SKIP_BROWSER=1")
	}
	t.Fatal("Chromium not found: run `make chromium` (or set JUNCTION_SKIP_BROWSER=1 to skip browser tests)")
	return ""
}

// browserTab is a headless Chromium tab that records console errors, such as scripts or
// styles that the Content-Security-Policy blocked.
type browserTab struct {
	ctx      context.Context
	mu       sync.Mutex
	problems []string
}

func newBrowserTab(t *testing.T) *browserTab {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancelTab(); cancelAlloc() })
	require.NoError(t, chromedp.Do(ctx), "start Chromium")

	tab := &browserTab{ctx: ctx}
	go func() {
		for msg, err := range chromedp.Console(ctx) {
			if err != nil {
				return
			}
			// Pages answered with 401, 404 or 422 on purpose log "Failed to load resource";
			// only a failed static file is a problem.
			if strings.HasPrefix(msg.Text, "Failed to load resource") && !strings.Contains(msg.URL, "/static/") {
				continue
			}
			if msg.Type == chromedp.ConsoleError || msg.Type == chromedp.ConsoleException {
				tab.mu.Lock()
				tab.problems = append(tab.problems, msg.Text+" ("+msg.URL+")")
				tab.mu.Unlock()
			}
		}
	}()
	return tab
}

func (b *browserTab) run(t *testing.T, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	require.NoError(t, chromedp.Do(b.ctx, steps...))
}

func (b *browserTab) text(t *testing.T, sel string) string {
	t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
	require.NoError(t, err, sel)
	return strings.TrimSpace(s)
}

func (b *browserTab) exists(t *testing.T, sel string) bool {
	t.Helper()
	ok, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`document.querySelector(`+jsString(sel)+`) !== null`))
	require.NoError(t, err)
	return ok
}

func (b *browserTab) location(t *testing.T) string {
	t.Helper()
	loc, err := chromedp.Run(b.ctx, chromedp.Location())
	require.NoError(t, err)
	return loc
}

// screenshot saves the page to $JUNCTION_SCREENSHOTS/name.png when that variable is set.
func (b *browserTab) screenshot(t *testing.T, name string) {
	dir := os.Getenv("JUNCTION_SCREENSHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644))
}

// noConsoleErrors fails when the page logged an error, such as a CSP violation.
func (b *browserTab) noConsoleErrors(t *testing.T) {
	t.Helper()
	time.Sleep(100 * time.Millisecond) // let the last events arrive
	b.mu.Lock()
	defer b.mu.Unlock()
	require.Empty(t, b.problems, "browser console errors")
}

func jsString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

func (b *browserTab) signIn(t *testing.T, base, email string) {
	t.Helper()
	b.run(t,
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=login-form]`)),
		chromedp.SendKeys(chromedp.CSS(`#login-email`), email),
		chromedp.SendKeys(chromedp.CSS(`#login-password`), e2ePassword),
		chromedp.Click(chromedp.CSS(`[data-testid=login-form] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=signed-in-user]`)),
	)
	require.Equal(t, email, b.text(t, `[data-testid=signed-in-user]`))
}

func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser tests are not short")
	}
	base, app := e2eServer(t)
	ctx := context.Background()
	users := map[string]bool{"admin@example.org": true, "viewer@example.org": false, "outsider@example.org": false}
	for email, admin := range users {
		require.NoError(t, app.Services.Users.CreateUser(ctx, &junction.User{Email: email, IsAdmin: admin}, e2ePassword))
	}

	t.Run("AdminCreatesProjectAndComponent", func(t *testing.T) {
		b := newBrowserTab(t)
		// Unsigned visitors land on the sign-in page and come back after signing in.
		b.run(t,
			chromedp.Navigate(base+"/projects"),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=login-form]`)),
		)
		require.Contains(t, b.location(t), "/login?next=%2Fprojects")

		// A wrong password gets a generic message.
		b.run(t,
			chromedp.SendKeys(chromedp.CSS(`#login-email`), "admin@example.org"),
			chromedp.SendKeys(chromedp.CSS(`#login-password`), "not the password"),
			chromedp.Click(chromedp.CSS(`[data-testid=login-form] button[type=submit]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=login-error]`)),
		)
		require.Equal(t, "Incorrect e-mail or password.", b.text(t, `[data-testid=login-error]`))

		b.signIn(t, base, "admin@example.org")
		require.Contains(t, b.location(t), "/services", "users start in the catalog")
		b.run(t,
			chromedp.Click(chromedp.CSS(`nav a[href="/projects"]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=new-project]`)),
		)
		b.screenshot(t, "projects-empty")

		// Create a project; a bad handle is reported next to the field with the values kept.
		b.run(t,
			chromedp.Click(chromedp.CSS(`[data-testid=new-project]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=project-form]`)),
			chromedp.SendKeys(chromedp.CSS(`#project-name`), "Billing"),
			chromedp.SendKeys(chromedp.CSS(`#project-handle`), "-bad-"),
			chromedp.SendKeys(chromedp.CSS(`#project-description`), "Invoices and payments"),
			chromedp.Click(chromedp.CSS(`[data-testid=project-form] button[type=submit]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=error-handle]`)),
		)
		require.Contains(t, b.text(t, `[data-testid=error-handle]`), "lower-case letters")
		b.screenshot(t, "project-form-error")
		name, err := chromedp.Run(b.ctx, chromedp.Value(chromedp.CSS(`#project-name`)))
		require.NoError(t, err)
		require.Equal(t, "Billing", name, "typed values are kept")

		b.run(t,
			chromedp.SetValue(chromedp.CSS(`#project-handle`), "billing"),
			chromedp.Click(chromedp.CSS(`[data-testid=project-form] button[type=submit]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=project-handle]`)),
		)
		require.Equal(t, "billing", b.text(t, `[data-testid=project-handle]`))
		require.Contains(t, b.text(t, `#flashes`), "Project Billing created.")

		// Create a component in it.
		b.run(t,
			chromedp.Click(chromedp.CSS(`[data-testid=new-component]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=component-form]`)),
			chromedp.SendKeys(chromedp.CSS(`#component-name`), "Invoice API"),
			chromedp.SetValue(chromedp.CSS(`#component-type`), "service"),
			chromedp.Click(chromedp.CSS(`[data-testid=component-form] button[type=submit]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=component-handle]`)),
		)
		require.Equal(t, "invoice-api", b.text(t, `[data-testid=component-handle]`))

		// Add the viewer as a member of the project.
		b.run(t,
			chromedp.Navigate(base+"/projects/billing"),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=component-invoice-api]`)),
			chromedp.SendKeys(chromedp.CSS(`#member-email`), "viewer@example.org"),
			chromedp.SetValue(chromedp.CSS(`#member-role`), "viewer"),
			chromedp.Click(chromedp.CSS(`[data-testid=member-form] button[type=submit]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=member-list]`)),
		)
		require.Contains(t, b.text(t, `[data-testid=member-list]`), "viewer@example.org")
		b.screenshot(t, "project")

		// Both are listed.
		b.run(t,
			chromedp.Click(chromedp.CSS(`nav a[href="/projects"]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=project-billing]`)),
		)
		require.Contains(t, b.text(t, `[data-testid=project-billing]`), "1 component")
		b.screenshot(t, "projects")

		// Sign out.
		b.run(t,
			chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=login-form]`)),
		)
		b.run(t,
			chromedp.Navigate(base+"/projects"),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=login-form]`)),
		)
		b.noConsoleErrors(t)
	})

	t.Run("ViewerSeesNoCreateButtons", func(t *testing.T) {
		b := newBrowserTab(t)
		b.signIn(t, base, "viewer@example.org")
		b.run(t, chromedp.Navigate(base+"/projects"), chromedp.WaitVisible(chromedp.CSS(`[data-testid=project-billing]`)))
		require.False(t, b.exists(t, `[data-testid=new-project]`))
		b.run(t, chromedp.Navigate(base+"/projects/billing"), chromedp.WaitVisible(chromedp.CSS(`[data-testid=component-invoice-api]`)))
		require.False(t, b.exists(t, `[data-testid=new-component]`))
		require.False(t, b.exists(t, `[data-testid=delete-project]`))
		require.False(t, b.exists(t, `[data-testid=member-form]`))
		require.False(t, b.exists(t, `[data-testid=project-edit-form]`))
		b.run(t, chromedp.Navigate(base+"/projects/billing/components/invoice-api"), chromedp.WaitVisible(chromedp.CSS(`[data-testid=component-handle]`)))
		require.False(t, b.exists(t, `[data-testid=delete-component]`))
		b.screenshot(t, "viewer-component")
		b.noConsoleErrors(t)
	})

	t.Run("NonMemberGets404", func(t *testing.T) {
		b := newBrowserTab(t)
		b.signIn(t, base, "outsider@example.org")
		b.run(t, chromedp.Navigate(base+"/projects"), chromedp.WaitVisible(chromedp.CSS(`main h1`)))
		require.False(t, b.exists(t, `[data-testid=project-billing]`))
		for _, path := range []string{"/projects/billing", "/projects/billing/components/invoice-api"} {
			b.run(t, chromedp.Navigate(base+path), chromedp.WaitVisible(chromedp.CSS(`[data-testid=error-404]`)))
			require.Equal(t, "Page not found", b.text(t, `[data-testid=error-404] h1`))
		}
		b.screenshot(t, "not-found")
		b.noConsoleErrors(t)
	})
}

// TestDemoScreenshots renders the demo organization for the README; it runs only when
// JUNCTION_SCREENSHOTS names a directory (make screenshots).
func TestDemoScreenshots(t *testing.T) {
	if os.Getenv("JUNCTION_SCREENSHOTS") == "" {
		t.Skip("set JUNCTION_SCREENSHOTS to a directory to render screenshots")
	}
	base, _ := e2eServerWith(t, true)
	b := newBrowserTab(t)
	if os.Getenv("JUNCTION_SCREENSHOTS_DARK") == "1" {
		_, err := chromedp.Call(b.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}}})
		require.NoError(t, err)
	}
	b.run(t,
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=login-form]`)),
	)
	b.screenshot(t, "demo-login")
	b.run(t,
		chromedp.SendKeys(chromedp.CSS(`#login-email`), DemoAdminEmail),
		chromedp.SendKeys(chromedp.CSS(`#login-password`), DemoPassword),
		chromedp.Click(chromedp.CSS(`[data-testid=login-form] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=service-list]`)),
		chromedp.Navigate(base+"/projects"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=project-shop]`)),
	)
	b.screenshot(t, "demo-projects")
	for _, page := range []struct{ path, wait, name string }{
		{"/projects/shop", `[data-testid=component-list]`, "demo-project"},
		{"/projects/shop/diagram", `[data-testid=project-diagram]`, "demo-project-diagram"},
		{"/projects/shop/components/orders", `[data-testid=component-handle]`, "demo-component"},
		{"/environments", `[data-testid=environment-list]`, "demo-environments"},
		{"/account", `[data-testid=token-form]`, "demo-account"},
		{"/users", `[data-testid=user-list]`, "demo-users"},
		{"/projects/shop/components/orders/endpoints/new", `[data-testid=endpoint-form]`, "demo-publish-endpoint"},
		{"/no/such/page", `[data-testid=error-404]`, "demo-not-found"},
		{"/services", `[data-testid=service-list]`, "demo-catalog"},
		{"/services/new/third-party", `[data-testid=third-party-form]`, "demo-register-third-party"},
		{"/services/new/database", `[data-testid=database-form]`, "demo-register-database"},
	} {
		b.run(t, chromedp.Navigate(base+page.path), chromedp.WaitVisible(chromedp.CSS(page.wait)))
		b.screenshot(t, page.name)
	}
	b.run(t,
		chromedp.Navigate(base+"/projects/shop"),
		chromedp.Click(chromedp.CSS(`[data-testid=project-connections] a`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=connection-id]`)),
	)
	b.screenshot(t, "demo-connection")
	b.run(t, chromedp.Click(chromedp.CSS(`[data-testid=reveal]`)), chromedp.WaitNotPresent(chromedp.CSS(`[data-testid=reveal]`)))
	b.screenshot(t, "demo-connection-revealed")
	for _, q := range []struct{ query, name string }{{"twil", "demo-service-twilio"}, {"orders-db", "demo-service-database"}, {"identity api", "demo-service-internal"}} {
		b.run(t,
			chromedp.Navigate(base+"/services?q="+url.QueryEscape(q.query)),
			chromedp.Click(chromedp.CSS(`.service-name`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=parameter-table]`)),
		)
		b.screenshot(t, q.name)
	}
	b.run(t,
		chromedp.Navigate(base+"/services?q=orders-db"),
		chromedp.Click(chromedp.CSS(`.service-name`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=parameter-table]`)),
	)
	b.scrollToTop(t, `#endpoints-heading`)
	b.screenshot(t, "demo-database-credentials")
	b.run(t,
		chromedp.Click(chromedp.CSS(`[data-testid=edit-service]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=database-form]`)),
	)
	b.scrollToTop(t, `[data-testid=database-env-development]`)
	b.screenshot(t, "demo-edit-database")
	b.run(t,
		chromedp.Navigate(base+"/services?q=orders-db"),
		chromedp.Click(chromedp.CSS(`.service-name`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=connect-form]`)),
		chromedp.Click(chromedp.CSS(`[data-testid=connect]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=credentials-choices]`)),
	)
	b.screenshot(t, "demo-new-database-connection")
	b.run(t,
		chromedp.Navigate(base+"/projects/analytics"),
		chromedp.Click(chromedp.CSS(`[data-testid=project-connections] a`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=connection-credentials]`)),
	)
	b.screenshot(t, "demo-database-connection")
	for _, page := range []struct{ path, wait, name string }{
		{"/projects/shop/components/orders/env", `[data-testid=mapping-form]`, "demo-env-editor"},
		{"/audit", `[data-testid=audit-list]`, "demo-audit"},
		{"/projects/shop/history", `[data-testid=history-entry]`, "demo-project-history"},
		{"/projects/shop/components/orders/env/history", `[data-testid=mapping-version]`, "demo-mapping-history"},
	} {
		b.run(t, chromedp.Navigate(base+page.path), chromedp.WaitVisible(chromedp.CSS(page.wait)))
		b.screenshot(t, page.name)
	}
	// A runtime token just created (shown once, with the hint), then used a few times.
	b.run(t,
		chromedp.Navigate(base+"/projects/shop/components/payments"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=runtime-token-form]`)),
		chromedp.SendKeys(chromedp.CSS(`[data-testid=runtime-token-form] input[name=name]`), "checkout workers"),
		chromedp.Click(chromedp.CSS(`[data-testid=runtime-token-form] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=new-runtime-token]`)),
	)
	b.scrollToTop(t, `#runtime-heading`)
	b.screenshot(t, "demo-runtime-token-created")
	token := b.text(t, `#new-runtime-token`)
	for range 12 {
		req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/runtime/env", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		res.Body.Close()
	}
	b.run(t, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`[data-testid=runtime-tokens]`)))
	b.scrollToTop(t, `#runtime-heading`)
	b.screenshot(t, "demo-runtime-activity")
	b.run(t,
		chromedp.Navigate(base+"/account/tokens"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=token-form]`)),
		chromedp.SendKeys(chromedp.CSS(`#token-name`), "CI deploys"),
		chromedp.Click(chromedp.CSS(`[data-testid=token-form] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=new-token]`)),
	)
	b.screenshot(t, "demo-account-token-created")
	b.run(t,
		chromedp.Navigate(base+"/services?q=sendgrid"),
		chromedp.Click(chromedp.CSS(`.service-name`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=connect-form]`)),
	)
	b.scrollToTop(t, `[data-testid=connect-panel]`)
	b.screenshot(t, "demo-connect-panel")
	b.run(t,
		chromedp.Navigate(base+"/projects/shop"),
		chromedp.Click(chromedp.CSS(`[data-testid=project-connections] a`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=howto]`)),
	)
	b.scrollToTop(t, `#howto-heading`)
	b.screenshot(t, "demo-connection-howto")
	b.noConsoleErrors(t)
}

// scrollToTop scrolls the page so that the element is at the top of the window.
func (b *browserTab) scrollToTop(t *testing.T, sel string) {
	t.Helper()
	_, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`(() => { document.querySelector(`+jsString(sel)+`).scrollIntoView({block: "start"}); return true })()`))
	require.NoError(t, err)
}

// clear empties an input (chromedp's SetValue refuses the empty string).
func (b *browserTab) clear(t *testing.T, sel string) {
	t.Helper()
	_, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`(() => { document.querySelector(`+jsString(sel)+`).value = ""; return true })()`))
	require.NoError(t, err)
}

// markPage sets a marker on the window; it survives htmx swaps but not a page load.
func (b *browserTab) markPage(t *testing.T) {
	t.Helper()
	_, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`window.junctionMarker = true`))
	require.NoError(t, err)
}

func (b *browserTab) samePage(t *testing.T) bool {
	t.Helper()
	ok, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`window.junctionMarker === true`))
	require.NoError(t, err)
	return ok
}

// waitText waits until the element's text contains want. It checks again after a page
// load interrupts a check, so it works across htmx swaps and full navigations alike.
func (b *browserTab) waitText(t *testing.T, sel, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		ok, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`(document.querySelector(`+jsString(sel)+`)?.textContent || "").includes(`+jsString(want)+`)`))
		if err == nil && ok {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("waiting for %q in %s; it says %q", want, sel, b.textOrEmpty(sel))
}

func (b *browserTab) textOrEmpty(sel string) string {
	s, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.querySelector(`+jsString(sel)+`)?.textContent || ""`))
	return strings.TrimSpace(s)
}

func (b *browserTab) signInAs(t *testing.T, base, email, password string) {
	t.Helper()
	b.run(t,
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=login-form]`)),
		chromedp.SendKeys(chromedp.CSS(`#login-email`), email),
		chromedp.SendKeys(chromedp.CSS(`#login-password`), password),
		chromedp.Click(chromedp.CSS(`[data-testid=login-form] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=signed-in-user]`)),
	)
}

func TestBrowserCatalog(t *testing.T) {
	if testing.Short() {
		t.Skip("browser tests are not short")
	}
	base, _ := e2eServerWith(t, true)

	t.Run("SearchAsYouTypeAndFilter", func(t *testing.T) {
		b := newBrowserTab(t)
		b.signInAs(t, base, DemoAdminEmail, DemoPassword)
		b.run(t, chromedp.Navigate(base+"/services"), chromedp.WaitVisible(chromedp.CSS(`[data-testid=service-list]`)))
		b.waitText(t, `[data-testid=result-count]`, "23 services")
		b.markPage(t)

		// Typing narrows the list without a page load and puts the query in the URL.
		b.run(t, chromedp.SendKeys(chromedp.CSS(`[data-testid=catalog-search]`), "twil"))
		b.waitText(t, `[data-testid=result-count]`, "1 service matching")
		require.Contains(t, b.text(t, `[data-testid=service-list]`), "Twilio")
		require.True(t, b.samePage(t), "the search reloaded the page")
		require.Contains(t, b.location(t), "q=twil")

		// Clear the search, then filter by kind: counts per facet, URL updated, no page load.
		_, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`(() => { const q = document.querySelector("#catalog-q"); q.value = ""; q.form.requestSubmit(); return true })()`))
		require.NoError(t, err)
		b.waitText(t, `[data-testid=result-count]`, "23 services")
		require.True(t, b.samePage(t), "submitting the search reloaded the page")
		require.Contains(t, b.text(t, `[data-testid=facet-kind-database]`), "5")
		b.run(t, chromedp.Click(chromedp.CSS(`[data-testid=facet-kind-database] a`)))
		b.waitText(t, `[data-testid=result-count]`, "5 services")
		require.True(t, b.samePage(t), "the filter reloaded the page")
		require.Contains(t, b.location(t), "kind=database")
		require.NotContains(t, b.text(t, `[data-testid=service-list]`), "Twilio")

		// The filter stays while typing.
		b.run(t, chromedp.SendKeys(chromedp.CSS(`[data-testid=catalog-search]`), "orders"))
		b.waitText(t, `[data-testid=result-count]`, "1 service matching")
		require.Contains(t, b.text(t, `[data-testid=service-list]`), "orders-db")
		require.Contains(t, b.location(t), "kind=database")

		// Back returns to the previous results.
		b.run(t, chromedp.NavigateBack())
		b.waitText(t, `[data-testid=result-count]`, "5 services")
		b.noConsoleErrors(t)
	})

	t.Run("RegisterThirdPartyWithTwoEndpoints", func(t *testing.T) {
		b := newBrowserTab(t)
		b.signInAs(t, base, DemoDeveloperEmail, DemoPassword)
		b.run(t,
			chromedp.Navigate(base+"/services"),
			chromedp.Click(chromedp.CSS(`[data-testid=register-service]`)),
			chromedp.Click(chromedp.CSS(`[data-testid=new-third-party]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=third-party-form]`)),
		)
		b.markPage(t)
		b.run(t,
			chromedp.SendKeys(chromedp.CSS(`#tp-name`), "Acme SMS"),
			chromedp.SendKeys(chromedp.CSS(`#tp-version`), "v2"),
			chromedp.SendKeys(chromedp.CSS(`#tp-tags`), "sms, acme"),
			chromedp.SendKeys(chromedp.CSS(`[id="tp-parameters[0].name"]`), "ApiToken"),
			chromedp.Click(chromedp.CSS(`[name="parameters[0].secret"]`)),
			chromedp.SendKeys(chromedp.CSS(`[id="tp-endpoints[0].name"]`), "sandbox"),
			chromedp.SendKeys(chromedp.CSS(`[id="tp-endpoints[0].url"]`), "https://sandbox.acme.example"),
			chromedp.SendKeys(chromedp.CSS(`[id="tp-endpoints[0].values[0]"]`), "sandbox-token-123"),
			chromedp.Click(chromedp.CSS(`[data-testid=add-endpoint]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=endpoint-row-1]`)),
		)
		require.True(t, b.samePage(t), "adding a row reloaded the page")
		// htmx moves the focus once the swap has settled.
		pollCtx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
		_, err := chromedp.Run(pollCtx, chromedp.Poll[bool](`document.activeElement && document.activeElement.name === "endpoints[1].name"`))
		cancel()
		require.NoError(t, err, "the new row's first field has the focus")
		value, err := chromedp.Run(b.ctx, chromedp.Value(chromedp.CSS(`[id="tp-endpoints[0].values[0]"]`)))
		require.NoError(t, err)
		require.Equal(t, "sandbox-token-123", value, "typed values survive adding a row")

		// A wrong URL is reported next to its field, without losing what was typed.
		b.run(t,
			chromedp.SendKeys(chromedp.CSS(`[id="tp-endpoints[1].name"]`), "live"),
			chromedp.SendKeys(chromedp.CSS(`[id="tp-endpoints[1].url"]`), "acme.example"),
			chromedp.Click(chromedp.CSS(`[name="endpoints[1].environments"][value=production]`)),
			chromedp.SendKeys(chromedp.CSS(`[id="tp-endpoints[1].values[0]"]`), "live-token-456"),
			chromedp.Click(chromedp.CSS(`[data-testid=save-service]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid="error-endpoints[1].url"]`)),
		)
		b.screenshot(t, "register-third-party-error")
		b.run(t,
			chromedp.SetValue(chromedp.CSS(`[id="tp-endpoints[1].url"]`), "https://api.acme.example"),
			chromedp.Click(chromedp.CSS(`[data-testid=save-service]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=service-id]`)),
		)
		require.Equal(t, "********", b.text(t, `[data-testid=value-sandbox-ApiToken]`))
		require.Equal(t, "********", b.text(t, `[data-testid=value-live-ApiToken]`))
		require.Contains(t, b.text(t, `[data-testid=endpoint-live]`), "production")
		html, err := chromedp.Run(b.ctx, chromedp.OuterHTML(chromedp.CSS(`html`)))
		require.NoError(t, err)
		require.NotContains(t, html, "live-token-456")
		b.screenshot(t, "registered-third-party")
		b.noConsoleErrors(t)
	})

	t.Run("ViewerSeesMaskedSecretsOnly", func(t *testing.T) {
		b := newBrowserTab(t)
		b.signInAs(t, base, DemoViewerEmail, DemoPassword)
		b.run(t,
			chromedp.Navigate(base+"/services?q=twilio"),
			chromedp.Click(chromedp.CSS(`.service-name`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=parameter-table]`)),
		)
		require.Equal(t, "********", b.text(t, `[data-testid=value-sandbox-AuthToken]`))
		require.Equal(t, "demo-sandbox-AccountSID", b.text(t, `[data-testid=value-sandbox-AccountSID]`), "non-secret values are shown")
		html, err := chromedp.Run(b.ctx, chromedp.OuterHTML(chromedp.CSS(`html`)))
		require.NoError(t, err)
		require.NotContains(t, html, "demo-sandbox-AuthToken")
		require.False(t, b.exists(t, `[data-testid=unlist-service]`), "viewers cannot manage services")
		b.noConsoleErrors(t)
	})
}

// TestBrowserWithoutJavaScript drives the console with scripts disabled: signing in,
// searching and filtering the catalog, and adding rows to the third-party form all work as
// plain forms and links.
func TestBrowserWithoutJavaScript(t *testing.T) {
	if testing.Short() {
		t.Skip("browser tests are not short")
	}
	base, _ := e2eServerWith(t, true)
	b := newBrowserTab(t)
	_, err := chromedp.Call(b.ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
	require.NoError(t, err)

	b.signInAs(t, base, DemoDeveloperEmail, DemoPassword)
	b.run(t,
		chromedp.Navigate(base+"/services"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=service-list]`)),
		chromedp.SendKeys(chromedp.CSS(`[data-testid=catalog-search]`), "twil"),
		chromedp.Submit(chromedp.CSS(`#catalog-search`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=result-count]`)),
	)
	b.waitText(t, `[data-testid=result-count]`, "1 service matching")
	require.Contains(t, b.location(t), "q=twil")

	b.run(t,
		chromedp.Navigate(base+"/services"),
		chromedp.Click(chromedp.CSS(`[data-testid=facet-kind-database] a`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=facet-kind-database] a.current`)),
	)
	require.Contains(t, b.text(t, `[data-testid=result-count]`), "5 services")
	require.Contains(t, b.location(t), "kind=database")

	b.run(t,
		chromedp.Navigate(base+"/services/new/third-party"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=third-party-form]`)),
		chromedp.SendKeys(chromedp.CSS(`#tp-name`), "No Script API"),
		chromedp.Click(chromedp.CSS(`[data-testid=add-parameter]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=parameter-row-1]`)),
	)
	name, err := chromedp.Run(b.ctx, chromedp.Value(chromedp.CSS(`#tp-name`)))
	require.NoError(t, err)
	require.Equal(t, "No Script API", name, "the round trip keeps what was typed")
	b.noConsoleErrors(t)
}

func TestBrowserConnections(t *testing.T) {
	if testing.Short() {
		t.Skip("browser tests are not short")
	}
	base, _ := e2eServerWith(t, true)
	var connectionURL, connectionID string

	t.Run("CreateFromCatalogAndCopyID", func(t *testing.T) {
		b := newBrowserTab(t)
		for _, name := range []string{"clipboard-read", "clipboard-write"} {
			_, err := chromedp.CallBrowser(b.ctx, browser.SetPermission, browser.SetPermissionParams{
				Permission: &browser.PermissionDescriptor{Name: name}, Setting: browser.PermissionSettingGranted, Origin: base})
			require.NoError(t, err)
		}
		b.signInAs(t, base, DemoDeveloperEmail, DemoPassword)
		b.run(t,
			chromedp.Navigate(base+"/services?q=sendgrid"),
			chromedp.Click(chromedp.CSS(`.service-name`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=connect-form]`)),
			chromedp.SetValue(chromedp.CSS(`#connect-target`), "shop"),
			chromedp.Click(chromedp.CSS(`[data-testid=connect]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=connection-form]`)),
			chromedp.SetValue(chromedp.CSS(`#conn-name`), "newsletter"),
			chromedp.Click(chromedp.CSS(`[data-testid=create-connection]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=connection-id]`)),
		)
		connectionURL = b.location(t)
		connectionID = b.text(t, `[data-testid=connection-id]`)
		require.Regexp(t, `^conn_[a-z2-7]{26}$`, connectionID)
		require.Contains(t, connectionURL, "/connections/"+connectionID)

		b.run(t, chromedp.Click(chromedp.CSS(`[data-testid=copy-connection-id]`)))
		b.waitText(t, `[data-testid=copy-connection-id]`, "Copied")
		copied, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`navigator.clipboard.readText()`, chromedp.EvalAwaitPromise))
		require.NoError(t, err)
		require.Equal(t, connectionID, copied, "the clipboard holds exactly the Connection ID")

		// Reveal swaps in the secret values for a developer.
		require.Equal(t, "********", b.text(t, `[data-testid=param-APIKey-production]`))
		b.markPage(t)
		b.run(t, chromedp.Click(chromedp.CSS(`[data-testid=reveal]`)), chromedp.WaitNotPresent(chromedp.CSS(`[data-testid=reveal]`)))
		require.Equal(t, "demo-live-APIKey", b.text(t, `[data-testid=param-APIKey-production]`))
		require.True(t, b.samePage(t), "Reveal swaps the table in place")
		b.noConsoleErrors(t)
	})

	t.Run("ViewerNeverSeesSecrets", func(t *testing.T) {
		require.NotEmpty(t, connectionURL)
		b := newBrowserTab(t)
		b.signInAs(t, base, DemoViewerEmail, DemoPassword)
		b.run(t, chromedp.Navigate(connectionURL), chromedp.WaitVisible(chromedp.CSS(`[data-testid=connection-id]`)))
		require.False(t, b.exists(t, `[data-testid=reveal]`), "no Reveal for viewers")
		require.Equal(t, "********", b.text(t, `[data-testid=param-APIKey-production]`))
		html, err := chromedp.Run(b.ctx, chromedp.OuterHTML(chromedp.CSS(`html`)))
		require.NoError(t, err)
		require.NotContains(t, html, "demo-live-APIKey")
		b.run(t, chromedp.Navigate(connectionURL+"?reveal=true"), chromedp.WaitVisible(chromedp.CSS(`[data-testid=error-403]`)))
		b.noConsoleErrors(t)
	})
}

func TestBrowserMappingEditor(t *testing.T) {
	if testing.Short() {
		t.Skip("browser tests are not short")
	}
	base, app := e2eServerWith(t, true)
	ctx := context.Background()
	admin, err := app.Services.Users.FindUserByEmail(ctx, DemoAdminEmail)
	require.NoError(t, err)
	conns, err := app.Services.Connections.FindConnections(junction.NewContextWithUser(ctx, admin),
		junction.ConnectionFilter{Project: "shop", Component: "orders"})
	require.NoError(t, err)
	ids := map[string]string{}
	for _, c := range conns {
		ids[c.Name] = c.ID
	}
	twilio, db := ids["twilio"], ids["orders-db"]
	require.NotEmpty(t, twilio)
	require.NotEmpty(t, db)

	b := newBrowserTab(t)
	b.signInAs(t, base, DemoDeveloperEmail, DemoPassword)
	b.run(t,
		chromedp.Navigate(base+"/projects/shop/components/orders"),
		chromedp.Click(chromedp.CSS(`[data-testid=edit-env]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=mapping-form]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="include-`+twilio+`"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="include-`+db+`"]`)),
	)
	b.markPage(t)
	field := `[id="map-` + twilio + `.ServiceURL"]`
	b.clear(t, field)
	b.run(t, chromedp.SendKeys(chromedp.CSS(field), "ORDERS_DB_HOSTNAME"))
	errSel := `[data-testid="mapping-error-` + twilio + `-ServiceURL"]`
	b.waitText(t, errSel, "already used by connection orders-db")
	require.True(t, b.samePage(t), "validation ran without a page load")
	b.screenshot(t, "mapping-duplicate")

	b.clear(t, field)
	b.run(t, chromedp.SendKeys(chromedp.CSS(field), "TWILIO_URL"))
	_, err = chromedp.Run(b.ctx, chromedp.Poll[bool](`document.querySelector(`+jsString(errSel)+`).textContent.trim() === ""`))
	require.NoError(t, err, "the message goes once the name is fixed")
	b.run(t,
		chromedp.Click(chromedp.CSS(`[data-testid=save-mappings]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="preview-TWILIO_URL"]`)),
	)
	row := b.text(t, `[data-testid="preview-TWILIO_URL"]`)
	require.Contains(t, row, "https://api.twilio.com")
	require.Contains(t, row, "twilio")
	require.Contains(t, row, twilio)
	require.Contains(t, b.text(t, `[data-testid="preview-ORDERS_DB_PASSWORD"]`), "********")
	b.screenshot(t, "mapping-saved")
	b.noConsoleErrors(t)
}
