package db_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction"
	"github.com/junction-dev/junction/db"
)

// TestBackupWhileWriting takes backups while components are being created and checks that
// each copy is a sound database holding a prefix of the writes, readable with the same key.
func TestBackupWhileWriting(t *testing.T) {
	store, _, key := MustOpenSQLite(t)
	admin := MustCreateUser(t, store, "admin@example.com", true)
	MustCreateProject(t, store, admin, "shop", "Shop")
	svc := &junction.Service{Kind: junction.KindDatabase, Name: "orders-db", Engine: "postgres",
		Values: map[string]map[string]string{"production": {"HostName": "db", "Port": "5432", "DatabaseName": "orders", "Username": "app", "Password": "backup-secret"}}}
	require.NoError(t, db.NewServiceService(store).CreateService(ContextAs(t, admin), svc))

	components := db.NewComponentService(store)
	ctx := ContextAs(t, admin)
	var written atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			c := &junction.Component{Handle: fmt.Sprintf("c-%04d", i), Name: fmt.Sprintf("C %d", i)}
			if err := components.CreateComponent(ctx, "shop", c); err != nil {
				t.Error(err)
				return
			}
			written.Add(1)
		}
	}()

	dir := t.TempDir()
	for i := range 3 {
		before := written.Load()
		out := filepath.Join(dir, fmt.Sprintf("backup-%d.db", i))
		require.NoError(t, store.Backup(context.Background(), out))
		after := written.Load()

		info, err := os.Stat(out)
		require.NoError(t, err)
		require.Equal(t, os.FileMode(0o600), info.Mode().Perm())

		copyDB := MustReopenDB(t, out, key)
		var check string
		require.NoError(t, copyDB.ReadPool().QueryRow(`PRAGMA integrity_check`).Scan(&check))
		require.Equal(t, "ok", check)
		var n int64
		require.NoError(t, copyDB.ReadPool().QueryRow(`SELECT COUNT(*) FROM components`).Scan(&n))
		require.GreaterOrEqual(t, n, before, "the copy holds every write acknowledged before it started")
		require.LessOrEqual(t, n, after+1)
		got, err := db.NewServiceService(copyDB).FindService(ContextAs(t, admin), svc.ID)
		require.NoError(t, err, "the copy opens with the same key")
		require.Equal(t, "orders-db", got.Name)
		require.NoError(t, copyDB.Close())
	}
	close(stop)
	wg.Wait()
	require.Positive(t, written.Load())

	t.Run("ErrOutputExists", func(t *testing.T) {
		out := filepath.Join(dir, "backup-0.db")
		require.Error(t, store.Backup(context.Background(), out))
	})
}

// TestBackupRestore opens a backup as the database with the original key, as the README's
// restore does, and compares every table of it, row by row, with the original.
func TestBackupRestore(t *testing.T) {
	store, _, key := MustOpenSQLite(t)
	admin := MustCreateUser(t, store, "admin@example.com", true)
	MustCreateProject(t, store, admin, "shop", "Shop")
	ctx := ContextAs(t, admin)
	for i := range 20 {
		c := &junction.Component{Handle: fmt.Sprintf("c-%02d", i), Name: fmt.Sprintf("C %d", i)}
		require.NoError(t, db.NewComponentService(store).CreateComponent(ctx, "shop", c))
	}
	svc := &junction.Service{Kind: junction.KindDatabase, Name: "orders-db", Engine: "postgres",
		Values: map[string]map[string]string{"production": {"HostName": "db", "Port": "5432", "DatabaseName": "orders", "Username": "app", "Password": "restore-secret"}}}
	require.NoError(t, db.NewServiceService(store).CreateService(ctx, svc))
	conn := &junction.Connection{Name: "orders", Project: "shop", Service: junction.ServiceRef{ID: svc.ID}}
	require.NoError(t, db.NewConnectionService(store, "http://localhost/oauth2/token").CreateConnection(ctx, conn))

	restored := filepath.Join(t.TempDir(), "restored.db")
	require.NoError(t, store.Backup(context.Background(), restored))
	copyDB := MustReopenDB(t, restored, key)

	want, got := dumpTables(t, store), dumpTables(t, copyDB)
	t.Logf("%d tables, %d components", len(want), len(want["components"]))
	require.NotEmpty(t, want)
	require.Equal(t, len(want), len(got), "same tables")
	for table, rows := range want {
		require.Equal(t, rows, got[table], "table %s differs after restore", table)
	}
	require.NotEmpty(t, want["components"])

	// The restored copy is a working database: its secrets open and it takes writes.
	found, err := db.NewConnectionService(copyDB, "http://localhost/oauth2/token").FindConnection(ctx, conn.ID, true)
	require.NoError(t, err)
	require.Equal(t, "restore-secret", paramValues(found, junction.ParamPassword)["production"])
	require.NoError(t, db.NewComponentService(copyDB).CreateComponent(ctx, "shop", &junction.Component{Handle: "after-restore", Name: "After"}))
}

// dumpTables reads every row of every table (FTS shadow tables included) as sorted strings.
func dumpTables(t *testing.T, store *db.DB) map[string][]string {
	t.Helper()
	rows, err := store.ReadPool().Query(`SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)
	require.NoError(t, err)
	var tables []string
	for rows.Next() {
		var name string
		require.NoError(t, rows.Scan(&name))
		tables = append(tables, name)
	}
	require.NoError(t, rows.Err())
	require.NoError(t, rows.Close())

	out := make(map[string][]string, len(tables))
	for _, table := range tables {
		r, err := store.ReadPool().Query(`SELECT * FROM "` + table + `"`)
		if err != nil {
			continue // virtual tables of modules that cannot be read directly
		}
		cols, err := r.Columns()
		require.NoError(t, err)
		var lines []string
		for r.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			require.NoError(t, r.Scan(ptrs...))
			lines = append(lines, fmt.Sprintf("%q", vals))
		}
		require.NoError(t, r.Err())
		require.NoError(t, r.Close())
		sort.Strings(lines)
		out[table] = lines
	}
	return out
}
