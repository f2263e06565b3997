package db_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction"
	"github.com/junction-dev/junction/db"
)

// TestRuntimeEnvCacheFollowsChanges checks that the cached runtime environment never serves
// stale values: a renamed variable, a rotated key and a revoked token show at once.
func TestRuntimeEnvCacheFollowsChanges(t *testing.T) {
	f := newConnFixture(t)
	mappings := db.NewMappingService(f.store, f.conns)
	keyed := f.mustCreateService(t, f.developer, withSecurity(internalService("shop", "inventory", "Keyed API", junction.VisibilityOrganization), junction.SecurityAPIKey))
	conn := f.connect(t, f.developer, "shop", "inventory", keyed.ID, "keyed")
	ctx := ContextAs(t, f.developer)
	_, err := mappings.SetMappings(ctx, "shop", "inventory", conn.ID, map[string]string{"ServiceURL": "KEYED_URL", "ChoreoAPIKey": "KEYED_KEY"})
	require.NoError(t, err)
	_, token, err := mappings.CreateRuntimeToken(ctx, "shop", "inventory", "production")
	require.NoError(t, err)

	get := func() map[string]string {
		t.Helper()
		vars, err := mappings.RuntimeEnv(t.Context(), token)
		require.NoError(t, err)
		out := map[string]string{}
		for _, v := range vars {
			out[v.Name] = v.Value
		}
		return out
	}
	first := get()
	require.Equal(t, first, get(), "cached answers are the same")

	_, err = mappings.SetMappings(ctx, "shop", "inventory", conn.ID, map[string]string{"ServiceURL": "KEYED_SERVICE_URL", "ChoreoAPIKey": "KEYED_KEY"})
	require.NoError(t, err)
	renamed := get()
	require.Contains(t, renamed, "KEYED_SERVICE_URL", "a renamed variable shows at once")
	require.NotContains(t, renamed, "KEYED_URL")

	_, err = f.conns.Rotate(ctx, conn.ID, "production")
	require.NoError(t, err)
	require.NotEqual(t, first["KEYED_KEY"], get()["KEYED_KEY"], "a rotated key shows at once")

	tokens, err := mappings.FindRuntimeTokens(ctx, "shop", "inventory")
	require.NoError(t, err)
	require.NoError(t, mappings.RevokeRuntimeToken(ctx, "shop", "inventory", tokens[0].ID))
	_, err = mappings.RuntimeEnv(t.Context(), token)
	require.Equal(t, junction.EUNAUTHORIZED, junction.ErrorCode(err), "a revoked token stops at once")
}
