package views

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction"
)

// bigGraph is a project of n components and m connections: a shared project connection for
// every fifth, the rest owned by a component, over services of every kind.
func bigGraph(n, m int) *junction.ProjectGraph {
	g := &junction.ProjectGraph{Project: &junction.Project{Handle: "big", Name: "Big project"}}
	for i := range n {
		g.Components = append(g.Components, &junction.Component{Handle: fmt.Sprintf("c%02d", i), Name: fmt.Sprintf("Component %02d with a long descriptive name", i), Type: junction.ComponentTypeService})
	}
	kinds := []junction.ServiceKind{junction.KindInternal, junction.KindThirdParty, junction.KindDatabase}
	for i := range 40 {
		s := &junction.GraphService{ID: fmt.Sprintf("svc_%02d", i), Name: fmt.Sprintf("Service %02d", i), Kind: kinds[i%3], Version: "v1"}
		if s.Kind == junction.KindInternal {
			s.Project, s.Component = "big", fmt.Sprintf("c%02d", (i*7)%n)
		}
		g.Services = append(g.Services, s)
	}
	for i := range m {
		c := &junction.GraphConnection{ID: fmt.Sprintf("conn_%03d", i), Name: fmt.Sprintf("connection-%03d", i), ServiceID: fmt.Sprintf("svc_%02d", (i*13)%40)}
		if i%5 == 0 {
			c.Scope = junction.ScopeProject
			c.MappedBy = []string{fmt.Sprintf("c%02d", i%n), fmt.Sprintf("c%02d", (i+3)%n)}
		} else {
			c.Scope, c.Component = junction.ScopeComponent, fmt.Sprintf("c%02d", i%n)
			if i%2 == 0 {
				c.MappedBy = []string{c.Component}
			}
		}
		g.Connections = append(g.Connections, c)
	}
	return g
}

func overlaps(a, b DiagramNode) bool {
	return a.X < b.X+b.W && b.X < a.X+a.W && a.Y < b.Y+b.H && b.Y < a.Y+a.H
}

// crossings counts pairs of edges between the same two columns whose ends are in opposite
// orders.
func crossings(d Diagram) int {
	type seg struct{ x1, y1, x2, y2 int }
	var segs []seg
	for _, e := range d.Edges {
		var s seg
		if _, err := fmt.Sscanf(e.Path, "M%d %d C", &s.x1, &s.y1); err != nil {
			continue // a back edge
		}
		f := strings.Fields(e.Path)
		fmt.Sscanf(f[len(f)-2]+" "+f[len(f)-1], "%d %d", &s.x2, &s.y2)
		segs = append(segs, s)
	}
	n := 0
	for i := range segs {
		for j := i + 1; j < len(segs); j++ {
			a, b := segs[i], segs[j]
			if a.x1 == b.x1 && (a.y1-b.y1)*(a.y2-b.y2) < 0 {
				n++
			}
		}
	}
	return n
}

func TestProjectDiagramLayout(t *testing.T) {
	g := bigGraph(30, 100)
	d := ProjectDiagram(g)

	t.Run("EveryNodeOnceAndInside", func(t *testing.T) {
		require.Len(t, d.Nodes, 30+100+40, "each component, connection and service once")
		ids := map[string]bool{}
		for _, n := range d.Nodes {
			require.False(t, ids[n.TestID], "%s drawn twice", n.TestID)
			ids[n.TestID] = true
			require.GreaterOrEqual(t, n.X, 0)
			require.LessOrEqual(t, n.X+n.W, d.Width, n.TestID)
			require.LessOrEqual(t, n.Y+n.H, d.Height, n.TestID)
		}
	})
	t.Run("NoOverlaps", func(t *testing.T) {
		for i, a := range d.Nodes {
			for _, b := range d.Nodes[i+1:] {
				require.False(t, overlaps(a, b), "%s overlaps %s", a.TestID, b.TestID)
			}
		}
	})
	t.Run("LegibleLabels", func(t *testing.T) {
		for _, n := range d.Nodes {
			require.LessOrEqual(t, float64(len([]rune(n.Label)))*charWidth, float64(n.W-14), "%q fits its box", n.Label)
			require.NotEmpty(t, n.Title)
		}
		// Nodes keep their size however large the project is: the drawing grows instead.
		require.Equal(t, nodeHeight, d.Nodes[0].H)
		require.Greater(t, d.Height, 100*nodeHeight)
	})
	t.Run("Edges", func(t *testing.T) {
		want := 0
		for _, c := range g.Connections {
			want++ // to its service
			if c.Scope == junction.ScopeComponent {
				want++ // from its owner
			} else {
				want += len(c.MappedBy)
			}
		}
		publishes := 0
		for _, s := range g.Services {
			if s.Kind == junction.KindInternal {
				publishes++
			}
		}
		byClass := map[string]int{}
		for _, e := range d.Edges {
			byClass[e.Class]++
		}
		require.Equal(t, want, byClass["uses"]+byClass["unused"])
		require.Equal(t, publishes, byClass["publishes"])
	})
	t.Run("OrderingRemovesCrossings", func(t *testing.T) {
		// The same graph laid out without the barycenter sweeps.
		unordered := func() Diagram {
			saved := sweeps
			sweeps = 0
			defer func() { sweeps = saved }()
			return ProjectDiagram(bigGraph(30, 100))
		}()
		before, after := crossings(unordered), crossings(d)
		t.Logf("edge crossings: %d unordered, %d ordered", before, after)
		require.Less(t, after, before*3/4, "ordering removes at least a quarter of the crossings")
	})
	t.Run("Deterministic", func(t *testing.T) {
		require.Equal(t, d, ProjectDiagram(bigGraph(30, 100)))
	})
}

func TestDiagramSVGEscapesAndParses(t *testing.T) {
	g := &junction.ProjectGraph{Project: &junction.Project{Handle: "p", Name: `<script>alert("x")</script>`},
		Components:  []*junction.Component{{Handle: "web", Name: `Web & "friends" <b>`, Type: junction.ComponentTypeWebApp}},
		Connections: []*junction.GraphConnection{{ID: "conn_a", Name: "api", Scope: junction.ScopeComponent, Component: "web", ServiceID: "svc_a", MappedBy: []string{"web"}}},
		Services:    []*junction.GraphService{{ID: "svc_a", Name: "A </svg> API", Kind: junction.KindThirdParty, Version: "v1"}},
	}
	var buf bytes.Buffer
	require.NoError(t, DiagramSVG(ProjectDiagram(g), "project-diagram").Render(context.Background(), &buf))
	out := buf.String()
	require.NotContains(t, out, "<script>")
	require.NotContains(t, out, "<b>")
	require.Contains(t, out, `href="/projects/p/components/web"`)
	require.Contains(t, out, `href="/connections/conn_a"`)
	require.Contains(t, out, `href="/services/svc_a"`)
	// The SVG is well-formed XML, so it also works as a standalone file.
	dec := xml.NewDecoder(strings.NewReader(out))
	for {
		_, err := dec.Token()
		if err != nil {
			require.Equal(t, "EOF", err.Error())
			break
		}
	}
}

func TestConsumersDiagram(t *testing.T) {
	svc := &junction.Service{ID: "svc_x", Kind: junction.KindDatabase, Name: "orders-db", Engine: "postgres"}
	d := ConsumersDiagram(svc, []*junction.Consumer{
		{ConnectionID: "conn_1", Connection: "orders-db", Scope: junction.ScopeProject, Project: "shop", MappedBy: []string{"shop/api", "shop/worker"}},
		{ConnectionID: "conn_2", Connection: "reporting", Scope: junction.ScopeComponent, Project: "analytics", Component: "etl"},
	})
	var ids []string
	for _, n := range d.Nodes {
		ids = append(ids, n.TestID)
	}
	require.ElementsMatch(t, []string{"consumers-project-shop", "consumers-component-shop-api", "consumers-component-shop-worker",
		"consumers-component-analytics-etl", "consumers-connection-conn_1", "consumers-connection-conn_2", "consumers-service"}, ids)
	byClass := map[string]int{}
	for _, e := range d.Edges {
		byClass[e.Class]++
	}
	// shop → conn_1 (may use), api and worker → conn_1 (map it), etl → conn_2 (owns, maps
	// nothing), and both connections → the service.
	require.Equal(t, map[string]int{"uses": 4, "unused": 2}, byClass)
}
