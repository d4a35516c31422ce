// Package audit is the security log: the one API through which every
// capability records security events (sign-ins and failures, password
// changes, revoked sessions, profile changes, exports, deletions), the
// security-log page that shows users their own entries, the entries'
// share of a data export and of an account's erasure, and the retention
// purge (Run).
//
// Tables: audit_events. Entries outlive their user's session but not the
// retention (Config.Retention, 365 days by default); an erased account's
// entries keep their action and time but lose address, device and details.
package audit

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"callboard/internal/store"
)

// The actions recorded. Capabilities may record others; these are the ones
// the security log explains.
const (
	ActionRegistered      = "user.registered"
	ActionLogin           = "login.succeeded"
	ActionLoginFailed     = "login.failed"
	ActionLogout          = "logout"
	ActionRefreshReuse    = "session.refresh_reuse"
	ActionSessionRevoked  = "session.revoked"
	ActionPasswordChanged = "password.changed"
	ActionPasswordFailed  = "password.change_failed"
	ActionPasswordReset   = "password.reset"
	ActionProfileUpdated  = "profile.updated"
	ActionEmailChanged    = "email.changed"
	ActionDataExported    = "data.exported"
	ActionAccountDeleted  = "account.deleted"
)

// Entry is one security event. UserID 0 records an event of no known
// account (a failed sign-in with an unknown email). Details are short
// strings; they are stored as a JSON object and shown to the user, so
// never put secrets in them.
type Entry struct {
	UserID    int64
	Action    string
	IP        string
	UserAgent string
	Details   map[string]string
}

// Config is what a Log is built from. DB is required.
type Config struct {
	DB *store.DB
	// Retention is how long entries are kept (365 days).
	Retention time.Duration
	// PurgeEvery is how often Run purges (1 hour).
	PurgeEvery time.Duration
	Now        func() time.Time // the clock; time.Now when nil
	Logger     *slog.Logger     // purge failures; discarded when nil
}

// Log records and shows security events.
type Log struct {
	db  *store.DB
	cfg Config
}

// DefaultRetention is how long entries are kept unless configured.
const DefaultRetention = 365 * 24 * time.Hour

// NewLog returns a Log.
func NewLog(cfg Config) *Log {
	if cfg.Retention <= 0 {
		cfg.Retention = DefaultRetention
	}
	if cfg.PurgeEvery <= 0 {
		cfg.PurgeEvery = time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Log{db: cfg.DB, cfg: cfg}
}

// Record stores e in a transaction of its own.
func (l *Log) Record(ctx context.Context, e Entry) error {
	return l.db.Tx(ctx, func(tx *sql.Tx) error { return l.RecordTx(ctx, tx, e) })
}

// RecordTx stores e inside tx, so the event and what it records commit
// (or roll back) together.
func (l *Log) RecordTx(ctx context.Context, tx *sql.Tx, e Entry) error {
	return WriteTx(ctx, tx, e, l.cfg.Now())
}

// WriteTx stores e inside tx at time at: RecordTx for a capability that
// keeps its own clock and has no Log at hand (auth's sign-in paths).
func WriteTx(ctx context.Context, tx *sql.Tx, e Entry, at time.Time) error {
	var userID *int64
	if e.UserID > 0 {
		userID = &e.UserID
	}
	detail := ""
	if len(e.Details) > 0 {
		clean := make(map[string]string, len(e.Details))
		for k, v := range e.Details {
			clean[cleanText(k, 64)] = cleanText(v, 256)
		}
		b, err := json.Marshal(clean)
		if err != nil {
			return fmt.Errorf("audit %s details: %w", e.Action, err)
		}
		detail = string(b)
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO audit_events (user_id, kind, ip, user_agent, detail, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		userID, e.Action, cleanText(e.IP, 64), cleanText(e.UserAgent, 512), detail, store.Millis(at))
	if err != nil {
		return fmt.Errorf("audit %s: %w", e.Action, err)
	}
	return nil
}

// cleanText makes s storable on both databases and bounded: invalid UTF-8
// and control characters (PostgreSQL's text refuses NUL) become U+FFFD, and
// the result is cut at n bytes on a rune boundary.
func cleanText(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return utf8.RuneError
		}
		return r
	}, strings.ToValidUTF8(s, string(utf8.RuneError)))
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// Event is an entry as its user sees it.
type Event struct {
	ID        int64             `json:"id"`
	Action    string            `json:"action" doc:"What happened, such as login.succeeded, login.failed, password.changed, session.revoked, profile.updated, data.exported."`
	IP        string            `json:"ip" doc:"The client address."`
	UserAgent string            `json:"user_agent"`
	Details   map[string]string `json:"details"`
	At        time.Time         `json:"at"`
}

func scanEvent(r interface{ Scan(...any) error }) (Event, error) {
	var e Event
	var detail string
	var at int64
	if err := r.Scan(&e.ID, &e.Action, &e.IP, &e.UserAgent, &detail, &at); err != nil {
		return Event{}, err
	}
	e.At = store.Time(at)
	e.Details = map[string]string{}
	if detail != "" {
		// Older entries (before this package) hold a plain note.
		if err := json.Unmarshal([]byte(detail), &e.Details); err != nil {
			e.Details = map[string]string{"note": detail}
		}
	}
	return e, nil
}

// Page is one page of a user's security log, newest first.
type Page struct {
	Results []Event `json:"results"`
	// NextCursor continues after the last result; "" on the last page.
	NextCursor string `json:"-"`
}

// List returns up to limit (1–100) of userID's entries older than the
// entry before (0: from the newest).
func (l *Log) List(ctx context.Context, userID, before int64, limit int) (Page, error) {
	if limit < 1 || limit > 100 {
		limit = 20
	}
	q := `SELECT id, kind, ip, user_agent, detail, created_at FROM audit_events WHERE user_id = $1`
	args := []any{userID}
	if before > 0 {
		q += ` AND id < $2`
		args = append(args, before)
	}
	q += fmt.Sprintf(` ORDER BY id DESC LIMIT %d`, limit+1)
	rows, err := l.db.Read().QueryContext(ctx, q, args...)
	page := Page{Results: []Event{}}
	if err := store.EachRow(rows, err, func(r *sql.Rows) error {
		e, err := scanEvent(r)
		page.Results = append(page.Results, e)
		return err
	}); err != nil {
		return Page{}, fmt.Errorf("list audit events: %w", err)
	}
	if len(page.Results) > limit {
		page.Results = page.Results[:limit]
		page.NextCursor = fmt.Sprint(page.Results[limit-1].ID)
	}
	return page, nil
}

// exportBatch is how many entries an export reads per query.
const exportBatch = 500

// ExportAudit writes every entry of userID as a JSON array, oldest first,
// reading a batch at a time so memory stays flat.
func (l *Log) ExportAudit(ctx context.Context, userID int64, w io.Writer) error {
	if _, err := io.WriteString(w, "["); err != nil {
		return err
	}
	enc := json.NewEncoder(w)
	var after int64
	first := true
	for {
		rows, err := l.db.Read().QueryContext(ctx, `SELECT id, kind, ip, user_agent, detail, created_at FROM audit_events
			WHERE user_id = $1 AND id > $2 ORDER BY id LIMIT $3`, userID, after, exportBatch)
		var batch []Event
		if err := store.EachRow(rows, err, func(r *sql.Rows) error {
			e, err := scanEvent(r)
			batch = append(batch, e)
			return err
		}); err != nil {
			return fmt.Errorf("export audit events: %w", err)
		}
		for _, e := range batch {
			if !first {
				if _, err := io.WriteString(w, ","); err != nil {
					return err
				}
			}
			first = false
			if err := enc.Encode(e); err != nil {
				return err
			}
			after = e.ID
		}
		if len(batch) < exportBatch {
			break
		}
	}
	_, err := io.WriteString(w, "]\n")
	return err
}

// CountSince tells how many entries of action userID has since t: how a
// capability limits a costly or sensitive action per user across every
// instance (failed password changes, data exports).
func (l *Log) CountSince(ctx context.Context, userID int64, action string, t time.Time) (int, error) {
	var n int
	err := l.db.Read().QueryRowContext(ctx, `SELECT count(*) FROM audit_events WHERE user_id = $1 AND kind = $2 AND created_at >= $3`,
		userID, action, store.Millis(t)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count audit events: %w", err)
	}
	return n, nil
}

// LastSince returns when userID last recorded action at or after t, and
// whether it did.
func (l *Log) LastSince(ctx context.Context, userID int64, action string, t time.Time) (time.Time, bool, error) {
	var last sql.NullInt64
	err := l.db.Read().QueryRowContext(ctx, `SELECT max(created_at) FROM audit_events WHERE user_id = $1 AND kind = $2 AND created_at >= $3`,
		userID, action, store.Millis(t)).Scan(&last)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("last audit event: %w", err)
	}
	if !last.Valid {
		return time.Time{}, false, nil
	}
	return store.Time(last.Int64), true, nil
}

// ErasePersonalData blanks the address, device and details of userID's
// entries inside tx (account deletion): what happened and when stays, for
// the account's security history, without anything that identifies the
// person.
func (l *Log) ErasePersonalData(ctx context.Context, tx *sql.Tx, userID int64) error {
	if _, err := tx.ExecContext(ctx, `UPDATE audit_events SET ip = '', user_agent = '', detail = '' WHERE user_id = $1`, userID); err != nil {
		return fmt.Errorf("erase audit events: %w", err)
	}
	return nil
}

// purgeBatch bounds one purge statement, so a large backlog never holds
// the writer for long.
const purgeBatch = 5000

// Purge deletes entries older than the retention and returns how many.
func (l *Log) Purge(ctx context.Context) (int64, error) {
	cutoff := store.Millis(l.cfg.Now().Add(-l.cfg.Retention))
	var total int64
	for {
		var n int64
		err := l.db.Tx(ctx, func(tx *sql.Tx) error {
			res, err := tx.ExecContext(ctx, `DELETE FROM audit_events WHERE id IN
				(SELECT id FROM audit_events WHERE created_at < $1 ORDER BY created_at LIMIT $2)`, cutoff, purgeBatch)
			if err != nil {
				return fmt.Errorf("purge audit events: %w", err)
			}
			n, err = res.RowsAffected()
			return err
		})
		if err != nil {
			return total, err
		}
		total += n
		if n < purgeBatch {
			return total, nil
		}
	}
}

// Run purges expired entries at start and then every PurgeEvery until ctx
// ends.
func (l *Log) Run(ctx context.Context) error {
	t := time.NewTicker(l.cfg.PurgeEvery)
	defer t.Stop()
	for {
		if n, err := l.Purge(ctx); err != nil && ctx.Err() == nil {
			l.cfg.Logger.Error("purge audit events", "err", err)
		} else if n > 0 {
			l.cfg.Logger.Info("purged audit events", "deleted", n, "retention", l.cfg.Retention.String())
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
