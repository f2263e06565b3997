package db_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
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
	store, _, key := MustOpenDBWithKey(t)
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
