package calls

import (
	"context"
	"database/sql"
	"fmt"
	"io"

	"callboard/internal/store"
)

// ExportCallsCSV writes userID's whole call history as the CSV export
// writes it (every column, the user's timezone), for a data export.
func (s *Service) ExportCallsCSV(ctx context.Context, userID int64, w io.Writer) error {
	exp, err := s.NewExport(ctx, userID, ListParams{})
	if err != nil {
		return err
	}
	return exp.WriteCSV(ctx, w, nil)
}

// ErasePersonalData blanks the phone numbers of userID's calls inside tx
// (account deletion), in the calls and in the full-text index: the calls
// stay (usage and invoices were computed from them) but no longer say who
// was called or who called.
func (s *Service) ErasePersonalData(ctx context.Context, tx *sql.Tx, userID int64) error {
	now := store.Millis(s.now())
	if s.db.Dialect == store.Postgres {
		_, err := tx.ExecContext(ctx, `UPDATE calls SET from_number = '', to_number = '', updated_at = $1,
			search_vector = to_tsvector('simple', summary || E'\n' || transcript) WHERE user_id = $2`, now, userID)
		if err != nil {
			return fmt.Errorf("erase call numbers: %w", err)
		}
		return nil
	}
	if _, err := tx.ExecContext(ctx, `UPDATE calls SET from_number = '', to_number = '', updated_at = $1 WHERE user_id = $2`, now, userID); err != nil {
		return fmt.Errorf("erase call numbers: %w", err)
	}
	// The index row of each call held its numbers' digits: write it again
	// without them (the owner's term stays, so searches stay narrowed).
	if _, err := tx.ExecContext(ctx, `DELETE FROM calls_fts WHERE rowid IN (SELECT id FROM calls WHERE user_id = $1)`, userID); err != nil {
		return fmt.Errorf("erase call search rows: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO calls_fts (rowid, numbers, summary, transcript)
		SELECT id, $1, summary, transcript FROM calls WHERE user_id = $2`, ownerTerm(userID), userID); err != nil {
		return fmt.Errorf("rewrite call search rows: %w", err)
	}
	return nil
}
