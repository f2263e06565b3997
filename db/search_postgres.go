package db

import (
	"context"
	"strings"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"

	"github.com/junction-dev/junction"
)

// The catalog search on PostgreSQL behaves as FTS5 does on SQLite: word-prefix matches
// ("twil" finds Twilio), accents and case ignored, the name ranked before the tags before the
// description. services.search is a tsvector of the display name (weight A), the tags (B)
// and the description (C) under a GIN index; the store fills it from Go, with the words split
// as FTS5's unicode61 tokenizer splits them and folded (lower case, no accents), so that both
// engines find the same services and no extension (unaccent) is needed. A query is then a
// tsquery of prefix terms ('twil':*), with :*A and :*B for the ranking tiers. The search reads
// service_search, a narrow copy of services kept by a trigger (migration 0009). pg_trgm was
// measured against this at 100,000 rows (README, "Catalog search on PostgreSQL"): as fast for
// whole words, but a one- or two-letter prefix (what a person has typed after a keystroke or
// two) has no trigram to look up, so it scans every row, ten times slower; it also matches
// inside words, not at their start, and its index is half as large again.

// foldWords is the text the index holds for s: its words, lower-cased and without
// diacritics, separated by spaces, which PostgreSQL's parser keeps as they are.
func foldWords(s string) string {
	words := splitWords(s)
	for i, w := range words {
		words[i] = foldWord(w)
	}
	return strings.Join(words, " ")
}

var stripMarks = runes.Remove(runes.In(unicode.Mn))

// foldWord lower-cases a word and drops its accents (é is e, Å is a).
func foldWord(w string) string {
	folded, _, err := transform.String(transform.Chain(norm.NFD, stripMarks, norm.NFC), w)
	if err != nil {
		folded = w
	}
	return strings.ToLower(folded)
}

// tsQuery makes a tsquery of prefix terms from words, each restricted to weight when one is
// given. The words hold only letters and digits, so no quoting or operator can slip in.
func tsQuery(words []string, weight string) string {
	terms := make([]string, 0, len(words))
	for _, w := range words {
		if f := foldWord(w); f != "" {
			terms = append(terms, "'"+f+"':*"+weight)
		}
	}
	return strings.Join(terms, " & ")
}

func searchServicesTSVector(ctx context.Context, tx *Tx, user *junction.User, words []string, fc *facetCounter) ([]*junction.Service, error) {
	all := tsQuery(words, "")
	if all == "" {
		return nil, nil
	}
	// service_search is the narrow copy of services that a trigger keeps (migration 0009):
	// reading the matches' rows of services itself costs several times more.
	matches := `SELECT s.seq, s.kind, COALESCE(s.visibility, '') AS vis, s.sort_key AS name,
		CASE WHEN s.search @@ ?::tsquery THEN 0 WHEN s.search @@ ?::tsquery THEN 1 ELSE 2 END AS score
		FROM service_search s WHERE s.search @@ ?::tsquery AND s.unlisted = ? AND ` + visibleTo("s")
	args := []any{tsQuery(words, "A"), tsQuery(words, "B"), all, fc.filter.Unlisted, user.IsAdmin, user.ID}
	if fc.filter.Project != "" {
		matches += ` AND s.project_id = (SELECT id FROM projects WHERE handle = ?)`
		args = append(args, fc.filter.Project)
	}
	return searchPage(ctx, tx, matches, args, fc)
}

// indexServiceTSVector refreshes the search words of service id from its stored text.
func indexServiceTSVector(ctx context.Context, tx *Tx, id string) error {
	var name, tags, description string
	if err := tx.QueryRowContext(ctx, `SELECT display_name, tags, description FROM services WHERE id = ?`, id).Scan(&name, &tags, &description); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `UPDATE services SET search = setweight(to_tsvector('simple', ?), 'A')
		|| setweight(to_tsvector('simple', ?), 'B') || setweight(to_tsvector('simple', ?), 'C') WHERE id = ?`,
		foldWords(name), foldWords(tags), foldWords(description), id)
	return err
}
