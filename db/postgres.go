package db

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"hash/fnv"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// postgresMaxConns bounds each process's pool, so that a few replicas stay well under
// PostgreSQL's default max_connections of 100.
const postgresMaxConns = 16

// openPostgres connects to the PostgreSQL database at dsn through pgx's database/sql driver:
// one pool for reads and writes.
func (db *DB) openPostgres(ctx context.Context, dsn string) error {
	db.dialect, db.path = postgresDialect, RedactURL(dsn)
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		// The parser's message may quote the URL, password and all: say only what is wrong.
		return fmt.Errorf("open database %s: not a valid PostgreSQL URL (postgres://user:password@host:5432/database?sslmode=disable)", db.path)
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = 5 * time.Second
	}
	db.pgConfig = cfg
	db.write = stdlib.OpenDB(*cfg)
	db.write.SetMaxOpenConns(postgresMaxConns)
	db.write.SetMaxIdleConns(postgresMaxConns)
	db.write.SetConnMaxIdleTime(5 * time.Minute)
	db.read = db.write
	if err := db.write.PingContext(ctx); err != nil {
		db.write.Close()
		return fmt.Errorf("open database %s: %s", db.path, oneLine(err, cfg.Password))
	}
	return nil
}

// RedactURL returns a database URL fit for printing and logging: its password (in the user
// part or a password parameter) is replaced by xxxxx. Anything that is not a URL comes back
// as it is (a SQLite path holds no password).
func RedactURL(dsn string) string {
	if !IsPostgresURL(dsn) {
		return dsn
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return strings.SplitN(dsn, "://", 2)[0] + "://(a URL that does not parse)"
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// oneLine renders a driver error on one line, without the password should it appear.
func oneLine(err error, password string) string {
	msg := strings.Join(strings.Fields(err.Error()), " ")
	if len(password) >= 4 {
		msg = strings.ReplaceAll(msg, password, "xxxxx")
	}
	return msg
}

// advisoryLock runs fn holding the PostgreSQL advisory lock for name on a connection of its
// own; the other processes' advisoryLock for the same name waits meanwhile. The lock goes
// with the connection, should the process die.
func advisoryLock(ctx context.Context, db *DB, name string, fn func() error) error {
	conn, err := db.write.Conn(ctx)
	if err != nil {
		return WrapError(fmt.Errorf("lock %s: %w", name, err))
	}
	defer conn.Close()
	h := fnv.New64a()
	h.Write([]byte("junction:" + name))
	key := int64(h.Sum64())
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, key); err != nil {
		return WrapError(fmt.Errorf("lock %s: %w", name, err))
	}
	fnErr := fn()
	if _, err := conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, key); err != nil {
		// Never hand a connection that may still hold the lock back to the pool.
		conn.Raw(func(any) error { return driver.ErrBadConn })
		return errors.Join(fnErr, WrapError(fmt.Errorf("unlock %s: %w", name, err)))
	}
	return fnErr
}

// ErrPostgresBackup is junction backup's answer for a PostgreSQL database, which pg_dump
// backs up better.
var ErrPostgresBackup = errors.New(`junction backup copies SQLite files; back up a PostgreSQL database with pg_dump, e.g. pg_dump --format=custom --file=junction.dump "$JUNCTION_DB"`)

func refuseBackup(context.Context, *DB, string) error { return ErrPostgresBackup }
