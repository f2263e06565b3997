package db_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction"
	"github.com/junction-dev/junction/db"
)

// keyedComponent connects shop/inventory to an API-key service, maps its two parameters
// (KEYED_URL, KEYED_KEY) and returns the connection and a production runtime token.
func keyedComponent(t *testing.T, f *connFixture, mappings *db.MappingService) (*junction.Connection, string) {
	t.Helper()
	keyed := f.mustCreateService(t, f.developer, withSecurity(internalService("shop", "inventory", "Keyed API", junction.VisibilityOrganization), junction.SecurityAPIKey))
	conn := f.connect(t, f.developer, "shop", "inventory", keyed.ID, "keyed")
	ctx := ContextAs(t, f.developer)
	_, err := mappings.SetMappings(ctx, "shop", "inventory", conn.ID, map[string]string{"ServiceURL": "KEYED_URL", "ChoreoAPIKey": "KEYED_KEY"})
	require.NoError(t, err)
	_, token, err := mappings.CreateRuntimeToken(ctx, "shop", "inventory", "production")
	require.NoError(t, err)
	return conn, token
}

// TestRuntimeEnvCacheFollowsChanges checks that the cached runtime environment never serves
// stale values: a renamed variable, a rotated key and a revoked token show at once.
func TestRuntimeEnvCacheFollowsChanges(t *testing.T) {
	f := newConnFixture(t)
	mappings := db.NewMappingService(f.store, f.conns)
	conn, token := keyedComponent(t, f, mappings)
	ctx := ContextAs(t, f.developer)
	var err error

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

// closed reports whether a change channel has fired, without waiting.
func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// TestRuntimeDocument_ETag checks the runtime answers' entity tags: the same for the same
// variables, different after any change of them, in every format; writes that cannot change
// a runtime environment (sign-ins, users, members, personal tokens) neither wake long polls
// nor empty the cache.
func TestRuntimeDocument_ETag(t *testing.T) {
	f := newConnFixture(t)
	mappings := db.NewMappingService(f.store, f.conns)
	users := NewUserService(f.store)
	conn, token := keyedComponent(t, f, mappings)
	ctx := ContextAs(t, f.developer)
	var err error

	etags := func() map[string]string {
		t.Helper()
		out := map[string]string{}
		for _, format := range junction.RuntimeFormats {
			doc, err := mappings.RuntimeDocument(t.Context(), token, format)
			if format == "js" {
				require.Equal(t, junction.EINVALID, junction.ErrorCode(err), "config.js never carries the API key")
				continue
			}
			require.NoError(t, err, format)
			require.Regexp(t, `^"[A-Za-z0-9_-]{24}"$`, doc.ETag)
			out[format] = doc.ETag
		}
		return out
	}
	first := etags()
	require.Len(t, first, 3)
	require.Equal(t, first, etags(), "the same variables have the same tags")
	require.NotEqual(t, first["json"], first["dotenv"], "each format has its own tag")
	_, err = mappings.RuntimeDocument(t.Context(), token, "yaml")
	require.Equal(t, junction.EINVALID, junction.ErrorCode(err))

	// Writes that cannot change any variables: the change channel stays open.
	changed := mappings.RuntimeChanged()
	session, err := users.CreateSession(t.Context(), f.developer.ID)
	require.NoError(t, err)
	require.NoError(t, users.DeleteSession(t.Context(), session))
	MustCreateUser(t, f.store, "newcomer@example.com", false)
	MustSetMember(t, f.store, f.admin, "shop", "newcomer@example.com", junction.RoleViewer)
	_, _, err = users.CreateToken(t.Context(), f.developer.ID, "laptop")
	require.NoError(t, err)
	MustCreateProject(t, f.store, f.admin, "empty", "Empty")
	_, err = mappings.RuntimeDocument(t.Context(), token, "json") // records the token's use
	require.NoError(t, err)
	require.False(t, closed(changed), "sign-ins, users, members, tokens and new projects change no runtime environment")
	require.Equal(t, first, etags())

	// A write that could change them but does not (the same names again): new generation,
	// same tags, so a long poll holds on.
	_, err = mappings.SetMappings(ctx, "shop", "inventory", conn.ID, map[string]string{"ServiceURL": "KEYED_URL", "ChoreoAPIKey": "KEYED_KEY"})
	require.NoError(t, err)
	require.True(t, closed(changed), "a mapping write wakes the long polls")
	require.Equal(t, first, etags(), "unchanged variables keep their tags")

	changed = mappings.RuntimeChanged()
	_, err = mappings.SetMappings(ctx, "shop", "inventory", conn.ID, map[string]string{"ServiceURL": "INVENTORY_URL", "ChoreoAPIKey": "KEYED_KEY"})
	require.NoError(t, err)
	require.True(t, closed(changed))
	renamed := etags()
	for format := range first {
		require.NotEqual(t, first[format], renamed[format], "a renamed variable changes the %s tag", format)
	}

	_, err = f.conns.Rotate(ctx, conn.ID, "production")
	require.NoError(t, err)
	rotated := etags()
	require.NotEqual(t, renamed["json"], rotated["json"], "a rotated key changes the tag")

	// Another environment's token is another document: its tag does not move with production.
	_, devToken, err := mappings.CreateRuntimeToken(ctx, "shop", "inventory", "development")
	require.NoError(t, err)
	dev, err := mappings.RuntimeDocument(t.Context(), devToken, "json")
	require.NoError(t, err)
	_, err = f.conns.Rotate(ctx, conn.ID, "production")
	require.NoError(t, err)
	devAgain, err := mappings.RuntimeDocument(t.Context(), devToken, "json")
	require.NoError(t, err)
	require.Equal(t, dev.ETag, devAgain.ETag, "a production rotation leaves development's variables and tag")
	require.NotEqual(t, rotated["json"], etags()["json"])
}

// TestRuntimeChanges_AcrossReplicas checks that a change committed through one process is
// served by another on the same PostgreSQL database: the second's long polls wake up and its
// cache recomputes. SQLite has one process, so this runs on PostgreSQL only.
func TestRuntimeChanges_AcrossReplicas(t *testing.T) {
	if testEngine() != "postgres" {
		t.Skip("many processes on one database is PostgreSQL's case: run with JUNCTION_TEST_DB=postgres")
	}
	f := newConnFixture(t)
	a := db.NewMappingService(f.store, f.conns)
	other := MustReopenDB(t, f.path, f.key)
	b := db.NewMappingService(other, db.NewConnectionService(other, connTokenURL))
	conn, token := keyedComponent(t, f, a)
	ctx := ContextAs(t, f.developer)
	var err error

	// awaitOnB waits (at most 5 s, well above the 1 s goal, so a slow machine does not fail
	// the test) for B to hear of a change, then returns B's answer.
	awaitOnB := func(changed <-chan struct{}) map[string]string {
		t.Helper()
		select {
		case <-changed:
		case <-time.After(5 * time.Second):
			t.Fatal("replica B did not hear of the change made on A")
		}
		vars, err := b.RuntimeEnv(t.Context(), token)
		require.NoError(t, err)
		return junction.EnvValues(vars)
	}
	require.Eventually(t, func() bool { _, err := b.RuntimeEnv(t.Context(), token); return err == nil }, 5*time.Second, 10*time.Millisecond)
	before, err := b.RuntimeEnv(t.Context(), token) // cached on B now
	require.NoError(t, err)

	changed := b.RuntimeChanged()
	_, err = a.SetMappings(ctx, "shop", "inventory", conn.ID, map[string]string{"ServiceURL": "INVENTORY_URL", "ChoreoAPIKey": "KEYED_KEY"})
	require.NoError(t, err)
	renamed := awaitOnB(changed)
	require.Contains(t, renamed, "INVENTORY_URL", "a mapping change on A is served by B")

	changed = b.RuntimeChanged()
	_, err = f.conns.Rotate(ctx, conn.ID, "production")
	require.NoError(t, err)
	require.NotEqual(t, junction.EnvValues(before)["KEYED_KEY"], awaitOnB(changed)["KEYED_KEY"], "a rotation on A is served by B")

	changed = b.RuntimeChanged()
	tokens, err := a.FindRuntimeTokens(ctx, "shop", "inventory")
	require.NoError(t, err)
	require.NoError(t, a.RevokeRuntimeToken(ctx, "shop", "inventory", tokens[0].ID))
	select {
	case <-changed:
	case <-time.After(5 * time.Second):
		t.Fatal("replica B did not hear of the revoke made on A")
	}
	_, err = b.RuntimeEnv(t.Context(), token)
	require.Equal(t, junction.EUNAUTHORIZED, junction.ErrorCode(err), "a token revoked on A stops on B")
}
