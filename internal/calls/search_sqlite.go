package calls

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"callboard/internal/searchtext"
	"callboard/internal/store"
)

// sqliteSearch is full-text search on SQLite: an FTS5 table (calls_fts,
// detail=none) whose rowid is the call's id and whose row holds the call's
// terms (its numbers' terms and the words of its summary and transcript),
// each behind the owner's prefix (searchtext.Owned: "u42xrefund"). A search
// asks only for the user's own terms, so what it reads does not grow with
// other users' calls.
//
// FTS5 answers a prefix query ("u42xrefu"*) by merging the entries of every
// term with that prefix before it returns a first call, however few are
// wanted; a plain term it reads lazily, in id order, and can seek to an id.
// So a search first looks up which of the user's terms start with each word
// (calls_fts_terms, a few seeks into the index) and asks for those terms;
// only a word that starts more than maxExpand terms (one or two letters)
// stays a prefix query, and so do digits (a number's terms).
type sqliteSearch struct {
	db *store.DB
	// listMax is the most matches a search reads up front (searchListMax;
	// tests lower it to reach both search paths).
	listMax int
}

func (*sqliteSearch) insertColumns(int) (string, string) { return "", "" }
func (*sqliteSearch) insertArgs(*Call) []any             { return nil }

func (*sqliteSearch) batch() searchBatch {
	return &sqliteSearchBatch{pending: map[int64]int{}}
}

// plan reads the user's calls matching words from the full-text index,
// stopping at listMax. SQLite plans "id IN (full-text matches)" one way
// whatever their number: it walks the user's history in order and probes
// the matches, which finds a page of common words at once but reads the
// whole history for a rare word. So a rare word's few matches are read
// first and the history is fetched from them by id; a word common in the
// user's calls (more than listMax matches) keeps the walk, over a window
// of the newest calls first (windowed: walkWindow), whose matches the index
// reads by id range without reading the word's others.
func (s *sqliteSearch) plan(ctx context.Context, userID int64, words []string) (searchPlan, error) {
	q, err := s.query(ctx, userID, words)
	if err != nil {
		return searchPlan{}, fmt.Errorf("search: %w", err)
	}
	if q == "" {
		// A word starts none of the user's terms: nothing matches.
		return searchPlan{hits: []int64{}}, nil
	}
	// One row, a JSON array: the driver's round trip per row costs more
	// than the index takes to find it.
	var list string
	if err := s.db.Read().QueryRowContext(ctx, `SELECT json_group_array(rowid) FROM
		(SELECT rowid FROM calls_fts WHERE calls_fts MATCH $1 LIMIT $2)`, q, s.listMax+1).Scan(&list); err != nil {
		return searchPlan{}, fmt.Errorf("search: %w", err)
	}
	var ids []int64
	if err := json.Unmarshal([]byte(list), &ids); err != nil {
		return searchPlan{}, fmt.Errorf("search: %w", err)
	}
	if len(ids) > s.listMax {
		return searchPlan{query: q, walk: true, windowed: true, many: s.listMax >= CountCap}, nil
	}
	return searchPlan{query: q, hits: ids}, nil
}

// match needs the query plan made (a plan without hits always has one).
func (s *sqliteSearch) match(a *sqlArgs, _ int64, _ []string, plan searchPlan) string {
	if plan.hits != nil {
		return "c.id " + a.in(s.db.Dialect, plan.hits)
	}
	// A unary plus keeps SQLite from driving the query by the matches
	// (fetching each and sorting them all): it walks the history's own
	// index and checks each call against the matches, read once. A walk
	// kept within a window reads only the matches among the window's ids.
	cond := "+c.id IN (SELECT rowid FROM calls_fts WHERE calls_fts MATCH " + a.add(plan.query)
	if plan.walk && plan.ids != nil {
		cond += " AND rowid BETWEEN " + a.add(plan.ids[0]) + " AND " + a.add(plan.ids[1])
	}
	return cond + ")"
}

// walkFirst is false: FTS5 checks no single call cheaply (each probe opens
// the index anew), so plan asks the index first; a common word's page is
// then found by walkWindow.
func (*sqliteSearch) walkFirst() bool { return false }

// maxExpand is the most terms one search word is asked as; a word that
// starts more of the user's terms is asked as a prefix.
const maxExpand = 16

// query is the full-text query of words in the user's calls: each word
// (searchtext.Words: folded as the index's terms are) as the user's terms
// that start with it, or as a prefix (digits, or a word that starts more
// than maxExpand terms), the words ANDed. It is "" when a word starts none
// of the user's terms. Terms hold only letters and digits, so quoting them
// is safe.
func (s *sqliteSearch) query(ctx context.Context, userID int64, words []string) (string, error) {
	prefix := searchtext.Prefix(userID)
	var groups []string
	seen := map[string]bool{}
	for _, w := range words {
		for _, word := range searchtext.Words(w) {
			if seen[word] {
				continue
			}
			seen[word] = true
			if searchtext.Digits(word) == word {
				// Digits start a number's terms, and numbers are nearly
				// all different: the user's terms starting with them are
				// many, their calls few, so the prefix is asked at once.
				groups = append(groups, `"`+prefix+word+`"*`)
				continue
			}
			terms, err := s.termsStarting(ctx, prefix+word)
			if err != nil {
				return "", err
			}
			switch {
			case len(terms) == 0:
				return "", nil
			case len(terms) > maxExpand:
				groups = append(groups, `"`+prefix+word+`"*`)
			default:
				for i, t := range terms {
					terms[i] = `"` + t + `"`
				}
				groups = append(groups, "("+strings.Join(terms, " OR ")+")")
			}
		}
	}
	if len(groups) == 0 {
		return "", nil
	}
	return strings.Join(groups, " AND "), nil
}

// termsStarting returns the index's terms that start with prefix, up to
// maxExpand+1: each found by a seek to the first term after the previous
// one (calls_fts_terms lists a row per term and call, in term order).
func (s *sqliteSearch) termsStarting(ctx context.Context, prefix string) ([]string, error) {
	rows, err := s.db.Read().QueryContext(ctx, `WITH RECURSIVE t(n, term) AS (
			SELECT 1, (SELECT term FROM calls_fts_terms WHERE term >= $1 LIMIT 1)
			UNION ALL
			SELECT n + 1, (SELECT term FROM calls_fts_terms WHERE term >= t.term || char(1) LIMIT 1) FROM t
			WHERE n <= $2 AND substr(t.term, 1, length($1)) = $1)
		SELECT term FROM t WHERE substr(term, 1, length($1)) = $1`, prefix, maxExpand)
	var terms []string
	err = store.EachRow(rows, err, func(r *sql.Rows) error {
		var t string
		if err := r.Scan(&t); err != nil {
			return err
		}
		terms = append(terms, t)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("terms of %q: %w", prefix, err)
	}
	return terms, nil
}

// sqliteSearchBatch queues a batch's index changes and writes them with two
// statements at its end. FTS5 flushes its pending terms into a new segment
// whenever another statement opens a savepoint, so writing the index row by
// row, between the calls' own statements, would make one tiny segment per
// call and spend most of the batch merging them.
type sqliteSearchBatch struct {
	deletes []int64
	rows    [][2]any      // rowid, terms
	pending map[int64]int // rowid → index in rows
}

func (sb *sqliteSearchBatch) changed(_ context.Context, _ *batch, p *parsedCall, old, next *Call) error {
	row := [2]any{next.ID, searchtext.Owned(next.UserID, searchtext.NumberTerms(next.FromNumber, next.ToNumber),
		searchableText(next.Summary, p.summary, p.searchSummary), searchableText(next.Transcript, p.transcript, p.searchTranscript))}
	if i, ok := sb.pending[next.ID]; ok {
		// Changed again in this batch: the pending row is replaced (and, if
		// the call was indexed before the batch, its delete is queued).
		sb.rows[i] = row
		return nil
	}
	if old != nil {
		sb.deletes = append(sb.deletes, next.ID)
	}
	sb.pending[next.ID] = len(sb.rows)
	sb.rows = append(sb.rows, row)
	return nil
}

func (sb *sqliteSearchBatch) flush(ctx context.Context, b *batch) error {
	if len(sb.deletes) > 0 {
		ids := make([]any, len(sb.deletes))
		for i, id := range sb.deletes {
			ids[i] = id
		}
		if _, err := b.tx.ExecContext(ctx, `DELETE FROM calls_fts WHERE rowid IN (`+placeholders(1, len(ids))+`)`, ids...); err != nil {
			return fmt.Errorf("delete search rows: %w", err)
		}
	}
	if len(sb.rows) == 0 {
		return nil
	}
	rows, err := json.Marshal(sb.rows)
	if err != nil {
		return fmt.Errorf("encode search rows: %w", err)
	}
	_, err = b.tx.ExecContext(ctx, `INSERT INTO calls_fts (rowid, terms) SELECT value ->> 0, value ->> 1 FROM json_each($1)`, string(rows))
	if err != nil {
		return fmt.Errorf("insert search rows: %w", err)
	}
	return nil
}

// dropNumbers rewrites the user's rows from their calls' summaries and
// transcripts alone, with the SQL function that computes them as ingest
// does (store.registerFunctions).
func (*sqliteSearch) dropNumbers(ctx context.Context, tx *sql.Tx, userID int64) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM calls_fts WHERE rowid IN (SELECT id FROM calls WHERE user_id = $1)`, userID); err != nil {
		return fmt.Errorf("drop call numbers from the index: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO calls_fts (rowid, terms)
		SELECT id, search_owner_terms(user_id, summary, transcript) FROM calls WHERE user_id = $1`, userID); err != nil {
		return fmt.Errorf("drop call numbers from the index: %w", err)
	}
	return nil
}
