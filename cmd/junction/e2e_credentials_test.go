package main

import (
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// TestBrowserDatabaseCredentials chooses the demo orders-db's readonly credential for
// development on the connection form, sees it on the connection page and on the database's
// page among the users of that credential, and adds a credential with the edit form's htmx
// rows.
func TestBrowserDatabaseCredentials(t *testing.T) {
	if testing.Short() {
		t.Skip("browser tests are not short")
	}
	base, _ := e2eServerWith(t, true)
	var connectionURL string

	t.Run("ChooseReadonlyForDevelopment", func(t *testing.T) {
		b := newBrowserTab(t)
		b.signInAs(t, base, DemoDeveloperEmail, DemoPassword)
		b.run(t,
			chromedp.Navigate(base+"/services?q=orders-db"),
			chromedp.Click(chromedp.CSS(`.service-name`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=connect-form]`)),
			chromedp.SetValue(chromedp.CSS(`#connect-target`), "shop"),
			chromedp.Click(chromedp.CSS(`[data-testid=connect]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=credentials-choices]`)),
		)
		// Every environment's choice is on the form at once, the default one selected.
		for _, env := range []string{"development", "production"} {
			got, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.querySelector('[data-testid=credentials-`+env+`]').value`))
			require.NoError(t, err)
			require.Equal(t, "default", got, env)
		}
		b.run(t,
			chromedp.SetValue(chromedp.CSS(`#conn-name`), "order-reports"),
			chromedp.SetValue(chromedp.CSS(`[data-testid=credentials-development]`), "readonly"),
			chromedp.Click(chromedp.CSS(`[data-testid=create-connection]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=connection-credentials]`)),
		)
		connectionURL = b.location(t)
		require.Equal(t, "readonly", b.text(t, `[data-testid=credential-development]`))
		require.Equal(t, "default", b.text(t, `[data-testid=credential-production]`))
		require.Equal(t, "orders_readonly", b.text(t, `[data-testid=param-Username-development]`))
		require.Equal(t, "orders_app", b.text(t, `[data-testid=param-Username-production]`))
		require.Equal(t, "********", b.text(t, `[data-testid=param-Password-development]`))
		b.noConsoleErrors(t)
	})

	t.Run("ViewerSeesChoiceNotPassword", func(t *testing.T) {
		require.NotEmpty(t, connectionURL)
		b := newBrowserTab(t)
		b.signInAs(t, base, DemoViewerEmail, DemoPassword)
		b.run(t, chromedp.Navigate(connectionURL), chromedp.WaitVisible(chromedp.CSS(`[data-testid=connection-credentials]`)))
		require.Equal(t, "readonly", b.text(t, `[data-testid=credential-development]`))
		require.False(t, b.exists(t, `[data-testid=connection-edit-form]`), "no settings for viewers")
		html, err := chromedp.Run(b.ctx, chromedp.OuterHTML(chromedp.CSS(`html`)))
		require.NoError(t, err)
		require.NotContains(t, html, "demo-development-readonly-password")
		b.noConsoleErrors(t)
	})

	t.Run("ServicePageAndEditForm", func(t *testing.T) {
		b := newBrowserTab(t)
		b.signInAs(t, base, DemoAdminEmail, DemoPassword)
		b.run(t,
			chromedp.Navigate(base+"/services?q=orders-db"),
			chromedp.Click(chromedp.CSS(`.service-name`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=credential-table]`)),
		)
		users := b.text(t, `[data-testid=credential-users-development-readonly]`)
		require.Contains(t, users, "order-reports", "the connection just made")
		require.Contains(t, users, "orders-readonly", "the analytics project's demo connection")
		require.Contains(t, b.text(t, `[data-testid=credential-users-production-readonly]`), "orders-readonly")
		require.NotContains(t, b.text(t, `[data-testid=credential-users-production-readonly]`), "order-reports")

		b.run(t,
			chromedp.Click(chromedp.CSS(`[data-testid=edit-service]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=database-form]`)),
		)
		b.markPage(t)
		b.run(t,
			chromedp.Click(chromedp.CSS(`[data-testid=add-credential-production]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=credential-production-1]`)),
		)
		require.True(t, b.samePage(t), "htmx adds the row in place")
		focused, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.activeElement?.name || ""`))
		require.NoError(t, err)
		require.Equal(t, "credentials.production[1].name", focused, "the new row's name has the focus")
		b.run(t,
			chromedp.SendKeys(chromedp.CSS(`[data-testid=credential-production-1] input[name$=".name"]`), "migrations"),
			chromedp.SendKeys(chromedp.CSS(`[data-testid=credential-production-1] input[name$=".Username"]`), "orders_owner"),
			chromedp.SendKeys(chromedp.CSS(`[data-testid=credential-production-1] input[name$=".Password"]`), "owner-password"),
			chromedp.Click(chromedp.CSS(`[data-testid=save-service]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=credential-production-migrations]`)),
		)
		require.Equal(t, "orders_owner", b.text(t, `[data-testid=value-production-migrations-Username]`))
		require.Equal(t, "********", b.text(t, `[data-testid=value-production-migrations-Password]`))
		require.Equal(t, "********", b.text(t, `[data-testid=value-production-readonly-Password]`), "the other passwords were kept")

		// Removing a credential in use is refused on the form, saying who uses it.
		b.run(t,
			chromedp.Click(chromedp.CSS(`[data-testid=edit-service]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=database-form]`)),
			chromedp.Click(chromedp.CSS(`[data-testid=remove-credential-development-0]`)),
			chromedp.WaitNotPresent(chromedp.CSS(`[data-testid=credential-development-0]`)),
			chromedp.Click(chromedp.CSS(`[data-testid=save-service]`)),
		)
		b.waitText(t, `[data-testid=database-form] [role=alert]`, "order-reports")
		b.waitText(t, `[data-testid=database-form] [role=alert]`, "move them to another credential first")
		b.noConsoleErrors(t)
	})
}
