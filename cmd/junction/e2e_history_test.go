package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction"
)

// TestBrowserHistoryAndRestore renames a variable of the demo shop/orders, sees the change
// side by side on the variables' History tab, restores the version before it with one
// click, and reads a connection's History tab.
func TestBrowserHistoryAndRestore(t *testing.T) {
	if testing.Short() {
		t.Skip("browser tests are not short")
	}
	base, app := e2eServerWith(t, true)
	admin, err := app.Services.Users.FindUserByEmail(t.Context(), DemoAdminEmail)
	require.NoError(t, err)
	ctx := junction.NewContextWithUser(t.Context(), admin)
	before, err := app.Services.Mappings.FindMappings(ctx, "shop", "orders")
	require.NoError(t, err)
	require.NotEmpty(t, before)
	changed := before[0]
	names := map[string]string{}
	for _, m := range before {
		if m.ConnectionID == changed.ConnectionID {
			names[m.Parameter] = m.Env
		}
	}
	names[changed.Parameter] = "RENAMED_IN_TEST"
	_, err = app.Services.Mappings.SetMappings(ctx, "shop", "orders", changed.ConnectionID, names)
	require.NoError(t, err)
	versions, err := app.Services.Mappings.MappingHistory(ctx, "shop", "orders")
	require.NoError(t, err)
	previous := versions[1].Version

	b := newBrowserTab(t)
	b.signInAs(t, base, DemoAdminEmail, DemoPassword)
	b.run(t,
		chromedp.Navigate(base+"/projects/shop/components/orders/env"),
		chromedp.Click(chromedp.CSS(`[data-testid=mapping-history-tab]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=mapping-version]`)),
	)
	current := b.text(t, `[data-testid=mapping-version]:first-of-type tr.changed`)
	require.Contains(t, current, changed.Env, "the old name beside…")
	require.Contains(t, current, "RENAMED_IN_TEST", "…the new one")
	b.run(t,
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`[data-testid=restore-%d]`, previous))),
		chromedp.WaitVisible(chromedp.CSS(`.flash, [role=status], [data-testid=mapping-version]`)),
	)
	require.True(t, strings.HasSuffix(b.location(t), "/projects/shop/components/orders/env/history"), b.location(t))
	require.Contains(t, b.text(t, `[data-testid=mapping-version]:first-of-type header`), "mappings.restore")
	after, err := app.Services.Mappings.FindMappings(ctx, "shop", "orders")
	require.NoError(t, err)
	require.ElementsMatch(t, before, after, "the earlier version is current again")

	// A connection's History tab.
	b.run(t,
		chromedp.Navigate(base+"/connections/"+changed.ConnectionID),
		chromedp.Click(chromedp.CSS(`[data-testid=history-tab]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=history-entry]`)),
	)
	require.Contains(t, b.text(t, `[data-testid=history]`), "connection.create")
	b.noConsoleErrors(t)
}
