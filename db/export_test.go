package db

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/junction-dev/junction"
)

// WritePool returns the writer pool (SQLite's single writer connection), for tests that
// inspect the raw tables. Its queries are written with ? placeholders, as in the store.
func (db *DB) WritePool() *Pool { return &Pool{DB: db.write, d: db.dialect} }

// ReadPool returns the pool of readers (SQLite's query-only connections).
func (db *DB) ReadPool() *Pool { return &Pool{DB: db.read, d: db.dialect} }

// Sealer returns the sealer the database uses for secrets at rest.
func (db *DB) Sealer() *Sealer { return db.sealer }

// Pool is a connection pool that rebinds ? placeholders for the engine.
type Pool struct {
	*sql.DB
	d *dialect
}

func (p *Pool) QueryRow(query string, args ...any) *sql.Row {
	return p.DB.QueryRow(p.d.rebind(query), args...)
}

func (p *Pool) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return p.DB.QueryRowContext(ctx, p.d.rebind(query), args...)
}

func (p *Pool) Query(query string, args ...any) (*sql.Rows, error) {
	return p.DB.Query(p.d.rebind(query), args...)
}

func (p *Pool) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return p.DB.QueryContext(ctx, p.d.rebind(query), args...)
}

func (p *Pool) Exec(query string, args ...any) (sql.Result, error) {
	return p.DB.Exec(p.d.rebind(query), args...)
}

func (p *Pool) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return p.DB.ExecContext(ctx, p.d.rebind(query), args...)
}

// TableNames lists the database's own tables, from the engine's catalog.
func (db *DB) TableNames(ctx context.Context) ([]string, error) {
	query := `SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`
	if db.dialect == postgresDialect {
		query = `SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename`
	}
	var names []string
	err := db.inTx(ctx, false, func(tx *Tx) (err error) {
		names, err = queryStrings(ctx, tx, query)
		return err
	})
	return names, err
}

// CheckSearchIndex reports whether the catalog's search index matches the services table:
// FTS5's integrity check on SQLite; on PostgreSQL, every service's search words against its
// text.
func (db *DB) CheckSearchIndex(ctx context.Context) error {
	return db.inTx(ctx, true, func(tx *Tx) error {
		if db.dialect != postgresDialect {
			_, err := tx.ExecContext(ctx, `INSERT INTO services_fts (services_fts, rank) VALUES ('integrity-check', 1)`)
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT id, display_name, tags, description, search::text FROM services`)
		if err != nil {
			return err
		}
		type row struct{ id, name, tags, description, search string }
		var all []row
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.id, &r.name, &r.tags, &r.description, &r.search); err != nil {
				rows.Close()
				return err
			}
			all = append(all, r)
		}
		rows.Close()
		for _, r := range all {
			var want string
			if err := tx.QueryRowContext(ctx, `SELECT (setweight(to_tsvector('simple', ?), 'A') || setweight(to_tsvector('simple', ?), 'B')
				|| setweight(to_tsvector('simple', ?), 'C'))::text`, foldWords(r.name), foldWords(r.tags), foldWords(r.description)).Scan(&want); err != nil {
				return err
			}
			if want != r.search {
				return fmt.Errorf("service %s: search is %s, want %s", r.id, r.search, want)
			}
		}
		return nil
	})
}

// RebindDollar is the PostgreSQL placeholder rewriting.
var RebindDollar = rebindDollar

// MigrationNames lists the migrations of engine ("sqlite" or "postgres") as they are
// recorded.
func MigrationNames(engine string) ([]string, error) {
	d := sqliteDialect
	if engine == postgresDialect.name {
		d = postgresDialect
	}
	list, err := migrations(d)
	names := make([]string, len(list))
	for i, m := range list {
		names[i] = m.name
	}
	return names, err
}

// SetAuditHook makes every audit entry pass through hook first; an error from it fails the
// entry, and with it the change.
func (db *DB) SetAuditHook(hook func(*junction.AuditEntry) error) { db.auditHook = hook }
