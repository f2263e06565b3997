//go:build !sqlite_fts5

package db

// The catalog's search needs SQLite's FTS5 module, which go-sqlite3 compiles in only with the
// sqlite_fts5 build tag. Without it this file stops the build with the name below, instead of
// the database failing at run time with "no such module: fts5".
var _ = build_with_tags_sqlite_fts5 // go build -tags sqlite_fts5 (see the Makefile)
