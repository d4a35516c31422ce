package calls

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"callboard/internal/store"
)

// sqliteSearch is full-text search on SQLite: an FTS5 table (calls_fts,
// detail=none) whose rowid is the call's id. Each row holds the owner's
// term (ownerTerm), so a search is narrowed to the user inside the index,
// and each word of a summary or transcript once.
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
// user's calls (more than listMax matches) keeps the walk.
func (s *sqliteSearch) plan(ctx context.Context, userID int64, words []string) (searchPlan, error) {
	rows, err := s.db.Read().QueryContext(ctx, `SELECT rowid FROM calls_fts WHERE calls_fts MATCH $1 LIMIT $2`,
		ftsQuery(userID, words), s.listMax+1)
	ids, err := store.IDs(rows, err)
	if err != nil {
		return searchPlan{}, fmt.Errorf("search: %w", err)
	}
	if len(ids) > s.listMax {
		return searchPlan{walk: true, many: s.listMax >= CountCap}, nil
	}
	return searchPlan{hits: ids}, nil
}

func (s *sqliteSearch) match(a *sqlArgs, userID int64, words []string, plan searchPlan) string {
	if plan.hits != nil {
		return "c.id " + a.in(s.db.Dialect, plan.hits)
	}
	// A unary plus keeps SQLite from driving the query by the matches
	// (fetching each and sorting them all): it walks the history's own
	// index and checks each call against the matches, read once.
	return "+c.id IN (SELECT rowid FROM calls_fts WHERE calls_fts MATCH " + a.add(ftsQuery(userID, words)) + ")"
}

// walkFirst is false: FTS5 checks no single call cheaply (a prefix query
// reads the word's whole posting list whatever rows it is asked about).
func (*sqliteSearch) walkFirst() bool { return false }

// ftsQuery is the SQLite full-text query for words in the user's calls:
// every word as a prefix, and the owner's term. Words hold only letters
// and digits, so quoting them is safe.
func ftsQuery(userID int64, words []string) string {
	terms := make([]string, 0, len(words)+1)
	for _, w := range words {
		terms = append(terms, `"`+w+`"*`)
	}
	return strings.Join(append(terms, `"`+ownerTerm(userID)+`"`), " AND ")
}

// sqliteSearchBatch queues a batch's index changes and writes them with two
// statements at its end. FTS5 flushes its pending terms into a new segment
// whenever another statement opens a savepoint, so writing the index row by
// row, between the calls' own statements, would make one tiny segment per
// call and spend most of the batch merging them.
type sqliteSearchBatch struct {
	deletes []int64
	rows    [][4]any      // rowid, numbers, summary, transcript
	pending map[int64]int // rowid → index in rows
}

func (sb *sqliteSearchBatch) changed(_ context.Context, _ *batch, p *parsedCall, old, next *Call) error {
	row := [4]any{next.ID, ownerTerm(next.UserID) + " " + numberTerms(next.FromNumber, next.ToNumber),
		searchableText(next.Summary, p.summary, p.searchSummary), searchableText(next.Transcript, p.transcript, p.searchTranscript)}
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
	_, err = b.tx.ExecContext(ctx, `INSERT INTO calls_fts (rowid, numbers, summary, transcript)
		SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3 FROM json_each($1)`, string(rows))
	if err != nil {
		return fmt.Errorf("insert search rows: %w", err)
	}
	return nil
}

func (*sqliteSearch) dropNumbers(ctx context.Context, tx *sql.Tx, userID int64) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM calls_fts WHERE rowid IN (SELECT id FROM calls WHERE user_id = $1)`, userID); err != nil {
		return fmt.Errorf("drop call numbers from the index: %w", err)
	}
	// The owner's term stays, so searches stay narrowed to the user.
	if _, err := tx.ExecContext(ctx, `INSERT INTO calls_fts (rowid, numbers, summary, transcript)
		SELECT id, $1, summary, transcript FROM calls WHERE user_id = $2`, ownerTerm(userID), userID); err != nil {
		return fmt.Errorf("drop call numbers from the index: %w", err)
	}
	return nil
}
