package calls

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"callboard/internal/searchtext"
	"callboard/internal/store"
)

// searchIndex is the full-text search of calls: how ingest keeps the index
// up to date and how the history asks it. There is one implementation per
// database (search_sqlite.go, search_postgres.go), chosen once in
// NewService; nothing else in the package knows which one it has.
type searchIndex interface {
	// insertColumns are the columns a new call's INSERT also sets (after
	// the call's own), as ", col" and ", expression over $first…" lists,
	// and insertArgs the values of those parameters.
	insertColumns(first int) (cols, exprs string)
	insertArgs(c *Call) []any
	// batch keeps the index for one ingest transaction.
	batch() searchBatch
	// plan prepares a search of words in userID's calls, before the
	// history's queries run.
	plan(ctx context.Context, userID int64, words []string) (searchPlan, error)
	// match is the SQL condition, on calls c, of a call matching words.
	match(a *sqlArgs, userID int64, words []string, plan searchPlan) string
	// dropNumbers rewrites the index entries of userID's calls without
	// their numbers, inside tx (account deletion, which blanks them).
	dropNumbers(ctx context.Context, tx *sql.Tx, userID int64) error
	// walkFirst tells whether a history page should first walk the newest
	// calls checking each (cheap per call), before planning (walkNewest).
	walkFirst() bool
}

// searchBatch keeps the index during one ingest transaction.
type searchBatch interface {
	// changed is told about a call whose searched text (numbers, summary,
	// transcript) is new (old is nil) or changed.
	changed(ctx context.Context, b *batch, p *parsedCall, old, next *Call) error
	// flush is called once, after the batch's last call.
	flush(ctx context.Context, b *batch) error
}

// searchPlan is what a search learned before the history's queries.
type searchPlan struct {
	// hits are all the user's calls the words match, when they are few;
	// nil when there are many (or the index cannot tell cheaply).
	hits []int64
	// walk asks for the history to be walked in its order, each call
	// checked, rather than the index asked for every match: the words are
	// common in the user's calls, so a page fills after a few dozen calls.
	// A count, which reads matches in no order, never walks.
	walk bool
	// whole is true when the walk covers the user's whole history (it is
	// short): a count then costs no more than the page.
	whole bool
	// many is true when more of the user's calls match than a count
	// reports (CountCap): counting again would only confirm it.
	many bool
	// query is the search in the index's own terms when plan made one
	// (SQLite: each word as the user's terms that start with it); match
	// uses it.
	query string
	// windowed tells that the index reads the matches within a range of
	// call ids cheaply (SQLite): the history then walks a window of the
	// newest calls first (walkWindow), asking only for matches among them.
	windowed bool
	// ids, when set, are the lowest and highest call id in the window a
	// walk stays in (f.bound ends the walk there).
	ids *[2]int64
}

// newSearchIndex is the search of db's dialect.
func newSearchIndex(db *store.DB) searchIndex {
	if db.Dialect == store.Postgres {
		return &postgresSearch{db: db, listMax: searchListMax}
	}
	return &sqliteSearch{db: db, listMax: searchListMax}
}

// searchListMax is the most matches a search reads up front to tell a rare
// word (its matches are fetched by id) from a common one (the history is
// walked and each call checked).
const searchListMax = 300

// ownerTerm is the search term PostgreSQL's search vectors hold for the
// owner of every call, so a search is narrowed to the user's calls inside
// the index (the words AND the owner) instead of after it. (SQLite's index
// qualifies every term with its owner instead: searchtext.Owned.)
func ownerTerm(userID int64) string { return "cbowner" + strconv.FormatInt(userID, 10) }

// maxSearchLen bounds the search text; maxSearchWords the terms in it.
const (
	maxSearchLen   = 200
	maxSearchWords = 8
	// maxAgentScan bounds the agents whose names a search looks at.
	maxAgentScan = 5000
)

// errSearch is why a search text is unusable, as its message.
type errSearch string

func (e errSearch) Error() string { return string(e) }

// searchWords splits a search into the words full-text search looks for;
// text made only of digits and phone punctuation is one number. Errors:
// errSearch when the search is unusable.
func searchWords(raw string) ([]string, error) {
	raw = strings.TrimSpace(raw)
	if utf8.RuneCountInString(raw) > maxSearchLen {
		return nil, errSearch(fmt.Sprintf("must be at most %d characters", maxSearchLen))
	}
	phoneLike := strings.IndexFunc(raw, func(r rune) bool {
		return !(r >= '0' && r <= '9' || strings.ContainsRune("+-() .", r))
	}) < 0
	if digits := searchtext.Digits(raw); phoneLike && digits != "" {
		return []string{digits}, nil
	}
	words := strings.FieldsFunc(strings.ToLower(raw), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	if len(words) == 0 {
		return nil, errSearch("must contain a letter or digit")
	}
	if len(words) > maxSearchWords {
		return nil, errSearch(fmt.Sprintf("must have at most %d words", maxSearchWords))
	}
	return words, nil
}

// agentsNamed returns the user's agents whose name contains text
// (case-insensitively). A customer has a handful of agents; the scan is
// bounded anyway.
func (s *Service) agentsNamed(ctx context.Context, userID int64, text string) ([]int64, error) {
	needle := strings.ToLower(strings.TrimSpace(text))
	rows, err := s.db.Read().QueryContext(ctx, `SELECT id, name FROM agents WHERE user_id = $1 ORDER BY id LIMIT $2`, userID, maxAgentScan)
	var ids []int64
	if err := store.EachRow(rows, err, func(r *sql.Rows) error {
		var id int64
		var name string
		if err := r.Scan(&id, &name); err != nil {
			return err
		}
		if strings.Contains(strings.ToLower(name), needle) {
			ids = append(ids, id)
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("search agents: %w", err)
	}
	return ids, nil
}

// searchableText is the distinct words of stored (searchtext.Distinct),
// taken from the report's own reduced text when the stored text is the
// report's (the usual case: it was reduced before the write transaction).
func searchableText(stored string, reported *string, reduced string) string {
	if reported != nil && *reported == stored {
		return reduced
	}
	return searchtext.Distinct(stored)
}
