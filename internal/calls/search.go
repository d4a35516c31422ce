package calls

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

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

// ownerTerm is the search term both databases' full-text indexes hold for
// the owner of every call, so a search is narrowed to the user's calls
// inside the index (the words AND the owner) instead of after it.
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
	if digits := onlyDigits(raw); phoneLike && digits != "" {
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

// numberTerms makes search terms of each number's digits: all of them and
// the last 10, 7 and 4, so a prefix query finds a number by its start, its
// national part (without country code), its local part or its last four
// digits: "4567" and "300123" both find +92 300 1234567. (Every suffix
// would find any part of it, but costs a term per digit in the index.)
func numberTerms(numbers ...string) string {
	var sb strings.Builder
	for _, n := range numbers {
		digits := onlyDigits(n)
		last := ""
		for _, keep := range []int{len(digits), 10, 7, 4} {
			if keep > len(digits) || keep <= 0 {
				continue
			}
			term := digits[len(digits)-keep:]
			if term == last {
				continue
			}
			sb.WriteString(term)
			sb.WriteByte(' ')
			last = term
		}
	}
	return sb.String()
}

// distinctWords is text for SQLite's full-text index with each word once.
// The index is built with detail=none: it records which calls hold a term,
// never how often or where, so a transcript's repeated words only cost
// tokenizing (a third of an ingest batch's full-text work). It splits only
// where the index's tokenizer (unicode61) splits too, at ASCII characters
// other than letters and digits, and folds only ASCII case, which the
// tokenizer folds the same way: the index ends up with the same terms.
func distinctWords(text string) string {
	var w wordSet
	return w.distinct(text)
}

// wordSet is distinctWords' memory, reused across the calls of a batch so
// that a transcript costs one allocation (its result), not a map each.
type wordSet struct {
	seen map[string]struct{}
}

func (w *wordSet) distinct(text string) string {
	if w.seen == nil {
		w.seen = make(map[string]struct{}, 256)
	}
	clear(w.seen)
	var out []byte
	start, lower := -1, false
	add := func(end int) {
		word := text[start:end] // a substring: no copy
		if lower {
			word = asciiLower(word)
		}
		if _, ok := w.seen[word]; ok {
			return
		}
		w.seen[word] = struct{}{}
		if out == nil {
			out = make([]byte, 0, len(text)/2)
		} else {
			out = append(out, ' ')
		}
		out = append(out, word...)
	}
	for i := 0; i < len(text); i++ {
		c := text[i]
		isWord := c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c >= 0x80 || c >= 'A' && c <= 'Z'
		switch {
		case isWord && start < 0:
			start, lower = i, c >= 'A' && c <= 'Z'
		case isWord:
			lower = lower || c >= 'A' && c <= 'Z'
		case start >= 0:
			add(i)
			start = -1
		}
	}
	if start >= 0 {
		add(len(text))
	}
	return string(out)
}

// asciiLower folds A-Z only: other letters are left for the tokenizer,
// whose case folding may differ from Go's.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + ('a' - 'A')
		}
	}
	return string(b)
}

// searchableText is distinctWords(stored), taken from the report's own
// reduced text when the stored text is the report's (the usual case).
func searchableText(stored string, reported *string, reduced string) string {
	if reported != nil && *reported == stored {
		return reduced
	}
	return distinctWords(stored)
}

func onlyDigits(s string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			b = append(b, s[i])
		}
	}
	return string(b)
}
