package notify

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"callboard/internal/apperr"
	"callboard/internal/store"
)

// Notification is a stored notification as the API shows it.
type Notification struct {
	ID        int64             `json:"id"`
	Category  string            `json:"category" enum:"calls,billing,security,system"`
	Kind      string            `json:"kind" doc:"What happened: call.finished, call.missed, password.changed, signin.new, invoice.issued, plan.changed, …"`
	Title     string            `json:"title"`
	Body      string            `json:"body"`
	Data      map[string]string `json:"data" doc:"Ids and values for links, such as call_id."`
	Read      bool              `json:"read"`
	CreatedAt time.Time         `json:"created_at"`
}

const columns = `id, category, kind, title, body, data, created_at, read_at`

func scan(r interface{ Scan(...any) error }) (Notification, error) {
	var n Notification
	var data string
	var created int64
	var read sql.NullInt64
	if err := r.Scan(&n.ID, &n.Category, &n.Kind, &n.Title, &n.Body, &data, &created, &read); err != nil {
		return Notification{}, err
	}
	n.CreatedAt, n.Read = store.Time(created), read.Valid
	if err := json.Unmarshal([]byte(data), &n.Data); err != nil || n.Data == nil {
		n.Data = map[string]string{}
	}
	return n, nil
}

// Page is a page of notifications, newest first.
type Page struct {
	Results     []Notification
	UnreadCount int
	// NextBefore is the cursor of the next (older) page; 0 on the last.
	NextBefore int64
}

// List returns up to limit (1–100) of userID's notifications older than
// before (0: the newest), only unread ones when unread.
func (s *Service) List(ctx context.Context, userID int64, unread bool, before int64, limit int) (Page, error) {
	if limit < 1 || limit > 100 {
		limit = 20
	}
	q := `SELECT ` + columns + ` FROM notifications WHERE user_id = $1`
	args := []any{userID}
	if unread {
		q += ` AND read_at IS NULL`
	}
	if before > 0 {
		args = append(args, before)
		q += fmt.Sprintf(` AND id < $%d`, len(args))
	}
	q += fmt.Sprintf(` ORDER BY id DESC LIMIT %d`, limit+1)
	page := Page{Results: []Notification{}}
	rows, err := s.db.Read().QueryContext(ctx, q, args...)
	if err := store.EachRow(rows, err, func(r *sql.Rows) error {
		n, err := scan(r)
		page.Results = append(page.Results, n)
		return err
	}); err != nil {
		return Page{}, fmt.Errorf("list notifications: %w", err)
	}
	if len(page.Results) > limit {
		page.Results = page.Results[:limit]
		page.NextBefore = page.Results[limit-1].ID
	}
	if page.UnreadCount, err = s.UnreadCount(ctx, userID); err != nil {
		return Page{}, err
	}
	return page, nil
}

// UnreadCount tells how many of userID's notifications are unread (the
// overview's unread_notifications). It reads a partial index of unread
// rows only.
func (s *Service) UnreadCount(ctx context.Context, userID int64) (int, error) {
	var n int
	if err := s.db.Read().QueryRowContext(ctx, `SELECT count(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL`, userID).Scan(&n); err != nil {
		return 0, fmt.Errorf("count unread notifications: %w", err)
	}
	return n, nil
}

// MaxMarkIDs bounds the ids of one mark-read request.
const MaxMarkIDs = 500

// MarkRead marks userID's notifications read: those of ids, or every one
// when all. Ids of other users' notifications (or of none) are ignored.
// It returns how many changed. Errors: Invalid when neither or both are
// given, or too many ids.
func (s *Service) MarkRead(ctx context.Context, userID int64, ids []int64, all bool) (int64, error) {
	switch {
	case all && len(ids) > 0:
		return 0, apperr.Invalid("body", "send either ids or all, not both")
	case !all && len(ids) == 0:
		return 0, apperr.Invalid("body.ids", "list at least one id, or send all: true")
	case len(ids) > MaxMarkIDs:
		return 0, apperr.Invalid("body.ids", fmt.Sprintf("at most %d ids at once", MaxMarkIDs))
	}
	var n int64
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		q := `UPDATE notifications SET read_at = $1 WHERE user_id = $2 AND read_at IS NULL`
		args := []any{store.Millis(s.cfg.Now()), userID}
		if !all {
			in, arg := store.InList(s.db.Dialect, 3, ids)
			q += ` AND id ` + in
			args = append(args, arg)
		}
		res, err := tx.ExecContext(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("mark notifications read: %w", err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}

// exportBatch is how many notifications an export reads per query.
const exportBatch = 500

// ExportNotifications writes every notification of userID as a JSON
// array, oldest first, a batch at a time so memory stays flat.
func (s *Service) ExportNotifications(ctx context.Context, userID int64, w io.Writer) error {
	if _, err := io.WriteString(w, "["); err != nil {
		return err
	}
	enc := json.NewEncoder(w)
	var after int64
	first := true
	for {
		rows, err := s.db.Read().QueryContext(ctx, `SELECT `+columns+` FROM notifications WHERE user_id = $1 AND id > $2 ORDER BY id LIMIT $3`,
			userID, after, exportBatch)
		var batch []Notification
		if err := store.EachRow(rows, err, func(r *sql.Rows) error {
			n, err := scan(r)
			batch = append(batch, n)
			return err
		}); err != nil {
			return fmt.Errorf("export notifications: %w", err)
		}
		for _, n := range batch {
			if !first {
				if _, err := io.WriteString(w, ","); err != nil {
					return err
				}
			}
			first = false
			if err := enc.Encode(n); err != nil {
				return err
			}
			after = n.ID
		}
		if len(batch) < exportBatch {
			break
		}
	}
	_, err := io.WriteString(w, "]\n")
	return err
}

// ErasePersonalData deletes every notification and stream ticket of
// userID inside tx (account deletion).
func (s *Service) ErasePersonalData(ctx context.Context, tx *sql.Tx, userID int64) error {
	for _, q := range []string{`DELETE FROM notifications WHERE user_id = $1`, `DELETE FROM notification_stream_tickets WHERE user_id = $1`} {
		if _, err := tx.ExecContext(ctx, q, userID); err != nil {
			return fmt.Errorf("erase notifications: %w", err)
		}
	}
	return nil
}
