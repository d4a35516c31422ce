package calls

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
)

// postgresSearch is full-text search on PostgreSQL: a tsvector column of
// calls (search_vector, GIN-indexed) set with the row, queried with
// prefix tsqueries.
type postgresSearch struct{}

func (postgresSearch) insertColumns(first int) (cols, exprs string) {
	return ", search_vector", ", to_tsvector('simple', $" + strconv.Itoa(first) + ")"
}

func (postgresSearch) insertArgs(c *Call) []any { return []any{searchText(c)} }

func (postgresSearch) batch() searchBatch { return postgresSearchBatch{} }

// The plan learns nothing up front: PostgreSQL's planner weighs the index
// against the history's order itself.
func (postgresSearch) plan(context.Context, int64, []string) (searchPlan, error) {
	return searchPlan{}, nil
}

func (postgresSearch) match(a *sqlArgs, _ int64, words []string, _ searchPlan) string {
	terms := make([]string, len(words))
	for i, w := range words {
		terms[i] = "'" + w + "':*" // words hold only letters and digits
	}
	return "c.search_vector @@ to_tsquery('simple', " + a.add(strings.Join(terms, " & ")) + ")"
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

// searchText is what PostgreSQL's search vector is made from.
func searchText(c *Call) string {
	return numberTerms(c.FromNumber, c.ToNumber) + "\n" + c.Summary + "\n" + c.Transcript
}

func (postgresSearch) dropNumbers(ctx context.Context, tx *sql.Tx, userID int64) error {
	_, err := tx.ExecContext(ctx, `UPDATE calls SET search_vector = to_tsvector('simple', summary || E'\n' || transcript)
		WHERE user_id = $1`, userID)
	if err != nil {
		return fmt.Errorf("drop call numbers from the index: %w", err)
	}
	return nil
}
