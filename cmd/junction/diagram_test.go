package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction"
	"github.com/junction-dev/junction/views"
)

// stableIDs replaces the random Connection and service IDs in out by numbers in order of
// first appearance, so that a golden file of the demo does not change with every seeding.
func stableIDs(out []byte) []byte {
	seen := map[string][]byte{}
	n := map[string]int{}
	return regexp.MustCompile(`(conn|svc)_[a-z2-7]{16,26}`).ReplaceAllFunc(out, func(id []byte) []byte {
		if s, ok := seen[string(id)]; ok {
			return s
		}
		prefix := string(id[:bytes.IndexByte(id, '_')])
		n[prefix]++
		s := []byte(prefix + "_" + string(rune('0'+n[prefix]/10)) + string(rune('0'+n[prefix]%10)))
		seen[string(id)] = s
		return s
	})
}

// TestDemoDiagramGolden compares the SVG of the demo shop's dependency diagram with
// testdata/demo-shop-diagram.svg. JUNCTION_UPDATE_GOLDEN=1 rewrites it after a deliberate
// change; look at the diagram before committing.
func TestDemoDiagramGolden(t *testing.T) {
	_, app := e2eServerWith(t, true)
	ctx := context.Background()
	admin, err := app.Services.Users.FindUserByEmail(ctx, DemoAdminEmail)
	require.NoError(t, err)
	g, err := app.Services.Projects.FindProjectGraph(junction.NewContextWithUser(ctx, admin), "shop")
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, views.DiagramSVG(views.ProjectDiagram(g), "project-diagram").Render(ctx, &buf))
	got := stableIDs(buf.Bytes())
	golden := filepath.Join("testdata", "demo-shop-diagram.svg")
	if os.Getenv("JUNCTION_UPDATE_GOLDEN") == "1" {
		require.NoError(t, os.MkdirAll("testdata", 0o755))
		require.NoError(t, os.WriteFile(golden, got, 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err, "run with JUNCTION_UPDATE_GOLDEN=1 to create it")
	require.Equal(t, string(want), string(got), "the demo diagram changed; if on purpose, update the golden file")
}

// TestBrowserProjectDiagram opens the demo shop's diagram from the project page, checks the
// nodes are there and that clicking one opens it.
func TestBrowserProjectDiagram(t *testing.T) {
	base, app := e2eServerWith(t, true)
	ctx := context.Background()
	dev, err := app.Services.Users.FindUserByEmail(ctx, DemoDeveloperEmail)
	require.NoError(t, err)
	g, err := app.Services.Projects.FindProjectGraph(junction.NewContextWithUser(ctx, dev), "shop")
	require.NoError(t, err)

	b := newBrowserTab(t)
	b.signInAs(t, base, DemoDeveloperEmail, DemoPassword)
	b.run(t,
		chromedp.Navigate(base+"/projects/shop"),
		chromedp.Click(chromedp.CSS(`[data-testid=project-diagram-link]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=project-diagram]`)),
	)
	for _, c := range g.Components {
		require.True(t, b.exists(t, `[data-testid="diagram-component-`+c.Handle+`"]`), c.Handle)
	}
	for _, c := range g.Connections {
		require.True(t, b.exists(t, `[data-testid="diagram-connection-`+c.ID+`"]`), c.Name)
	}
	for _, s := range g.Services {
		require.True(t, b.exists(t, `[data-testid="diagram-service-`+s.ID+`"]`), s.Name)
	}
	b.screenshot(t, "demo-project-diagram")
	b.noConsoleErrors(t)

	b.clickSVG(t, `[data-testid="diagram-component-orders"]`)
	b.run(t, chromedp.WaitVisible(chromedp.CSS(`[data-testid=component-handle]`)))
	require.Equal(t, "orders", b.text(t, `[data-testid=component-handle]`), "a component node opens the component")
	b.run(t, chromedp.Navigate(base+"/projects/shop/diagram"), chromedp.WaitVisible(chromedp.CSS(`[data-testid=project-diagram]`)))
	var stripe *junction.GraphConnection
	for _, c := range g.Connections {
		if c.Name == "stripe" {
			stripe = c
		}
	}
	require.NotNil(t, stripe)
	b.clickSVG(t, `[data-testid="diagram-connection-`+stripe.ID+`"]`)
	b.run(t, chromedp.WaitVisible(chromedp.CSS(`[data-testid=connection-id]`)))
	require.Equal(t, stripe.ID, b.text(t, `[data-testid=connection-id]`), "a connection node opens the connection")
}

// clickSVG clicks the middle of an SVG element with the mouse, as a person would:
// chromedp's Click waits for HTML layout boxes, which SVG elements do not have.
func (b *browserTab) clickSVG(t *testing.T, sel string) {
	t.Helper()
	box, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]float64](`(() => { const el = document.querySelector(`+jsString(sel)+`);
		el.scrollIntoView({block: "center"}); const r = el.getBoundingClientRect(); return [r.x + r.width/2, r.y + r.height/2]; })()`))
	require.NoError(t, err)
	b.run(t, chromedp.MouseClickXY(box[0], box[1]))
}
