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
	exp, err := s.NewExport(ctx, userID, ListFilter{})
	if err != nil {
		return err
	}
	defer exp.Close()
	return exp.WriteCSV(ctx, w, nil)
}

// ErasePersonalData blanks the phone numbers of userID's calls inside tx
// (account deletion), in the calls and in the full-text index: the calls
// stay (usage and invoices were computed from them) but no longer say who
// was called or who called.
func (s *Service) ErasePersonalData(ctx context.Context, tx *sql.Tx, userID int64) error {
	if _, err := tx.ExecContext(ctx, `UPDATE calls SET from_number = '', to_number = '', updated_at = $1 WHERE user_id = $2`,
		store.Millis(s.now()), userID); err != nil {
		return fmt.Errorf("erase call numbers: %w", err)
	}
	return s.search.dropNumbers(ctx, tx, userID)
}
