package main

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction"
)

// TestBrowserRoughEdges walks the rough edges of issue 13 in Chromium: a reload after
// creating a runtime token makes no second one, the snippets use the mapped names (with a
// component picker), and Connect on a service page can create a component connection.
func TestBrowserRoughEdges(t *testing.T) {
	if testing.Short() {
		t.Skip("browser tests are not short")
	}
	base, app := e2eServerWith(t, true)
	admin, err := app.Services.Users.FindUserByEmail(context.Background(), DemoAdminEmail)
	require.NoError(t, err)
	asAdmin := junction.NewContextWithUser(context.Background(), admin)

	t.Run("ReloadAfterCreateMakesNoSecondToken", func(t *testing.T) {
		b := newBrowserTab(t)
		b.signInAs(t, base, DemoDeveloperEmail, DemoPassword)
		page := base + "/projects/shop/components/payments"
		b.run(t,
			chromedp.Navigate(page),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=runtime-token-form]`)),
			chromedp.SendKeys(chromedp.CSS(`[data-testid=runtime-token-form] input[name=name]`), "checkout workers"),
			chromedp.Click(chromedp.CSS(`[data-testid=runtime-token-form] button[type=submit]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=new-runtime-token]`)),
		)
		require.Equal(t, page+"#runtime-heading", b.location(t), "the address is the component page, not the form target")
		token := b.text(t, `#new-runtime-token`)
		require.Regexp(t, `^jrt_[a-z2-7]+$`, token)
		require.Contains(t, b.text(t, `[data-testid=runtime-hint-run]`), "--server "+base+" --token "+token)
		require.Equal(t, "checkout workers", b.text(t, `[data-testid=runtime-token-name]`))
		require.Equal(t, token[:8]+"…", b.text(t, `[data-testid=runtime-token-prefix]`))

		b.run(t, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`[data-testid=runtime-tokens]`)))
		require.False(t, b.exists(t, `[data-testid=new-runtime-token]`), "the token is shown once")
		tokens, err := app.Services.Mappings.FindRuntimeTokens(asAdmin, "shop", "payments")
		require.NoError(t, err)
		require.Len(t, tokens, 1, "a reload creates no second token")

		// Back to the form target itself (a bookmark, say): the component page, no 405.
		b.run(t, chromedp.Navigate(page+"/runtime-tokens"), chromedp.WaitVisible(chromedp.CSS(`[data-testid=runtime-tokens]`)))
		require.Equal(t, page, b.location(t))

		// The same for personal access tokens.
		b.run(t,
			chromedp.Navigate(base+"/account/tokens"),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=token-form]`)),
			chromedp.SendKeys(chromedp.CSS(`#token-name`), "ci"),
			chromedp.Click(chromedp.CSS(`[data-testid=token-form] button[type=submit]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=new-token]`)),
			chromedp.Reload(),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=token-list]`)),
		)
		require.False(t, b.exists(t, `[data-testid=new-token]`))
		dev, err := app.Services.Users.FindUserByEmail(context.Background(), DemoDeveloperEmail)
		require.NoError(t, err)
		pats, err := app.Services.Users.FindTokens(junction.NewContextWithUser(context.Background(), dev))
		require.NoError(t, err)
		require.Len(t, pats, 1)
		b.noConsoleErrors(t)
	})

	t.Run("SnippetNames", func(t *testing.T) {
		conns, err := app.Services.Connections.FindConnections(asAdmin, junction.ConnectionFilter{Project: "shop", Component: "payments"})
		require.NoError(t, err)
		var stripe *junction.Connection
		for _, c := range conns {
			if c.Name == "stripe" {
				stripe = c
			}
		}
		require.NotNil(t, stripe)
		names := map[string]string{}
		for _, p := range stripe.Parameters {
			names[p.Name] = junction.SuggestEnvName("stripe", p.Name)
		}
		names["ServiceURL"] = "STRIPE_URL"
		_, err = app.Services.Mappings.SetMappings(asAdmin, "shop", "payments", stripe.ID, names)
		require.NoError(t, err)

		b := newBrowserTab(t)
		b.signInAs(t, base, DemoDeveloperEmail, DemoPassword)
		b.run(t, chromedp.Navigate(base+"/connections/"+stripe.ID), chromedp.WaitVisible(chromedp.CSS(`[data-testid=snippet-go]`)))
		goSnippet := b.text(t, `[data-testid=snippet-go]`)
		require.Contains(t, goSnippet, `stripeURL := os.Getenv("STRIPE_URL")`)
		require.NotContains(t, goSnippet, "STRIPE_SERVICEURL")

		// identity is mapped by orders and payments: a picker chooses whose names.
		conns, err = app.Services.Connections.FindConnections(asAdmin, junction.ConnectionFilter{Project: "shop"})
		require.NoError(t, err)
		var identity *junction.Connection
		for _, c := range conns {
			if c.Name == "identity" {
				identity = c
			}
		}
		require.NotNil(t, identity)
		names = map[string]string{}
		for _, p := range identity.Parameters {
			names[p.Name] = "AUTH_" + strings.ToUpper(p.Name)
		}
		_, err = app.Services.Mappings.SetMappings(asAdmin, "shop", "payments", identity.ID, names)
		require.NoError(t, err)
		b.run(t, chromedp.Navigate(base+"/connections/"+identity.ID), chromedp.WaitVisible(chromedp.CSS(`[data-testid=usage-picker]`)))
		require.Contains(t, b.text(t, `[data-testid=snippet-go]`), `os.Getenv("IDENTITY_SERVICEURL")`, "orders' names first")
		b.run(t,
			chromedp.Click(chromedp.CSS(`[data-testid=usage-picker] a:nth-of-type(2)`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=snippet-go]`)),
		)
		require.Contains(t, b.text(t, `[data-testid=snippet-go]`), `authServiceURL := os.Getenv("AUTH_SERVICEURL")`)
		require.Contains(t, b.text(t, `[data-testid=snippet-go]`), `clientcredentials.Config{ClientID: authConsumerkey, ClientSecret: authConsumersecret, TokenURL: authTokenURL}`)
		b.noConsoleErrors(t)
	})

	t.Run("ConnectToComponent", func(t *testing.T) {
		b := newBrowserTab(t)
		b.signInAs(t, base, DemoDeveloperEmail, DemoPassword)
		b.run(t,
			chromedp.Navigate(base+"/services?q=sendgrid"),
			chromedp.Click(chromedp.CSS(`.service-name`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=connect-form]`)),
			chromedp.SetValue(chromedp.CSS(`#connect-target`), "shop/storefront"),
			chromedp.Click(chromedp.CSS(`[data-testid=connect]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=connection-form]`)),
		)
		require.Contains(t, b.location(t), "/projects/shop/components/storefront/connections/new?service=")
		b.run(t,
			chromedp.SetValue(chromedp.CSS(`#conn-name`), "storefront-mail"),
			chromedp.Click(chromedp.CSS(`[data-testid=create-connection]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=connection-id]`)),
		)
		require.Contains(t, b.text(t, `.breadcrumb`), "Storefront", "the breadcrumb names the component")
		id := b.text(t, `[data-testid=connection-id]`)
		conn, err := app.Services.Connections.FindConnection(asAdmin, id, false)
		require.NoError(t, err)
		require.Equal(t, junction.ScopeComponent, conn.Scope)
		require.Equal(t, "storefront", conn.Component)
		b.noConsoleErrors(t)
	})
}
