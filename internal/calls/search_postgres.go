package calls

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"

	"callboard/internal/searchtext"
	"callboard/internal/store"
)

// postgresSearch is full-text search on PostgreSQL: a tsvector column of
// calls (search_vector, GIN-indexed) set with the row, queried with prefix
// tsqueries. Each vector holds its owner's term (ownerTerm), so the index
// finds one user's matches without reading other users'.
type postgresSearch struct {
	db *store.DB
	// listMax is the most matches a search reads up front (searchListMax;
	// tests lower it to reach both search paths).
	listMax int
}

func (*postgresSearch) insertColumns(first int) (cols, exprs string) {
	return ", search_vector", ", to_tsvector('simple', $" + strconv.Itoa(first) + ")"
}

func (*postgresSearch) insertArgs(c *Call) []any { return []any{searchText(c)} }

func (*postgresSearch) batch() searchBatch { return postgresSearchBatch{} }

// plan reads the user's matches of words through the index (the words AND
// the owner's term), stopping after listMax. A rare word's few matches are
// then fetched by id; for a word common in the user's calls the history is
// walked in its order and each call checked, which finds a page after a few
// dozen calls instead of reading every match and sorting them.
//
// The planner cannot estimate a prefix query's matches and may prefer to
// scan the table for them (seconds for a rare word in a big table), so the
// query runs with sequential scans off: the index is always right here.
func (s *postgresSearch) plan(ctx context.Context, userID int64, words []string) (searchPlan, error) {
	tx, err := s.db.Read().BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return searchPlan{}, fmt.Errorf("search: %w", err)
	}
	defer func() { _ = tx.Rollback() }() // read only: nothing to undo
	if _, err := tx.ExecContext(ctx, `SET LOCAL enable_seqscan = off`); err != nil {
		return searchPlan{}, fmt.Errorf("search: %w", err)
	}
	// user_id + 0 checks the owner without offering the planner an index.
	rows, err := tx.QueryContext(ctx, `SELECT c.id FROM calls c WHERE c.search_vector @@ to_tsquery('simple', $1)
		AND c.user_id + 0 = $2 LIMIT $3`, tsquery(words)+" & '"+ownerTerm(userID)+"'", userID, s.listMax+1)
	ids, err := store.IDs(rows, err)
	if err != nil {
		return searchPlan{}, fmt.Errorf("search: %w", err)
	}
	if len(ids) > s.listMax {
		return searchPlan{walk: true, many: s.listMax >= CountCap}, nil
	}
	return searchPlan{hits: ids}, nil
}

func (s *postgresSearch) match(a *sqlArgs, userID int64, words []string, plan searchPlan) string {
	if plan.hits != nil {
		return "c.id " + a.in(s.db.Dialect, plan.hits)
	}
	if plan.walk {
		// Not an index condition (the index would hand over every match,
		// to be sorted): the planner walks the history's own index and
		// checks each call.
		return "(c.search_vector @@ to_tsquery('simple', " + a.add(tsquery(words)) + ")) IS TRUE"
	}
	return "c.search_vector @@ to_tsquery('simple', " + a.add(tsquery(words)+" & '"+ownerTerm(userID)+"'") + ")"
}

// walkFirst is true: checking one call's vector costs microseconds, while
// the index probe of a common word intersects the owner's whole posting
// list with the word's.
func (*postgresSearch) walkFirst() bool { return true }

// tsquery is the prefix query of every word. Words hold only letters and
// digits, so quoting them is safe.
func tsquery(words []string) string {
	terms := make([]string, len(words))
	for i, w := range words {
		terms[i] = "'" + w + "':*"
	}
	return strings.Join(terms, " & ")
}

// postgresSearchBatch rewrites a changed call's vector at once (a new
// call's comes with its INSERT).
type postgresSearchBatch struct{}

func (postgresSearchBatch) changed(ctx context.Context, b *batch, _ *parsedCall, old, next *Call) error {
	if old == nil {
		return nil
	}
	st, err := b.stmt(ctx, `UPDATE calls SET search_vector = to_tsvector('simple', $2) WHERE id = $1`)
	if err != nil {
		return err
	}
	if _, err := st.ExecContext(ctx, next.ID, searchText(next)); err != nil {
		return fmt.Errorf("update search vector: %w", err)
	}
	return nil
}

func (postgresSearchBatch) flush(context.Context, *batch) error { return nil }

// searchText is what PostgreSQL's search vector is made from: the owner's
// term, the numbers' terms, the summary and the transcript.
func searchText(c *Call) string {
	return ownerTerm(c.UserID) + " " + searchtext.NumberTerms(c.FromNumber, c.ToNumber) + "\n" + c.Summary + "\n" + c.Transcript
}

func (*postgresSearch) dropNumbers(ctx context.Context, tx *sql.Tx, userID int64) error {
	// The owner's term stays, so searches stay narrowed to the user.
	_, err := tx.ExecContext(ctx, `UPDATE calls SET search_vector = to_tsvector('simple', $2 || E'\n' || summary || E'\n' || transcript)
		WHERE user_id = $1`, userID, ownerTerm(userID))
	if err != nil {
		return fmt.Errorf("drop call numbers from the index: %w", err)
	}
	return nil
}
