package views

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/junction-dev/junction"
)

// Diagrams are laid out here and drawn as SVG by diagram.templ, so they need no JavaScript.
// The layout is a small layered one, written for these graphs rather than taken from a
// general graph library: nodes sit in fixed columns (components, connections, services),
// edges only join neighbouring columns, and the order inside each column is chosen by a few
// barycenter sweeps, which removes most crossings of graphs this shape. A general library
// (Graphviz's dot through a C binding, or a Go port) would add a dependency and still need
// this project's grouping rules on top.

// Diagram is a laid-out graph, in SVG user units (pixels at 100%).
type Diagram struct {
	Width, Height int
	// Label describes the diagram to screen readers.
	Label    string
	Headings []DiagramHeading
	Groups   []DiagramGroup
	Edges    []DiagramEdge
	Nodes    []DiagramNode
}

// DiagramHeading names a column.
type DiagramHeading struct {
	X     int
	Label string
}

// DiagramGroup is a labelled box around nodes (a project cell) or a label over a run of
// nodes in a column (a kind of service).
type DiagramGroup struct {
	X, Y, W, H int
	Label      string
	// Box draws the outline; without it only the label shows.
	Box bool
}

// DiagramNode is a clickable box with a label and a smaller second line.
type DiagramNode struct {
	X, Y, W, H int
	Label, Sub string
	// Title is the full text, shown on hover when the label is cut short.
	Title  string
	Href   string
	Kind   string // CSS modifier: component, connection, internal, third-party, database, project
	TestID string
}

// DiagramEdge is a path between two nodes.
type DiagramEdge struct {
	Path  string
	Class string // "uses", "unused" or "publishes"
}

const (
	nodeHeight  = 46
	nodeGap     = 10
	groupGap    = 18
	groupLabelH = 22
	columnGap   = 110
	marginX     = 40
	headingH    = 34
	cellPad     = 16
	cellLabelH  = 16 // room for the project cell's name above the first nodes
	laneStep    = 9
	charWidth   = 7.4 // of the 13px label font, for cutting labels to fit
)

// layoutNode is a node while the layout is computed.
type layoutNode struct {
	key   string
	group string
	node  DiagramNode
	pos   float64 // order within the column
}

// layoutColumn is one column of nodes, in groups shown in the given order.
type layoutColumn struct {
	heading string
	width   int
	groups  []string
	labels  map[string]string // group -> label shown above it; none for ""
	nodes   []*layoutNode
}

type layoutEdge struct {
	from, to string
	class    string
}

// layered places columns of nodes left to right and orders each column's groups by the
// barycenter of their neighbours, then draws edges between neighbouring columns as curves.
// Back edges (from a later column to an earlier one) go around the outside of the diagram.
type layered struct {
	columns []*layoutColumn
	edges   []layoutEdge
	back    []layoutEdge
	byKey   map[string]*layoutNode
	column  map[string]int
}

func newLayered(columns ...*layoutColumn) *layered {
	l := &layered{columns: columns, byKey: map[string]*layoutNode{}, column: map[string]int{}}
	for i, c := range columns {
		for j, n := range c.nodes {
			n.pos = float64(j)
			l.byKey[n.key] = n
			l.column[n.key] = i
		}
	}
	return l
}

func (l *layered) connect(from, to, class string) {
	if l.byKey[from] == nil || l.byKey[to] == nil {
		return
	}
	e := layoutEdge{from, to, class}
	if l.column[to] == l.column[from]+1 {
		l.edges = append(l.edges, e)
	} else {
		l.back = append(l.back, e)
	}
}

// sweeps is how many times order runs down and up the columns; three settle graphs of this
// shape. Tests set it to 0 to compare with the unordered layout.
var sweeps = 3

// order runs barycenter sweeps down and up the columns. Within a group, a node without
// neighbours in the reference column keeps its place relative to the others.
func (l *layered) order() {
	neighbours := func(key string, col int) []*layoutNode {
		var out []*layoutNode
		for _, e := range l.edges {
			if e.to == key && l.column[e.from] == col {
				out = append(out, l.byKey[e.from])
			} else if e.from == key && l.column[e.to] == col {
				out = append(out, l.byKey[e.to])
			}
		}
		return out
	}
	sweep := func(col, ref int) {
		c := l.columns[col]
		bary := map[*layoutNode]float64{}
		for _, n := range c.nodes {
			bary[n] = n.pos
			if ns := neighbours(n.key, ref); len(ns) > 0 {
				sum := 0.0
				for _, m := range ns {
					sum += m.pos
				}
				bary[n] = sum / float64(len(ns))
			}
		}
		groupRank := map[string]int{}
		for i, g := range c.groups {
			groupRank[g] = i
		}
		sort.SliceStable(c.nodes, func(i, j int) bool {
			a, b := c.nodes[i], c.nodes[j]
			if groupRank[a.group] != groupRank[b.group] {
				return groupRank[a.group] < groupRank[b.group]
			}
			return bary[a] < bary[b]
		})
		for i, n := range c.nodes {
			n.pos = float64(i)
		}
	}
	for range sweeps {
		for col := 1; col < len(l.columns); col++ {
			sweep(col, col-1)
		}
		for col := len(l.columns) - 2; col >= 0; col-- {
			sweep(col, col+1)
		}
	}
}

// gapBefore is the space above the j-th node of a column: a node gap, or a group gap and
// the group's label when a group starts there.
func (c *layoutColumn) gapBefore(j int) int {
	gap := 0
	if j == 0 || c.nodes[j].group != c.nodes[j-1].group {
		if j > 0 {
			gap = groupGap
		}
		if c.labels[c.nodes[j].group] != "" {
			gap += groupLabelH
		}
	} else {
		gap = nodeGap
	}
	return gap
}

// stackHeight is the height of the column's nodes packed together.
func (c *layoutColumn) stackHeight() int {
	h := 0
	for j := range c.nodes {
		h += c.gapBefore(j) + nodeHeight
	}
	return h
}

// place computes coordinates and draws the edges. The tallest column is packed; every other
// column puts each node level with the middle of its neighbours where it can, keeping the
// order and the gaps, so that short columns sit beside what they connect to instead of in
// the middle of a long drawing.
func (l *layered) place(label string) Diagram {
	d := Diagram{Label: label}
	lanes := len(l.back)
	left := marginX + lanes*laneStep
	top := headingH + cellPad + cellLabelH
	tallest, height := 0, 0
	for i, c := range l.columns {
		if h := c.stackHeight(); h > height {
			tallest, height = i, h
		}
	}
	x := left
	for _, c := range l.columns {
		for _, n := range c.nodes {
			n.node.X, n.node.W, n.node.H = x, c.width, nodeHeight
		}
		x += c.width + columnGap
	}
	placed := map[int]bool{}
	pack := func(i int) {
		c := l.columns[i]
		y := top + (height-c.stackHeight())/2
		for j, n := range c.nodes {
			y += c.gapBefore(j)
			n.node.Y = y
			y += nodeHeight
		}
		placed[i] = true
	}
	align := func(i int) {
		c := l.columns[i]
		want := make([]int, len(c.nodes))
		for j, n := range c.nodes {
			sum, count := 0, 0
			for _, e := range l.edges {
				other := ""
				if e.from == n.key {
					other = e.to
				} else if e.to == n.key {
					other = e.from
				}
				if other != "" && placed[l.column[other]] {
					sum += l.byKey[other].node.Y
					count++
				}
			}
			want[j] = -1
			if count > 0 {
				want[j] = sum / count
			}
		}
		// Downwards: each node at its wish or just below the one above. Nodes without a wish
		// follow the one above.
		y := top
		for j, n := range c.nodes {
			y += c.gapBefore(j)
			if want[j] > y {
				y = want[j]
			}
			n.node.Y = y
			y += nodeHeight
		}
		// Upwards: what ran past the bottom moves up, as far as the gaps allow.
		limit := top + height
		for j := len(c.nodes) - 1; j >= 0; j-- {
			n := c.nodes[j]
			if n.node.Y+nodeHeight > limit {
				n.node.Y = limit - nodeHeight
			}
			limit = n.node.Y - c.gapBefore(j)
		}
		placed[i] = true
	}
	pack(tallest)
	for dist := 1; dist < len(l.columns); dist++ {
		for _, i := range []int{tallest - dist, tallest + dist} {
			if i >= 0 && i < len(l.columns) {
				align(i)
			}
		}
	}
	for i, c := range l.columns {
		d.Headings = append(d.Headings, DiagramHeading{X: c.nodesX(l, i) + c.width/2, Label: c.heading})
		for j, n := range c.nodes {
			if lbl := c.labels[n.group]; lbl != "" && (j == 0 || n.group != c.nodes[j-1].group) {
				d.Groups = append(d.Groups, DiagramGroup{X: n.node.X, Y: n.node.Y - groupLabelH, W: c.width, H: groupLabelH, Label: lbl})
			}
			fitNode(&n.node)
			d.Nodes = append(d.Nodes, n.node)
		}
	}
	d.Width = x - columnGap + marginX + lanes*laneStep
	d.Height = top + height + cellPad + lanes*laneStep + 8

	for _, e := range l.edges {
		a, b := l.byKey[e.from].node, l.byKey[e.to].node
		x1, y1 := a.X+a.W, a.Y+a.H/2
		x2, y2 := b.X, b.Y+b.H/2
		dx := (x2 - x1) / 2
		d.Edges = append(d.Edges, DiagramEdge{Class: e.class,
			Path: fmt.Sprintf("M%d %d C%d %d %d %d %d %d", x1, y1, x1+dx, y1, x2-dx, y2, x2, y2)})
	}
	// Back edges leave the later node on its right, run down the right margin, along the
	// bottom and up the left margin, and enter the earlier node on its left: around the
	// drawing, so they never cross a node. Each has its own lane.
	for i, e := range l.back {
		a, b := l.byKey[e.from].node, l.byKey[e.to].node
		off := (i + 1) * laneStep
		right, bottom, leftX := d.Width-marginX-lanes*laneStep+off, top+height+cellPad+off, left-off
		d.Edges = append(d.Edges, DiagramEdge{Class: e.class,
			Path: fmt.Sprintf("M%d %d H%d V%d H%d V%d H%d", a.X+a.W, a.Y+a.H/2+4, right, bottom, leftX, b.Y+b.H/2+4, b.X)})
	}
	return d
}

// nodesX is the left edge of column i.
func (c *layoutColumn) nodesX(l *layered, i int) int {
	x := marginX + len(l.back)*laneStep
	for _, prev := range l.columns[:i] {
		x += prev.width + columnGap
	}
	return x
}

// fitNode cuts the label and second line to the node's width, keeping the full text as
// its title.
func fitNode(n *DiagramNode) {
	limit := int(float64(n.W-20) / charWidth)
	full := n.Label
	if n.Sub != "" {
		full += " — " + n.Sub
	}
	if n.Title == "" {
		n.Title = full
	}
	n.Label = cut(n.Label, limit)
	n.Sub = cut(n.Sub, int(float64(limit)*1.15))
}

func cut(s string, limit int) string {
	if utf8.RuneCountInString(s) <= limit || limit < 2 {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:limit-1])) + "…"
}

// kindGroups orders services by kind in the diagrams.
var kindGroups = []string{string(junction.KindInternal), string(junction.KindThirdParty), string(junction.KindDatabase)}

var kindLabels = map[string]string{
	string(junction.KindInternal): "Internal APIs", string(junction.KindThirdParty): "Third-party APIs", string(junction.KindDatabase): "Databases",
}

func serviceSub(s *junction.GraphService) string {
	var parts []string
	switch s.Kind {
	case junction.KindInternal:
		parts = append(parts, "by "+s.Project+"/"+s.Component)
	case junction.KindDatabase:
		parts = append(parts, s.Engine)
	}
	if s.Version != "" {
		parts = append(parts, s.Version)
	}
	if s.Unlisted {
		parts = append(parts, "removed from catalog")
	}
	return strings.Join(parts, " · ")
}

// ProjectDiagram lays out a project's dependency diagram (Choreo's cell diagram): its
// components inside the project's cell, the connections they use — a project connection
// once, joined to every component that maps it — and the services behind them, grouped by
// kind. An internal service published by one of the project's own components is joined back
// to that component.
func ProjectDiagram(g *junction.ProjectGraph) Diagram {
	p := g.Project.Handle
	comps := &layoutColumn{heading: "Components", width: 200, groups: []string{""}}
	for _, c := range g.Components {
		comps.nodes = append(comps.nodes, &layoutNode{key: "k:" + c.Handle, node: DiagramNode{
			Label: c.Name, Sub: string(c.Type), Kind: "component",
			Href: "/projects/" + url.PathEscape(p) + "/components/" + url.PathEscape(c.Handle), TestID: "diagram-component-" + c.Handle}})
	}
	conns := &layoutColumn{heading: "Connections", width: 210, groups: []string{"project", "component"},
		labels: map[string]string{"project": "Shared by the project", "component": "Of one component"}}
	names := map[string]string{}
	for _, c := range g.Components {
		names[c.Handle] = c.Name
	}
	for _, c := range g.Connections {
		sub := ""
		switch {
		case c.Scope == junction.ScopeComponent:
			sub = "of " + names[c.Component]
		case len(c.MappedBy) == 0:
			sub = "not mapped yet"
		default:
			sub = "used by " + plural(len(c.MappedBy), "component", "components")
		}
		conns.nodes = append(conns.nodes, &layoutNode{key: "c:" + c.ID, group: string(c.Scope), node: DiagramNode{
			Label: c.Name, Sub: sub, Kind: "connection", Href: "/connections/" + url.PathEscape(c.ID), TestID: "diagram-connection-" + c.ID}})
	}
	svcs := &layoutColumn{heading: "Services", width: 240, groups: kindGroups, labels: kindLabels}
	for _, s := range g.Services {
		svcs.nodes = append(svcs.nodes, &layoutNode{key: "s:" + s.ID, group: string(s.Kind), node: DiagramNode{
			Label: s.Name, Sub: serviceSub(s), Kind: string(s.Kind), Href: "/services/" + url.PathEscape(s.ID), TestID: "diagram-service-" + s.ID}})
	}
	l := newLayered(comps, conns, svcs)
	for _, c := range g.Connections {
		if c.Scope == junction.ScopeComponent {
			class := "unused"
			if len(c.MappedBy) > 0 {
				class = "uses"
			}
			l.connect("k:"+c.Component, "c:"+c.ID, class)
		}
		for _, k := range c.MappedBy {
			if c.Scope == junction.ScopeProject {
				l.connect("k:"+k, "c:"+c.ID, "uses")
			}
		}
		l.connect("c:"+c.ID, "s:"+c.ServiceID, "uses")
	}
	for _, s := range g.Services {
		if s.Kind == junction.KindInternal && s.Project == p {
			l.connect("s:"+s.ID, "k:"+s.Component, "publishes")
		}
	}
	l.order()
	d := l.place("Dependency diagram of project " + g.Project.Name)
	// The project's cell holds its components and their connections.
	if len(comps.nodes)+len(conns.nodes) > 0 {
		left := marginX + len(l.back)*laneStep - cellPad
		right := left + cellPad + comps.width + columnGap + conns.width + cellPad
		d.Groups = append([]DiagramGroup{{X: left, Y: headingH, W: right - left, H: d.Height - headingH - len(l.back)*laneStep - 8,
			Label: g.Project.Name, Box: true}}, d.Groups...)
	}
	return d
}

// ConsumersDiagram lays out who depends on a service: the consuming projects and
// components, the connections they use, and the service.
func ConsumersDiagram(svc *junction.Service, consumers []*junction.Consumer) Diagram {
	who := &layoutColumn{heading: "Consumers", width: 220, labels: map[string]string{}}
	conns := &layoutColumn{heading: "Connections", width: 210}
	target := &layoutColumn{heading: "Service", width: 240, groups: []string{""}}
	sub := svc.Version
	if svc.Kind == junction.KindDatabase {
		sub = svc.Engine
	}
	target.nodes = []*layoutNode{{key: "s", node: DiagramNode{Label: svc.DisplayName(), Sub: sub, Kind: string(svc.Kind),
		Href: "/services/" + url.PathEscape(svc.ID), TestID: "consumers-service"}}}
	seen := map[string]bool{}
	add := func(key, project string, n DiagramNode) {
		if seen[key] {
			return
		}
		seen[key] = true
		if _, ok := who.labels[project]; !ok {
			who.groups = append(who.groups, project)
			who.labels[project] = "Project " + project
		}
		who.nodes = append(who.nodes, &layoutNode{key: key, group: project, node: n})
	}
	conns.groups = []string{""}
	type link struct{ from, to, class string }
	var links []link
	for _, c := range consumers {
		pURL := "/projects/" + url.PathEscape(c.Project)
		conns.nodes = append(conns.nodes, &layoutNode{key: "c:" + c.ConnectionID, node: DiagramNode{Label: c.Connection,
			Sub: string(c.Scope) + " connection", Kind: "connection", Href: "/connections/" + url.PathEscape(c.ConnectionID), TestID: "consumers-connection-" + c.ConnectionID}})
		links = append(links, link{"c:" + c.ConnectionID, "s", "uses"})
		if c.Scope == junction.ScopeProject {
			add("p:"+c.Project, c.Project, DiagramNode{Label: c.Project, Sub: "every component may use it", Kind: "project", Href: pURL, TestID: "consumers-project-" + c.Project})
			links = append(links, link{"p:" + c.Project, "c:" + c.ConnectionID, "unused"})
		}
		// MappedBy names "project/component"; a component maps only connections of its project.
		mapping := map[string]bool{}
		for _, pk := range c.MappedBy {
			_, k, _ := strings.Cut(pk, "/")
			mapping[k] = true
		}
		owner := maps.Clone(mapping)
		if c.Scope == junction.ScopeComponent {
			owner[c.Component] = true
		}
		for _, k := range slices.Sorted(maps.Keys(owner)) {
			key := "k:" + c.Project + "/" + k
			add(key, c.Project, DiagramNode{Label: k, Sub: "component", Kind: "component", Href: pURL + "/components/" + url.PathEscape(k), TestID: "consumers-component-" + c.Project + "-" + k})
			class := "unused"
			if mapping[k] {
				class = "uses"
			}
			links = append(links, link{key, "c:" + c.ConnectionID, class})
		}
	}
	sort.SliceStable(who.groups, func(i, j int) bool { return who.groups[i] < who.groups[j] })
	l := newLayered(who, conns, target)
	for _, k := range links {
		l.connect(k.from, k.to, k.class)
	}
	l.order()
	return l.place("Consumers of " + svc.DisplayName())
}
