package db

import (
	"context"
	"strings"

	"github.com/junction-dev/junction"
)

// The catalog search on SQLite: the FTS5 index services_fts (tokenizer unicode61 with
// remove_diacritics 2, prefix indexes), kept by triggers.

// ftsQuery makes a safe FTS5 query of words: every word becomes a quoted prefix term, so
// "twil" finds Twilio and nothing is read as an FTS operator.
func ftsQuery(words []string) string {
	terms := make([]string, len(words))
	for i, w := range words {
		terms[i] = `"` + w + `"*`
	}
	return strings.Join(terms, " ")
}

// searchServicesFTS5 ranks matches in the name first, then in the tags, then in the
// description only. Each tier is one more full-text lookup, far cheaper than scoring every
// match (bm25 reads each match's column sizes). The matches join a covering index rather than
// the table, whose rows are wide.
func searchServicesFTS5(ctx context.Context, tx *Tx, user *junction.User, words []string, fc *facetCounter) ([]*junction.Service, error) {
	q := ftsQuery(words)
	matches := `SELECT s.seq, s.kind, COALESCE(s.visibility, '') AS vis, s.display_name AS name,
		CASE WHEN s.seq IN (SELECT rowid FROM services_fts WHERE services_fts MATCH ?) THEN 0
		     WHEN s.seq IN (SELECT rowid FROM services_fts WHERE services_fts MATCH ?) THEN 1
		     ELSE 2 END AS score
		FROM services_fts JOIN services s INDEXED BY services_search ON s.seq = services_fts.rowid
		WHERE services_fts MATCH ? AND s.unlisted = ? AND ` + visibleTo("s")
	args := []any{"display_name : (" + q + ")", "tags : (" + q + ")", q, fc.filter.Unlisted, user.IsAdmin, user.ID}
	if fc.filter.Project != "" {
		matches += ` AND s.project_id = (SELECT id FROM projects WHERE handle = ?)`
		args = append(args, fc.filter.Project)
	}
	return searchPage(ctx, tx, matches, args, fc)
}
