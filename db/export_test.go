package db

import "database/sql"

// WritePool returns the single-connection writer pool, for tests that inspect pragmas or the
// raw tables.
func (db *DB) WritePool() *sql.DB { return db.write }

// ReadPool returns the pool of query-only readers.
func (db *DB) ReadPool() *sql.DB { return db.read }

// Sealer returns the sealer the database uses for secrets at rest.
func (db *DB) Sealer() *Sealer { return db.sealer }
