package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"

	_ "github.com/mattn/go-sqlite3" // the sqlite3 driver
)

// pragmas are set in the DSN so that they reach every pooled connection. A 16 MB page cache
// per connection keeps the catalog's search indexes in memory at 100,000 services.
const pragmas = "_foreign_keys=on&_journal_mode=WAL&_busy_timeout=5000&_synchronous=FULL&_cache_size=-16000"

// openSQLite opens (creating if needed) the SQLite file at path: one writer connection and a
// pool of query-only readers.
func (db *DB) openSQLite(ctx context.Context, path string) error {
	if strings.ContainsAny(path, "?#") {
		// The driver reads everything after "?" as connection options.
		return fmt.Errorf("open database %s: the path must not contain ? or #", path)
	}
	db.dialect, db.path = sqliteDialect, path

	// Create the file private to its owner: it holds password and token hashes. SQLite
	// gives its -wal and -shm files the same mode.
	if f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600); err == nil {
		f.Close()
	} else if !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("create database %s: %w", path, err)
	}

	// _txlock=immediate takes the write lock at BEGIN, so a write transaction never fails
	// half-way when it upgrades from a read lock.
	var err error
	if db.write, err = sql.Open("sqlite3", path+"?"+pragmas+"&_txlock=immediate"); err != nil {
		return fmt.Errorf("open database %s: %w", path, err)
	}
	db.write.SetMaxOpenConns(1)
	db.write.SetMaxIdleConns(1)
	db.write.SetConnMaxLifetime(0)
	db.write.SetConnMaxIdleTime(0)
	if err := db.write.PingContext(ctx); err != nil {
		db.write.Close()
		return fmt.Errorf("open database %s: %w", path, err)
	}
	if db.read, err = sql.Open("sqlite3", path+"?"+pragmas+"&_query_only=true"); err != nil {
		db.write.Close()
		return fmt.Errorf("open database %s: %w", path, err)
	}
	readers := max(4, 2*runtime.NumCPU())
	db.read.SetMaxOpenConns(readers)
	db.read.SetMaxIdleConns(readers)
	return nil
}

// backupSQLite writes a consistent copy of the database to out while other connections keep
// reading and writing: VACUUM INTO copies one read snapshot. out must not exist yet. The copy
// is created private to its owner, like the database.
func backupSQLite(ctx context.Context, db *DB, out string) error {
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
