package db_test

import (
	"database/sql"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction"
	"github.com/junction-dev/junction/db"
	"github.com/junction-dev/junction/internal/pgtest"
)

func TestOpen(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "junction.db")
		store := MustReopenDB(t, path, RandomKey(t))
		require.Equal(t, path, store.Path())
		require.FileExists(t, path)
	})

	t.Run("ErrNoPath", func(t *testing.T) {
		_, err := db.Open(t.Context(), "", RandomKey(t))
		require.ErrorContains(t, err, "no path")
	})

	t.Run("ErrDirectoryMissing", func(t *testing.T) {
		_, err := db.Open(t.Context(), filepath.Join(t.TempDir(), "missing", "junction.db"), RandomKey(t))
		require.Error(t, err)
	})

	t.Run("ErrKeyNot32Bytes", func(t *testing.T) {
		// Open derives the sealing key with HMAC, which accepts any master key; a nil or
		// short key must still be refused rather than seal with a guessable key.
		for _, key := range [][]byte{nil, {}, make([]byte, 16), make([]byte, 33)} {
			_, err := db.Open(t.Context(), filepath.Join(t.TempDir(), "junction.db"), key)
			require.Error(t, err, "key of %d bytes", len(key))
		}
	})

	t.Run("ErrPathWithQuestionMark", func(t *testing.T) {
		// The driver takes everything after "?" as options, which would open another file
		// with foreign keys off; such paths are refused.
		dir := filepath.Join(t.TempDir(), "a?b")
		require.NoError(t, os.Mkdir(dir, 0o700))
		_, err := db.Open(t.Context(), filepath.Join(dir, "junction.db"), RandomKey(t))
		require.ErrorContains(t, err, "must not contain ? or #")
	})
}

func TestMigrations(t *testing.T) {
	t.Run("AppliedAndRecorded", func(t *testing.T) {
		store := MustOpenDB(t)
		names, err := store.Migrations(t.Context())
		require.NoError(t, err)
		require.Equal(t, allMigrations, names)

		var appliedAt string
		require.NoError(t, store.ReadPool().QueryRow(`SELECT applied_at FROM schema_migrations WHERE name = 'migration/0001_init.sql'`).Scan(&appliedAt))
		_, err = time.Parse(time.RFC3339Nano, appliedAt)
		require.NoError(t, err, "applied_at %q", appliedAt)

		// Every table of the first migration exists.
		for _, table := range []string{"users", "sessions", "tokens", "environments", "projects", "project_members", "components", "settings"} {
			var n int
			require.NoError(t, store.ReadPool().QueryRow(`SELECT COUNT(*) FROM `+table).Scan(&n), "table %s", table)
		}
	})

	t.Run("IdempotentOnReopen", func(t *testing.T) {
		store, path, key := MustOpenDBWithKey(t)
		admin := MustCreateUser(t, store, "admin@example.com", true)
		MustCreateProject(t, store, admin, "shop", "Shop")
		var appliedAt string
		require.NoError(t, store.ReadPool().QueryRow(`SELECT MAX(applied_at) FROM schema_migrations`).Scan(&appliedAt))
		require.NoError(t, store.Close())

		for range 2 {
			store = MustReopenDB(t, path, key)
			names, err := store.Migrations(t.Context())
			require.NoError(t, err)
			require.Equal(t, allMigrations, names)

			var n int
			var again string
			require.NoError(t, store.ReadPool().QueryRow(`SELECT COUNT(*), MAX(applied_at) FROM schema_migrations`).Scan(&n, &again))
			require.Equal(t, len(allMigrations), n)
			require.Equal(t, appliedAt, again, "a migration must not be re-applied")

			// The seed rows of the migration were not inserted twice, and data survived.
			envs, err := db.NewEnvironmentService(store).FindEnvironments(ContextAs(t, admin))
			require.NoError(t, err)
			require.Len(t, envs, 2)
			_, err = db.NewProjectService(store).FindProject(ContextAs(t, admin), "shop")
			require.NoError(t, err)
			require.NoError(t, store.Close())
		}
	})
}

func TestPragmas(t *testing.T) {
	store, _, _ := MustOpenSQLite(t)
	ctx := t.Context()

	// Pragmas must reach every pooled connection, not only the first one, so check several
	// reader connections held open at the same time.
	pools := map[string]*db.Pool{"write": store.WritePool(), "read": store.ReadPool()}
	for name, pool := range pools {
		t.Run(name, func(t *testing.T) {
			n := 1
			if name == "read" {
				n = 4
			}
			conns := make([]*sql.Conn, 0, n)
			defer func() {
				for _, c := range conns {
					c.Close()
				}
			}()
			for range n {
				conn, err := pool.Conn(ctx)
				require.NoError(t, err)
				conns = append(conns, conn)
			}
			for i, conn := range conns {
				var fk int
				require.NoError(t, conn.QueryRowContext(ctx, `PRAGMA foreign_keys`).Scan(&fk))
				require.Equal(t, 1, fk, "foreign_keys on connection %d", i)

				var mode string
				require.NoError(t, conn.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode))
				require.Equal(t, "wal", mode, "journal_mode on connection %d", i)

				var timeout int
				require.NoError(t, conn.QueryRowContext(ctx, `PRAGMA busy_timeout`).Scan(&timeout))
				require.Positive(t, timeout, "busy_timeout on connection %d", i)
			}
		})
	}

	t.Run("WriterHasOneConnection", func(t *testing.T) {
		require.Equal(t, 1, store.WritePool().Stats().MaxOpenConnections)
	})

	t.Run("ReadersAreQueryOnly", func(t *testing.T) {
		_, err := store.ReadPool().ExecContext(ctx, `INSERT INTO settings (name, value) VALUES ('x', 'y')`)
		require.Error(t, err)
	})
}

func TestOpen_WrongKey(t *testing.T) {
	store, path, key := MustOpenDBWithKey(t)
	require.NoError(t, store.Close())

	_, err := db.Open(t.Context(), path, RandomKey(t))
	require.Error(t, err)
	require.ErrorContains(t, err, "secret key does not match")
	require.ErrorContains(t, err, "JUNCTION_SECRET_KEY")
	if testEngine() == "sqlite" {
		require.ErrorContains(t, err, path+".key")
	} else {
		require.ErrorContains(t, err, db.RedactURL(path), "names the database")
		require.NotContains(t, err.Error(), pgtest.Require(t).Password(), "never the password")
	}

	// The right key still opens it.
	MustReopenDB(t, path, key)
}

func TestForeignKeysEnforced(t *testing.T) {
	store := MustOpenDB(t)
	_, err := store.WritePool().ExecContext(t.Context(),
		`INSERT INTO components (project_id, handle, name, type, created_at, updated_at) VALUES (999, 'x', 'x', 'service', '', '')`)
	require.Error(t, err, "a component of a missing project must be refused")
}

// TestConcurrentWrites creates components from many goroutines at once, with readers beside
// them. The single writer connection queues writers, so none may fail with "database is
// locked".
func TestConcurrentWrites(t *testing.T) {
	const (
		writers         = 8
		writesPerWriter = 25
	)
	store := MustOpenDB(t)
	admin := MustCreateUser(t, store, "admin@example.com", true)
	dev := MustCreateUser(t, store, "dev@example.com", false)
	MustCreateProject(t, store, admin, "shop", "Shop")
	MustSetMember(t, store, admin, "shop", dev.Email, junction.RoleDeveloper)
	components := db.NewComponentService(store)

	start := make(chan struct{})
	errs := make(chan error, writers*writesPerWriter+writers)
	var wg sync.WaitGroup
	for w := range writers {
		user := admin
		if w%2 == 1 {
			user = dev
		}
		ctx := ContextAs(t, user)
		wg.Go(func() {
			<-start
			for i := range writesPerWriter {
				c := &junction.Component{Handle: componentHandle(w, i), Name: componentHandle(w, i)}
				if err := components.CreateComponent(ctx, "shop", c); err != nil {
					errs <- err
				}
			}
		})
	}
	// Readers run beside the writers to show that WAL lets them proceed.
	var readers sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		ctx := ContextAs(t, dev)
		readers.Go(func() {
			<-start
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, _, err := components.FindComponents(ctx, "shop", junction.NewPage(1, 10)); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	close(start)
	wg.Wait()
	close(stop)
	readers.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}

	list, total, err := components.FindComponents(ContextAs(t, admin), "shop", junction.NewPage(1, junction.MaxPerPage))
	require.NoError(t, err)
	require.Equal(t, writers*writesPerWriter, total)
	require.Len(t, list, writers*writesPerWriter)
}

func componentHandle(w, i int) string {
	return "c-" + string(rune('a'+w)) + "-" + string(rune('a'+i))
}

func TestDatabaseFileIsPrivate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "junction.db")
	MustReopenDB(t, path, RandomKey(t))
	for _, name := range []string{path, path + "-wal"} {
		info, err := os.Stat(name)
		require.NoError(t, err)
		require.Equal(t, os.FileMode(0o600), info.Mode().Perm(), name)
	}
}

// allMigrations are the embedded migrations in the order they must apply.
var allMigrations = []string{"migration/0001_init.sql", "migration/0002_services.sql", "migration/0003_connections.sql", "migration/0004_mappings.sql", "migration/0005_oidc.sql", "migration/0006_db_credentials.sql", "migration/0007_tokens.sql", "migration/0008_audit.sql", "migration/0009_replicas.sql"}
