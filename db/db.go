// Package db is Junction's SQLite store: the only package with SQL in it. It implements the
// domain's service interfaces over one writer connection and a pool of readers.
package db

import (
	"context"
	"crypto/ecdsa"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mattn/go-sqlite3"

	"github.com/junction-dev/junction"
)

//go:embed migration/*.sql
var migrationFS embed.FS

// pragmas are set in the DSN so that they reach every pooled connection. A 16 MB page cache
// per connection keeps the catalog's search indexes in memory at 100,000 services.
const pragmas = "_foreign_keys=on&_journal_mode=WAL&_busy_timeout=5000&_synchronous=FULL&_cache_size=-16000"

// timeFormat is fixed-width so that stored times sort as text.
const timeFormat = "2006-01-02T15:04:05.000000Z"

// DB is an open Junction database.
type DB struct {
	// write has exactly one connection: SQLite allows one writer at a time, and queueing
	// writers in Go avoids SQLITE_BUSY instead of retrying on it.
	write *sql.DB
	// read is a pool of query-only connections that run beside the writer under WAL.
	read *sql.DB

	path   string
	sealer *Sealer

	// Now returns the current time; tests replace it.
	Now func() time.Time

	keyMu  sync.Mutex
	jwtKey *ecdsa.PrivateKey // loaded on first use by signingKey

	// generation counts committed write transactions, so that caches of derived data (the
	// runtime environments) know when to recompute.
	generation atomic.Uint64
}

// Open opens (creating if needed) the database at path and applies pending migrations. key is
// the installation's 32-byte master key; secrets are sealed with a key derived from it.
func Open(ctx context.Context, path string, key []byte) (*DB, error) {
	if path == "" {
		return nil, fmt.Errorf("open database: no path given")
	} else if strings.ContainsAny(path, "?#") {
		// The driver reads everything after "?" as connection options.
		return nil, fmt.Errorf("open database %s: the path must not contain ? or #", path)
	}
	if len(key) != 32 {
		return nil, fmt.Errorf("open database: the secret key must be 32 bytes, got %d", len(key))
	}
	sealer, err := NewSealer(DeriveKey(key, "junction seal v1"))
	if err != nil {
		return nil, err
	}
	db := &DB{path: path, sealer: sealer, Now: time.Now}

	// Create the file private to its owner: it holds password and token hashes. SQLite
	// gives its -wal and -shm files the same mode.
	if f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600); err == nil {
		f.Close()
	} else if !errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("create database %s: %w", path, err)
	}

	// _txlock=immediate takes the write lock at BEGIN, so a write transaction never fails
	// half-way when it upgrades from a read lock.
	if db.write, err = sql.Open("sqlite3", path+"?"+pragmas+"&_txlock=immediate"); err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	db.write.SetMaxOpenConns(1)
	db.write.SetMaxIdleConns(1)
	db.write.SetConnMaxLifetime(0)
	db.write.SetConnMaxIdleTime(0)
	if err := db.write.PingContext(ctx); err != nil {
		db.write.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	if err := db.migrate(ctx); err != nil {
		db.write.Close()
		return nil, err
	}
	if err := db.checkKey(ctx); err != nil {
		db.write.Close()
		return nil, err
	}

	if db.read, err = sql.Open("sqlite3", path+"?"+pragmas+"&_query_only=true"); err != nil {
		db.write.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	readers := max(4, 2*runtime.NumCPU())
	db.read.SetMaxOpenConns(readers)
	db.read.SetMaxIdleConns(readers)
	return db, nil
}

// Close closes every connection.
func (db *DB) Close() error {
	var errs []error
	if db.read != nil {
		errs = append(errs, db.read.Close())
	}
	if db.write != nil {
		errs = append(errs, db.write.Close())
	}
	return errors.Join(errs...)
}

// Path returns the database file's path.
func (db *DB) Path() string { return db.path }

// Stats reports the connection pool statistics of the writer and the readers.
func (db *DB) Stats() (write, read sql.DBStats) { return db.write.Stats(), db.read.Stats() }

// Tx is a transaction with the time it started, so that every row it writes carries the
// same timestamp.
type Tx struct {
	*sql.Tx
	db  *DB
	now time.Time
}

// BeginTx starts a transaction: on the writer when write is set, else on a reader.
func (db *DB) BeginTx(ctx context.Context, write bool) (*Tx, error) {
	pool := db.read
	if write {
		pool = db.write
	}
	tx, err := pool.BeginTx(ctx, &sql.TxOptions{ReadOnly: !write})
	if err != nil {
		return nil, fmt.Errorf("begin transaction: %w", err)
	}
	return &Tx{Tx: tx, db: db, now: db.Now().UTC().Truncate(time.Microsecond)}, nil
}

// inTx runs fn in a transaction and commits it when fn succeeds.
func (db *DB) inTx(ctx context.Context, write bool, fn func(tx *Tx) error) error {
	tx, err := db.BeginTx(ctx, write)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	if write {
		db.generation.Add(1)
	}
	return nil
}

// migrate applies every embedded migration that has not been applied yet, in name order, each
// in its own transaction, and records it in schema_migrations.
func (db *DB) migrate(ctx context.Context) error {
	if _, err := db.write.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)`); err != nil {
		return fmt.Errorf("create migrations table: %w", err)
	}
	names, err := fs.Glob(migrationFS, "migration/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		if err := db.migrateFile(ctx, name); err != nil {
			return fmt.Errorf("migration %s: %w", name, err)
		}
	}
	return nil
}

func (db *DB) migrateFile(ctx context.Context, name string) error {
	return db.inTx(ctx, true, func(tx *Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE name = ?`, name).Scan(&n); err != nil {
			return err
		} else if n != 0 {
			return nil
		}
		script, err := fs.ReadFile(migrationFS, name)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, string(script)); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)`, name, formatTime(tx.now))
		return err
	})
}

// Migrations returns the names of the applied migrations in order.
func (db *DB) Migrations(ctx context.Context) ([]string, error) {
	return queryStrings(ctx, db.read, `SELECT name FROM schema_migrations ORDER BY name`)
}

// queryStrings returns the single text column of every row of a query.
func queryStrings(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, query string, args ...any) ([]string, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// keyCheckPlaintext is sealed once per database so that starting with a different key fails
// loudly instead of making every stored secret unreadable later.
const keyCheckPlaintext = "junction key check"

func (db *DB) checkKey(ctx context.Context) error {
	return db.inTx(ctx, true, func(tx *Tx) error {
		var sealed []byte
		err := tx.QueryRowContext(ctx, `SELECT value FROM settings WHERE name = 'key_check'`).Scan(&sealed)
		if errors.Is(err, sql.ErrNoRows) {
			_, err = tx.ExecContext(ctx, `INSERT INTO settings (name, value) VALUES ('key_check', ?)`,
				db.sealer.Seal([]byte(keyCheckPlaintext), "settings.key_check"))
			return err
		} else if err != nil {
			return err
		}
		if plain, err := db.sealer.Open(sealed, "settings.key_check"); err != nil || string(plain) != keyCheckPlaintext {
			return fmt.Errorf("the secret key does not match the one database %s was created with: set JUNCTION_SECRET_KEY or restore %s.key", db.path, db.path)
		}
		return nil
	})
}

func formatTime(t time.Time) string { return t.UTC().Format(timeFormat) }

func parseTime(s string) time.Time {
	t, err := time.Parse(timeFormat, s)
	if err != nil {
		// Times written by SQLite itself (migrations) use strftime's shorter format.
		t, _ = time.Parse(time.RFC3339Nano, s)
	}
	return t.UTC()
}

// parseNullTime turns a nullable column into a *time.Time.
func parseNullTime(s sql.NullString) *time.Time {
	if !s.Valid {
		return nil
	}
	t := parseTime(s.String)
	return &t
}

// isUniqueViolation reports whether err is a UNIQUE or PRIMARY KEY constraint failure.
func isUniqueViolation(err error) bool {
	var e sqlite3.Error
	return errors.As(err, &e) &&
		(e.ExtendedCode == sqlite3.ErrConstraintUnique || e.ExtendedCode == sqlite3.ErrConstraintPrimaryKey)
}

// notFound turns sql.ErrNoRows into an ENOTFOUND error with msg and wraps anything else.
func notFound(err error, msg string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return &junction.Error{Code: junction.ENOTFOUND, Message: msg}
	}
	return err
}

// Backup writes a consistent copy of the database to out while other connections keep
// reading and writing: VACUUM INTO copies one read snapshot. out must not exist yet. The copy
// is created private to its owner, like the database.
func (db *DB) Backup(ctx context.Context, out string) error {
	if strings.ContainsAny(out, "?#") {
		return fmt.Errorf("backup to %s: the path must not contain ? or #", out)
	}
	f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("backup to %s: %w", out, err)
	}
	f.Close()
	// A connection of its own: the writer must stay free for writes, and the readers are
	// query-only, which would refuse to write the copy.
	conn, err := sql.Open("sqlite3", db.path+"?"+pragmas)
	if err != nil {
		os.Remove(out)
		return fmt.Errorf("backup: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `VACUUM INTO ?`, out); err != nil {
		os.Remove(out)
		return fmt.Errorf("backup to %s: %w", out, err)
	}
	return nil
}
