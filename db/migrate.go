package db

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
)

// Each migration is written once per engine, side by side: migration/NNNN_name_sqlite.sql and
// migration/NNNN_name_postgres.sql. Both are recorded in schema_migrations under the name
// migration/NNNN_name.sql, the name the first releases (SQLite only, one file per migration)
// recorded, so that their databases open without re-running anything.
//
//go:embed migration/*.sql
var migrationFS embed.FS

type migration struct {
	name string // as recorded in schema_migrations
	file string // the engine's script
}

// migrations lists the engine's migrations in order. Every file must be written for one of
// the two engines, and every migration for both.
func migrations(d *dialect) ([]migration, error) {
	files, err := fs.Glob(migrationFS, "migration/*.sql")
	if err != nil {
		return nil, err
	}
	engines := map[string][]string{}
	var list []migration
	for _, file := range files {
		base := strings.TrimSuffix(path.Base(file), ".sql")
		i := strings.LastIndexByte(base, '_')
		engine := base[i+1:]
		if i < 0 || (engine != sqliteDialect.name && engine != postgresDialect.name) {
			return nil, fmt.Errorf("migration %s: name it NNNN_name_sqlite.sql or NNNN_name_postgres.sql, and write it for both engines", file)
		}
		name := "migration/" + base[:i] + ".sql"
		engines[name] = append(engines[name], engine)
		if engine == d.name {
			list = append(list, migration{name: name, file: file})
		}
	}
	for name, have := range engines {
		if len(have) != 2 {
			return nil, fmt.Errorf("migration %s is written for %s only: every migration needs a _sqlite.sql and a _postgres.sql file", name, have[0])
		}
	}
	sort.Slice(list, func(i, j int) bool { return list[i].name < list[j].name })
	return list, nil
}

// migrate applies every embedded migration that has not been applied yet, in name order, each
// in its own transaction, and records it in schema_migrations. Processes that start at once
// take turns (dialect.exclusive), so each migration runs once.
func (db *DB) migrate(ctx context.Context) error {
	list, err := migrations(db.dialect)
	if err != nil {
		return err
	}
	return db.Exclusive(ctx, "migrate", func() error {
		if err := db.inTx(ctx, true, func(tx *Tx) error {
			_, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)`)
			return err
		}); err != nil {
			return fmt.Errorf("create migrations table: %w", err)
		}
		for _, m := range list {
			if err := db.migrateFile(ctx, m); err != nil {
				return fmt.Errorf("migration %s: %w", m.name, err)
			}
		}
		return nil
	})
}

func (db *DB) migrateFile(ctx context.Context, m migration) error {
	return db.inTx(ctx, true, func(tx *Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE name = ?`, m.name).Scan(&n); err != nil {
			return err
		} else if n != 0 {
			return nil
		}
		script, err := fs.ReadFile(migrationFS, m.file)
		if err != nil {
			return err
		}
		// No arguments: both drivers run a script of several statements as it is.
		if _, err := tx.tx.ExecContext(ctx, string(script)); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)`, m.name, formatTime(tx.now))
		return err
	})
}
