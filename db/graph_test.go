package db_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction"
	"github.com/junction-dev/junction/db"
)

func TestProjectService_FindProjectGraph(t *testing.T) {
	f := newMapFixture(t)
	projects := db.NewProjectService(f.store)
	f.set(t, f.developer, "shop", "orders", f.twilio, names(f.twilio, "TW"))
	f.set(t, f.developer, "shop", "inventory", f.twilio, names(f.twilio, "TW"))
	f.set(t, f.developer, "shop", "orders", f.pg, names(f.pg, "PG"))

	g, err := projects.FindProjectGraph(ContextAs(t, f.developer), "shop")
	require.NoError(t, err)
	require.Equal(t, "shop", g.Project.Handle)
	var components []string
	for _, c := range g.Components {
		components = append(components, c.Handle)
	}
	require.Equal(t, []string{"inventory", "orders"}, components)

	byName := map[string]*junction.GraphConnection{}
	for _, c := range g.Connections {
		byName[c.Name] = c
	}
	require.Len(t, g.Connections, 5, "the project's connections and its components', none of billing's")
	require.Equal(t, &junction.GraphConnection{ID: f.twilio.ID, Name: "twilio", Scope: junction.ScopeProject, ServiceID: f.twilio.Service.ID,
		MappedBy: []string{"inventory", "orders"}}, byName["twilio"], "a project connection once, with every component that maps it")
	require.Equal(t, &junction.GraphConnection{ID: f.pg.ID, Name: "orders-db", Scope: junction.ScopeComponent, Component: "orders",
		ServiceID: f.pg.Service.ID, MappedBy: []string{"orders"}}, byName["orders-db"])
	require.Empty(t, byName["sms"].MappedBy)
	require.Equal(t, "inventory", byName["sms"].Component)

	kinds := map[junction.ServiceKind]int{}
	for _, s := range g.Services {
		kinds[s.Kind]++
		require.Equal(t, s, g.Service(s.ID))
	}
	require.Equal(t, map[junction.ServiceKind]int{junction.KindThirdParty: 2, junction.KindDatabase: 1, junction.KindInternal: 1}, kinds)
	stock := g.Service(f.stock.Service.ID)
	require.Equal(t, "shop", stock.Project)
	require.Equal(t, "inventory", stock.Component, "an internal service names its publisher")

	_, err = projects.FindProjectGraph(ContextAs(t, f.otherDev), "shop")
	require.Equal(t, junction.ENOTFOUND, junction.ErrorCode(err), "non-members do not see the project")
}
