package db_test

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction"
	"github.com/junction-dev/junction/db"
)

// TestConcurrentConnectionsAndMappings has 50 writers at once create connections and save
// mappings on one component. Every acknowledged write must be there afterwards, no caller may
// see "database is locked", and the component keeps exactly one OAuth application.
func TestConcurrentConnectionsAndMappings(t *testing.T) {
	f := newConnFixture(t)
	mappings := db.NewMappingService(f.store, f.conns)
	oauth := f.mustCreateService(t, f.developer, internalService("shop", "inventory", "Stock API", junction.VisibilityOrganization))
	ctx := ContextAs(t, f.developer)

	writers := 50
	if os.Getenv("JUNCTION_SOAK") != "" {
		writers = 300
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	acknowledged := map[string]string{} // connection ID -> variable prefix
	var failures []error
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn := &junction.Connection{Name: fmt.Sprintf("stock-%02d", i), Project: "shop", Component: "orders", Service: junction.ServiceRef{ID: oauth.ID}}
			err := f.conns.CreateConnection(ctx, conn)
			if err == nil {
				prefix := fmt.Sprintf("S%02d", i)
				names := map[string]string{}
				for _, p := range conn.Parameters {
					names[p.Name] = prefix + "_" + strings.ToUpper(p.Name)
				}
				_, err = mappings.SetMappings(ctx, "shop", "orders", conn.ID, names)
				if err == nil {
					mu.Lock()
					acknowledged[conn.ID] = prefix
					mu.Unlock()
					return
				}
			}
			mu.Lock()
			failures = append(failures, err)
			mu.Unlock()
		}()
	}
	wg.Wait()
	for _, err := range failures {
		require.NotContains(t, err.Error(), "locked")
		require.NotContains(t, err.Error(), "busy")
	}
	require.Empty(t, failures, "every writer succeeds")
	require.Len(t, acknowledged, writers)

	saved, err := mappings.FindMappings(ctx, "shop", "orders")
	require.NoError(t, err)
	got := map[string]int{}
	for _, m := range saved {
		got[m.ConnectionID]++
		require.True(t, strings.HasPrefix(m.Env, acknowledged[m.ConnectionID]+"_"), "%v", m)
	}
	for id := range acknowledged {
		require.Equal(t, 4, got[id], "all four parameters of %s are mapped", id)
	}
	require.Equal(t, 1, countRows(t, f.store, `SELECT COUNT(*) FROM oauth_apps WHERE component_id IS NOT NULL`),
		"the component's connections share one OAuth application")
	var keys int
	require.NoError(t, f.store.ReadPool().QueryRow(`SELECT COUNT(DISTINCT client_id) FROM oauth_credentials`).Scan(&keys))
	require.Equal(t, 2, keys, "one client per environment")
}
