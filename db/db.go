// Package db is Junction's store: the only package with SQL in it. It implements the domain's
// service interfaces on SQLite (one writer connection and a pool of readers, the embedded
// default) or on PostgreSQL (one pool, for many replicas), with one set of SQL and the
// engines' differences in dialect.go.
package db

import (
	"context"
	"crypto/ecdsa"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/junction-dev/junction"
)

// timeFormat is fixed-width so that stored times sort as text.
const timeFormat = "2006-01-02T15:04:05.000000Z"

// DB is an open Junction database: a SQLite file or a PostgreSQL database.
type DB struct {
	// write runs write transactions. On SQLite it has exactly one connection: SQLite allows
	// one writer at a time, and queueing writers in Go avoids SQLITE_BUSY instead of
	// retrying on it. On PostgreSQL it is the one pool, shared with read.
	write *sql.DB
	// read runs read-only transactions: on SQLite a pool of query-only connections that run
	// beside the writer under WAL.
	read *sql.DB

	dialect *dialect
	path    string // the SQLite file, or the PostgreSQL URL without its password
	sealer  *Sealer

	// Now returns the current time; tests replace it.
	Now func() time.Time

	// auditHook, when set (by tests), sees every audit entry before it is written; an error
	// fails the entry and so the change it records.
	auditHook func(*junction.AuditEntry) error

	keyMu  sync.Mutex
	jwtKey *ecdsa.PrivateKey // loaded on first use by signingKey

	// generation counts the committed changes of runtime environments, here and on other
	// replicas (env_changes.go), so that the runtime cache knows when to recompute.
	generation atomic.Uint64
	envMu      sync.Mutex
	envWake    chan struct{} // closed at the next change
	// replicaID names this process in its change notifications; envListening is set while it
	// hears the other replicas' notifications (PostgreSQL).
	replicaID    string
	envListening atomic.Bool
	pgConfig     *pgx.ConnConfig // the listener's connection settings
	stopListen   context.CancelFunc
	listenDone   chan struct{}
}

// Open opens the database named by dsn and applies pending migrations: a PostgreSQL URL
// (postgres://… or postgresql://…) or else the path of a SQLite file, created if needed. key
// is the installation's 32-byte master key; secrets are sealed with a key derived from it.
func Open(ctx context.Context, dsn string, key []byte) (*DB, error) {
	if dsn == "" {
		return nil, fmt.Errorf("open database: no path given")
	}
	if len(key) != 32 {
		return nil, fmt.Errorf("open database: the secret key must be 32 bytes, got %d", len(key))
	}
	sealer, err := NewSealer(DeriveKey(key, "junction seal v1"))
	if err != nil {
		return nil, err
	}
	db := &DB{sealer: sealer, Now: time.Now, envWake: make(chan struct{}), replicaID: newReplicaID()}
	if IsPostgresURL(dsn) {
		err = db.openPostgres(ctx, dsn)
	} else {
		err = db.openSQLite(ctx, dsn)
	}
	if err != nil {
		return nil, err
	}
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if err := db.checkKey(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if db.pgConfig != nil {
		listenCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
		db.stopListen, db.listenDone = stop, make(chan struct{})
		go db.listenEnvChanges(listenCtx, db.pgConfig)
	}
	return db, nil
}

// Close closes every connection.
func (db *DB) Close() error {
	if db.stopListen != nil {
		db.stopListen()
		<-db.listenDone
	}
	var errs []error
	if db.read != nil && db.read != db.write {
		errs = append(errs, db.read.Close())
	}
	if db.write != nil {
		errs = append(errs, db.write.Close())
	}
	return errors.Join(errs...)
}

// Path returns the database file's path, or the PostgreSQL URL without its password.
func (db *DB) Path() string { return db.path }

// Engine names the database engine: "sqlite" or "postgres".
func (db *DB) Engine() string { return db.dialect.name }

// Stats reports the connection pool statistics of the writer and the readers (on
// PostgreSQL, the one pool twice).
func (db *DB) Stats() (write, read sql.DBStats) { return db.write.Stats(), db.read.Stats() }

// Ping reports whether the database answers.
func (db *DB) Ping(ctx context.Context) error {
	return db.inTx(ctx, false, func(tx *Tx) error {
		var one int
		return tx.QueryRowContext(ctx, `SELECT 1`).Scan(&one)
	})
}

// Tx is a transaction with the time it started, so that every row it writes carries the
// same timestamp. Its queries are written with ? placeholders, which it rebinds for the
// engine, and their errors pass through WrapError.
type Tx struct {
	tx  *sql.Tx
	db  *DB
	now time.Time
	// write is set on write transactions; envKept when the transaction says it cannot change
	// a runtime environment (keepEnv).
	write, envKept bool
	// lookups is set for PostgreSQL's read-only transactions: see lookupArgs.
	lookups bool
}

// BeginTx starts a transaction: on the writer when write is set, else on a reader.
func (db *DB) BeginTx(ctx context.Context, write bool) (*Tx, error) {
	pool := db.read
	if write {
		pool = db.write
	}
	tx, err := pool.BeginTx(ctx, &sql.TxOptions{ReadOnly: !write})
	if err != nil {
		return nil, WrapError(fmt.Errorf("begin transaction: %w", err))
	}
	return &Tx{tx: tx, db: db, now: db.Now().UTC().Truncate(time.Microsecond), write: write,
		lookups: !write && db.dialect == postgresDialect}, nil
}

// lookupArgs makes a read of PostgreSQL answer as SQLite's does when an argument holds the
// NUL character, which PostgreSQL's text cannot: no stored value has one, so nothing
// matches. U+FFFF, a noncharacter that no stored text holds either, stands in for it. A
// write with NUL in it is refused instead (WrapError: EINVALID).
func (tx *Tx) lookupArgs(args []any) []any {
	if !tx.lookups {
		return args
	}
	copied := false
	for i, a := range args {
		if s, ok := a.(string); ok && strings.IndexByte(s, 0) >= 0 {
			if !copied {
				args, copied = append([]any(nil), args...), true // the caller's slice stays as it was
			}
			args[i] = strings.ReplaceAll(s, "\x00", "\uffff")
		}
	}
	return args
}

// ExecContext runs a statement in the transaction.
func (tx *Tx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	res, err := tx.tx.ExecContext(ctx, tx.db.dialect.rebind(query), tx.lookupArgs(args)...)
	return res, WrapError(err)
}

// QueryContext runs a query in the transaction.
func (tx *Tx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	rows, err := tx.tx.QueryContext(ctx, tx.db.dialect.rebind(query), tx.lookupArgs(args)...)
	return rows, WrapError(err)
}

// QueryRowContext runs a query that returns at most one row.
func (tx *Tx) QueryRowContext(ctx context.Context, query string, args ...any) *Row {
	return &Row{row: tx.tx.QueryRowContext(ctx, tx.db.dialect.rebind(query), tx.lookupArgs(args)...)}
}

// Commit commits the transaction.
func (tx *Tx) Commit() error { return WrapError(tx.tx.Commit()) }

// Rollback aborts the transaction; after Commit it does nothing.
func (tx *Tx) Rollback() error { return tx.tx.Rollback() }

// Row is the result of QueryRowContext.
type Row struct{ row *sql.Row }

// Scan copies the row's columns into dest; sql.ErrNoRows when there was no row.
func (r *Row) Scan(dest ...any) error { return WrapError(r.row.Scan(dest...)) }

// insertID runs an INSERT … RETURNING id and returns the new row's ID. Both engines answer
// RETURNING (SQLite since 3.35), so one statement serves both.
func (tx *Tx) insertID(ctx context.Context, query string, args ...any) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, query+` RETURNING id`, args...).Scan(&id)
	return id, err
}

// inTx runs fn in a transaction and commits it when fn succeeds.
func (db *DB) inTx(ctx context.Context, write bool, fn func(tx *Tx) error) error {
	tx, err := db.BeginTx(ctx, write)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return WrapError(err)
	}
	changed := tx.changesEnv()
	if changed {
		if err := tx.announceEnvChange(ctx); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	if changed {
		db.envChanged()
	}
	return nil
}

// Migrations returns the names of the applied migrations in order.
func (db *DB) Migrations(ctx context.Context) (names []string, err error) {
	err = db.inTx(ctx, false, func(tx *Tx) error {
		names, err = queryStrings(ctx, tx, `SELECT name FROM schema_migrations ORDER BY name`)
		return err
	})
	return names, err
}

// queryStrings returns the single text column of every row of a query.
func queryStrings(ctx context.Context, tx *Tx, query string, args ...any) ([]string, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
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
	sealed, err := db.setting(ctx, "key_check", func() ([]byte, error) {
		return db.sealer.Seal([]byte(keyCheckPlaintext), "settings.key_check"), nil
	})
	if err != nil {
		return fmt.Errorf("check the secret key: %w", err)
	}
	if plain, err := db.sealer.Open(sealed, "settings.key_check"); err != nil || string(plain) != keyCheckPlaintext {
		hint := fmt.Sprintf("set JUNCTION_SECRET_KEY or restore %s.key", db.path)
		if db.dialect == postgresDialect {
			hint = "set JUNCTION_SECRET_KEY to the key the database was created with"
		}
		return fmt.Errorf("the secret key does not match the one database %s was created with: %s", db.path, hint)
	}
	return nil
}

// setting returns the installation-wide setting name, first storing the value that create
// makes when there is none yet. Processes starting at once agree on one value: the first
// insert wins and every process reads back what it stored.
func (db *DB) setting(ctx context.Context, name string, create func() ([]byte, error)) (value []byte, err error) {
	err = db.inTx(ctx, true, func(tx *Tx) error {
		tx.keepEnv()
		err := tx.QueryRowContext(ctx, `SELECT value FROM settings WHERE name = ?`, name).Scan(&value)
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		fresh, err := create()
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING`, name, fresh); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT value FROM settings WHERE name = ?`, name).Scan(&value)
	})
	return value, err
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

// Backup writes a consistent copy of a SQLite database to the file out, which must not exist
// yet, while other connections keep reading and writing. A PostgreSQL database is backed up
// with pg_dump instead: Backup says so.
func (db *DB) Backup(ctx context.Context, out string) error { return db.dialect.backup(ctx, db, out) }

// Exclusive runs fn while no other process on the same database runs an Exclusive section of
// the same name: replicas that start at once seed data (the first admin, the demo) one after
// the other, so that the second finds what the first made.
func (db *DB) Exclusive(ctx context.Context, name string, fn func() error) error {
	return db.dialect.exclusive(ctx, db, name, fn)
}

// notFound turns sql.ErrNoRows into an ENOTFOUND error with msg and wraps anything else.
func notFound(err error, msg string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return &junction.Error{Code: junction.ENOTFOUND, Message: msg}
	}
	return err
}
