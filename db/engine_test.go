package db_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction"
	"github.com/junction-dev/junction/db"
	"github.com/junction-dev/junction/internal/pgtest"
)

func TestRebindDollar(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`SELECT 1`, `SELECT 1`},
		{`SELECT * FROM t WHERE a = ? AND b = ?`, `SELECT * FROM t WHERE a = $1 AND b = $2`},
		{`SELECT '?' FROM t WHERE a = ?`, `SELECT '?' FROM t WHERE a = $1`},
		{`SELECT 'it''s ?', "col?" FROM t WHERE a LIKE ? ESCAPE '\'`, `SELECT 'it''s ?', "col?" FROM t WHERE a LIKE $1 ESCAPE '\'`},
		{"SELECT ? -- why?\n, ?", "SELECT $1 -- why?\n, $2"},
		{`SELECT ?::tsquery, a - ?`, `SELECT $1::tsquery, a - $2`},
	} {
		t.Run(tc.in, func(t *testing.T) {
			require.Equal(t, tc.want, db.RebindDollar(tc.in))
		})
	}
}

// engines opens one fresh database on each engine, whatever JUNCTION_TEST_DB says, for tests
// of what both engines must do alike.
func engines(t *testing.T) map[string]*db.DB {
	t.Helper()
	lite, _, _ := MustOpenSQLite(t)
	pg, _, _ := MustOpenPostgres(t)
	return map[string]*db.DB{"sqlite": lite, "postgres": pg}
}

// TestWrapError checks that each driver's constraint failures become the store's errors by
// their codes: unique ECONFLICT, foreign key, check and not-null EINVALID.
func TestWrapError(t *testing.T) {
	for engine, store := range engines(t) {
		t.Run(engine, func(t *testing.T) {
			ctx := t.Context()
			_, err := store.WritePool().ExecContext(ctx, `INSERT INTO projects (handle, name, created_at, updated_at) VALUES ('shop', 'Shop', '', '')`)
			require.NoError(t, err)
			for _, tc := range []struct {
				name, stmt, code string
			}{
				{"Unique", `INSERT INTO projects (handle, name, created_at, updated_at) VALUES ('shop', 'Again', '', '')`, junction.ECONFLICT},
				{"ForeignKey", `INSERT INTO components (project_id, handle, name, type, created_at, updated_at) VALUES (999, 'x', 'x', 'service', '', '')`, junction.EINVALID},
				{"Check", `INSERT INTO project_members (project_id, user_id, role, created_at) SELECT id, 1, 'owner', '' FROM projects`, junction.EINVALID},
				{"NotNull", `INSERT INTO projects (handle, name, created_at, updated_at) VALUES ('x', NULL, '', '')`, junction.EINVALID},
			} {
				t.Run(tc.name, func(t *testing.T) {
					_, err := store.WritePool().ExecContext(ctx, tc.stmt)
					require.Error(t, err)
					wrapped := db.WrapError(err)
					require.Equal(t, tc.code, junction.ErrorCode(wrapped), "%v", err)
					require.ErrorIs(t, wrapped, err, "the driver's error stays in the chain")
				})
			}
			require.NoError(t, db.WrapError(nil))
			require.Equal(t, junction.EINTERNAL, junction.ErrorCode(db.WrapError(context.Canceled)))
		})
	}
}

// TestMigrationFiles checks that every migration is written for both engines and that they
// are recorded under the names the first releases used.
func TestMigrationFiles(t *testing.T) {
	lite, err := db.MigrationNames("sqlite")
	require.NoError(t, err)
	pg, err := db.MigrationNames("postgres")
	require.NoError(t, err)
	require.Equal(t, lite, pg)
	require.Equal(t, allMigrations, lite)
	files, err := filepath.Glob("migration/*.sql")
	require.NoError(t, err)
	require.Len(t, files, 2*len(allMigrations), "one file per migration and engine")
}

// TestOpenReleaseDatabase opens a database made by the last SQLite-only release (its
// migrations recorded as migration/0001_init.sql…): nothing is applied again, the data reads,
// the runtime token still works and search finds an accented word.
func TestOpenReleaseDatabase(t *testing.T) {
	const (
		releaseKey   = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
		runtimeToken = "jrt_lsmt4regepvvgtwdpjznry527noa7qiqcq5nuqq"
		connectionID = "conn_jgmiuwvxyfi2mnmkijbflicqre"
	)
	data, err := os.ReadFile("testdata/release-0004.db")
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "junction.db")
	require.NoError(t, os.WriteFile(path, data, 0o600))
	key, err := db.ParseKey(releaseKey)
	require.NoError(t, err)

	var before map[string]string
	{
		store := MustReopenDB(t, path, key)
		before = appliedMigrations(t, store)
		require.NoError(t, store.Close())
	}
	require.Len(t, before, len(allMigrations))
	store := MustReopenDB(t, path, key)
	require.Equal(t, before, appliedMigrations(t, store), "nothing re-applied, nothing new")

	users := NewUserService(store)
	admin, err := users.Authenticate(t.Context(), "admin@example.com", TestPassword)
	require.NoError(t, err)
	conns := db.NewConnectionService(store, "http://junction.test/oauth2/token")
	mappings := db.NewMappingService(store, conns)
	vars, err := mappings.RuntimeEnv(t.Context(), runtimeToken)
	require.NoError(t, err)
	names := map[string]string{}
	for _, v := range vars {
		names[v.Name] = v.Value
	}
	require.Equal(t, "https://prod/stock", names["STOCK_URL"])
	require.True(t, strings.HasPrefix(names["STOCK_SECRET"], "jcs_"), "the sealed secret opens with the release's key")
	conn, err := conns.FindConnection(ContextAs(t, admin), connectionID, false)
	require.NoError(t, err)
	require.Equal(t, "stock", conn.Name)
	found, total, _, err := db.NewServiceService(store).FindServices(ContextAs(t, admin), junction.ServiceFilter{Query: "cafe", Page: junction.NewPage(1, 10)})
	require.NoError(t, err)
	require.Equal(t, 1, total)
	require.Equal(t, "Stock API", found[0].Name)
}

func appliedMigrations(t *testing.T, store *db.DB) map[string]string {
	t.Helper()
	rows, err := store.ReadPool().Query(`SELECT name, applied_at FROM schema_migrations`)
	require.NoError(t, err)
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var name, at string
		require.NoError(t, rows.Scan(&name, &at))
		out[name] = at
	}
	require.NoError(t, rows.Err())
	return out
}

// TestOpenPostgresErrors checks that a PostgreSQL that cannot be used says so on one line
// without the password.
func TestOpenPostgresErrors(t *testing.T) {
	c := pgtest.Require(t)
	const password = "s3cret-Pa55word"
	for _, tc := range []struct{ name, url, want string }{
		{"Unreachable", "postgres://junction:" + password + "@127.0.0.1:1/junction?sslmode=disable", "connect"},
		{"WrongPassword", strings.Replace(c.PasswordUser(t, "junction_wrongpw", "right-password", "postgres"), "right-password", password, 1), "password authentication failed"},
		{"NotAURL", "postgres://junction:" + password + "@127.0.0.1:5432:5432/junction", "not a valid PostgreSQL URL"},
		{"PasswordParameter", "postgres://junction@127.0.0.1:1/junction?sslmode=disable&password=" + password, "connect"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := db.Open(t.Context(), tc.url, RandomKey(t))
			require.Error(t, err)
			msg := err.Error()
			require.Contains(t, msg, tc.want)
			require.NotContains(t, msg, password)
			require.NotContains(t, msg, "\n", "one line")
			require.Contains(t, msg, "open database postgres://junction")
		})
	}
	t.Run("KeyRequired", func(t *testing.T) {
		_, err := db.LoadKey("", c.URL("junction"))
		require.ErrorContains(t, err, "JUNCTION_SECRET_KEY")
		require.NotContains(t, err.Error(), c.Password())
	})
	t.Run("RedactURL", func(t *testing.T) {
		require.Equal(t, "postgres://junction:xxxxx@db:5432/j?sslmode=disable", db.RedactURL("postgres://junction:"+password+"@db:5432/j?sslmode=disable"))
		require.NotContains(t, db.RedactURL("postgresql://u@db/j?password="+password), password)
		require.Equal(t, "junction.db", db.RedactURL("junction.db"))
	})
}

// TestPostgresConcurrentOpen opens one empty PostgreSQL database from many stores at once, as
// replicas starting together do: each migration runs once, and all agree on one key check and
// one token-signing key.
func TestPostgresConcurrentOpen(t *testing.T) {
	url := pgtest.Require(t).NewEmptyDatabase(t)
	key := RandomKey(t)
	const stores = 6
	opened := make([]*db.DB, stores)
	errs := make([]error, stores)
	var wg sync.WaitGroup
	for i := range stores {
		wg.Go(func() { opened[i], errs[i] = db.Open(context.Background(), url, key) })
	}
	wg.Wait()
	var jwks []string
	for i, store := range opened {
		require.NoError(t, errs[i])
		t.Cleanup(func() { store.Close() })
		keys, err := db.NewConnectionService(store, "").JWKS(t.Context())
		require.NoError(t, err)
		jwks = append(jwks, string(keys))
	}
	for _, k := range jwks {
		require.Equal(t, jwks[0], k, "one signing key for every store")
	}
	var n, distinct int
	require.NoError(t, opened[0].ReadPool().QueryRow(`SELECT COUNT(*), COUNT(DISTINCT name) FROM schema_migrations`).Scan(&n, &distinct))
	require.Equal(t, len(allMigrations), n)
	require.Equal(t, n, distinct)
	require.NoError(t, opened[0].ReadPool().QueryRow(`SELECT COUNT(*) FROM settings WHERE name = 'key_check'`).Scan(&n))
	require.Equal(t, 1, n)
}
