package db

import (
	"context"
	"strconv"
	"strings"

	"github.com/junction-dev/junction"
)

// dialect is what differs between the two engines the store runs on. The SQL everywhere else
// is written once, with ? placeholders, and runs on both; each field here names one concern,
// implemented in the engine's file (sqlite.go, postgres.go) or a file of its own
// (search_sqlite.go, search_postgres.go).
type dialect struct {
	name string // "sqlite" or "postgres": the suffix of its migration files

	// rebind turns the ? placeholders of a query into the engine's own.
	rebind func(query string) string

	// forUpdate ends a SELECT that locks the rows it reads until the transaction ends, so
	// that two writers of the same project or component take turns. SQLite needs none: its
	// one writer connection already runs write transactions one at a time.
	forUpdate string
	// forShare is forUpdate for readers that only need the row to stay as it is (a
	// connection choosing a service's credential while someone removes it).
	forShare string

	// forNoKeyUpdate is forUpdate for a row whose key stays: it does not wait for the
	// foreign-key checks of rows that refer to it (a component's mappings), so that writers
	// of one component take turns without deadlocking with their own inserts.
	forNoKeyUpdate string

	// searchServices answers a catalog query (made safe by searchWords) with the facets.
	searchServices func(ctx context.Context, tx *Tx, user *junction.User, words []string, fc *facetCounter) ([]*junction.Service, error)

	// searchNameOrder orders the matches of searchServices (column name) by name, as
	// SQLite's NOCASE does.
	searchNameOrder string

	// indexService refreshes the search index of one service after its searchable text
	// changed. SQLite's full-text index follows by triggers.
	indexService func(ctx context.Context, tx *Tx, id string) error

	// exclusive runs fn while holding the lock called name, which other processes on the
	// same database cannot take meanwhile. A SQLite file has one process.
	exclusive func(ctx context.Context, db *DB, name string, fn func() error) error

	// backup writes a copy of the database to the file out.
	backup func(ctx context.Context, db *DB, out string) error
}

var sqliteDialect = &dialect{
	name:            "sqlite",
	rebind:          func(q string) string { return q },
	searchServices:  searchServicesFTS5,
	searchNameOrder: "name COLLATE NOCASE",
	indexService:    func(context.Context, *Tx, string) error { return nil },
	exclusive:       func(_ context.Context, _ *DB, _ string, fn func() error) error { return fn() },
	backup:          backupSQLite,
}

var postgresDialect = &dialect{
	name:           "postgres",
	rebind:         rebindDollar,
	forUpdate:      " FOR UPDATE",
	forShare:       " FOR SHARE",
	forNoKeyUpdate: " FOR NO KEY UPDATE",
	searchServices: searchServicesTSVector,
	// service_search.sort_key is already folded, under the "C" collation.
	searchNameOrder: "name",
	indexService:    indexServiceTSVector,
	exclusive:       advisoryLock,
	backup:          refuseBackup,
}

// IsPostgresURL reports whether a --db value names a PostgreSQL database rather than a
// SQLite file.
func IsPostgresURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// rebindDollar numbers the ? placeholders of a query as $1, $2… for PostgreSQL, leaving
// question marks inside string literals, quoted identifiers and comments alone.
func rebindDollar(query string) string {
	if !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); i++ {
		switch c := query[i]; c {
		case '\'', '"':
			end := strings.IndexByte(query[i+1:], c)
			if end < 0 {
				b.WriteString(query[i:])
				return b.String()
			}
			b.WriteString(query[i : i+end+2])
			i += end + 1
		case '-':
			if strings.HasPrefix(query[i:], "--") {
				end := strings.IndexByte(query[i:], '\n')
				if end < 0 {
					end = len(query) - i
				}
				b.WriteString(query[i : i+end])
				i += end - 1
				continue
			}
			b.WriteByte(c)
		case '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
