// Package notify turns events of other capabilities into a user's
// notifications: finished and missed calls (calls' Publisher hook),
// security events (password changed, new sign-in) and billing events
// (through an adapter in internal/app), honouring the user's notification
// settings. It serves the list, mark-read, the unread count of the
// overview, the notifications' share of a data export and of an account's
// erasure, and a live Server-Sent Events stream opened with single-use
// tickets.
//
// A notification may also go out by email and SMS (channels.go), queued in
// the transaction that stores it, and notify sends the product news users
// opted in to, with its one-click unsubscribe (marketing.go).
//
// Tables: notifications, notification_stream_tickets.
//
// # Live delivery
//
// A stored notification wakes the streams of its user in this process at
// once (an in-process hub); each stream then reads its new rows from the
// database, so a stream never misses or repeats one and Last-Event-ID can
// resume from any point. On PostgreSQL several instances may serve one
// database: there Run also polls for rows written by other instances every
// Config.PollInterval (500 ms) and wakes the streams of their users, one
// indexed query per instance, not per stream. (LISTEN/NOTIFY would need a
// connection held outside the pool per instance; the poll is within the
// one-second promise and needs nothing more.)
package notify

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"callboard/internal/account"
	"callboard/internal/apperr"
	"callboard/internal/audit"
	"callboard/internal/calls"
	"callboard/internal/mail"
	"callboard/internal/store"
)

// The categories of notifications. Calls and billing notifications follow
// the user's settings; security and system ones are always sent.
const (
	CategoryCalls    = "calls"
	CategoryBilling  = "billing"
	CategorySecurity = "security"
	CategorySystem   = "system"
)

var categories = []string{CategoryCalls, CategoryBilling, CategorySecurity, CategorySystem}

// Event is something to tell a user about. Title and Body are English
// text shown as they are; Data holds ids and values for links.
type Event struct {
	UserID   int64
	Category string // CategoryCalls, CategoryBilling, CategorySecurity or CategorySystem
	Kind     string // what happened, such as "call.missed" or "invoice.issued"
	Title    string
	Body     string
	Data     map[string]string
}

// Accounts tells who notifications and news reach and how (account): the
// address, phone, language and settings of users, read in one query per
// batch; and turns product news off for an unsubscribe.
type Accounts interface {
	Recipients(ctx context.Context, userIDs []int64) (map[int64]account.Recipient, error)
	MarketingRecipients(ctx context.Context, afterID int64, limit int) ([]account.Recipient, error)
	StopMarketing(ctx context.Context, userID int64, client audit.Client, details map[string]string) (bool, error)
}

// Outbox queues email and SMS in the caller's transaction (mail).
type Outbox interface {
	Enqueue(ctx context.Context, tx *sql.Tx, msgs ...mail.Message) error
	CountRecent(ctx context.Context, tx *sql.Tx, userID int64, kindPrefix string, since time.Time) ([]mail.Count, error)
	Link(path string, query url.Values) string
}

// Sessions tells whether a signed-in session is still live (auth): a
// stream ends when its session does.
type Sessions interface {
	SessionActive(ctx context.Context, sessionID int64) (bool, error)
}

// Config is what a Service is built from. DB, Accounts, Sessions, Mail
// and UnsubscribeKey are required.
type Config struct {
	DB       *store.DB
	Accounts Accounts
	Sessions Sessions
	Mail     Outbox
	// UnsubscribeKey signs the links that stop product news (32 bytes,
	// derived from auth's signing key in internal/app, never that key).
	UnsubscribeKey []byte
	Now            func() time.Time // the clock; time.Now when nil
	Logger         *slog.Logger     // failures that answer no request; discarded when nil

	// Retention is how long notifications are kept (180 days).
	Retention time.Duration
	// TicketTTL is how long a stream ticket may be used (30 s).
	TicketTTL time.Duration
	// Heartbeat is how often an idle stream sends a comment so proxies
	// keep it open (15 s).
	Heartbeat time.Duration
	// SessionCheck is how often a stream checks its session is live (5 s).
	SessionCheck time.Duration
	// PollInterval is how often Run looks for notifications written by
	// other instances, on PostgreSQL (500 ms).
	PollInterval time.Duration
	// StreamsPerUser and MaxStreams bound open streams (5 and 1000).
	StreamsPerUser int
	MaxStreams     int
	// EmailsPerHour and SMSPerHour bound the notification messages one
	// user gets in an hour, for each of two budgets (see channels.go):
	// DefaultEmailsPerHour and DefaultSMSPerHour.
	EmailsPerHour int
	SMSPerHour    int
}

// Service stores, lists and streams notifications.
type Service struct {
	db  *store.DB
	cfg Config
	hub *hub
	// built is when the service was built: Run's poll starts after the
	// notifications made before it, however late Run itself starts.
	built time.Time
}

// NewService returns a Service.
func NewService(cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.Retention, 180*24*time.Hour)
	def(&cfg.TicketTTL, 30*time.Second)
	def(&cfg.Heartbeat, 15*time.Second)
	def(&cfg.SessionCheck, 5*time.Second)
	def(&cfg.PollInterval, 500*time.Millisecond)
	if cfg.StreamsPerUser <= 0 {
		cfg.StreamsPerUser = 5
	}
	if cfg.MaxStreams <= 0 {
		cfg.MaxStreams = 1000
	}
	if cfg.EmailsPerHour <= 0 {
		cfg.EmailsPerHour = DefaultEmailsPerHour
	}
	if cfg.SMSPerHour <= 0 {
		cfg.SMSPerHour = DefaultSMSPerHour
	}
	return &Service{db: cfg.DB, cfg: cfg, hub: newHub(cfg.StreamsPerUser, cfg.MaxStreams), built: cfg.Now()}
}

// Publish stores e as a notification unless the user turned its category
// off, queues its email and SMS (channels.go) in the same transaction, and
// wakes the user's live streams. Errors: Invalid for an unknown category or
// an empty title; NotFound when the user is gone.
func (s *Service) Publish(ctx context.Context, e Event) error {
	if !slices.Contains(categories, e.Category) {
		return apperr.Invalid("category", "must be one of "+strings.Join(categories, ", "))
	}
	if strings.TrimSpace(e.Title) == "" || e.Kind == "" {
		return apperr.Invalid("title", "a notification needs a kind and a title")
	}
	to, err := s.cfg.Accounts.Recipients(ctx, []int64{e.UserID})
	if err != nil {
		return err
	}
	r, ok := to[e.UserID]
	if !ok {
		return apperr.NotFound("user")
	}
	if !wants(r, e.Category) {
		return nil
	}
	events := []Event{e}
	if err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		if err := s.insert(ctx, tx, events); err != nil {
			return err
		}
		return s.queueMessagesTx(ctx, tx, events, to)
	}); err != nil {
		return err
	}
	s.hub.wake(e.UserID)
	return nil
}

// wants reports whether r receives notifications of category: calls and
// billing as the settings say, security and system always.
func wants(r account.Recipient, category string) bool {
	switch category {
	case CategoryCalls:
		return r.Notifications.Calls
	case CategoryBilling:
		return r.Notifications.Billing
	}
	return true
}

// insertChunk bounds the rows of one INSERT.
const insertChunk = 1000

// insert stores events inside tx. The rows go as one JSON parameter: a
// statement with thousands of numbered parameters costs SQLite's parser
// time that grows with their square.
func (s *Service) insert(ctx context.Context, tx *sql.Tx, events []Event) error {
	now := store.Millis(s.cfg.Now())
	q := `INSERT INTO notifications (user_id, category, kind, title, body, data, created_at)
		SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, $2 FROM json_each($1)`
	if s.db.Dialect == store.Postgres {
		q = `INSERT INTO notifications (user_id, category, kind, title, body, data, created_at)
			SELECT (e ->> 0)::bigint, e ->> 1, e ->> 2, e ->> 3, e ->> 4, e ->> 5, $2 FROM jsonb_array_elements($1::jsonb) AS e`
	}
	for chunk := range slices.Chunk(events, insertChunk) {
		rows := make([][6]any, len(chunk))
		for i, e := range chunk {
			data := e.Data
			if data == nil {
				data = map[string]string{}
			}
			raw, err := json.Marshal(data)
			if err != nil {
				return fmt.Errorf("encode notification data: %w", err)
			}
			rows[i] = [6]any{e.UserID, e.Category, e.Kind, truncate(e.Title, 200), truncate(e.Body, 1000), string(raw)}
		}
		param, err := json.Marshal(rows)
		if err != nil {
			return fmt.Errorf("encode notifications: %w", err)
		}
		if _, err := tx.ExecContext(ctx, q, string(param), now); err != nil {
			return fmt.Errorf("insert notifications: %w", err)
		}
	}
	return nil
}

// CallsChanged implements calls.Publisher: a call that reached a finished
// status becomes a notification (completed, failed or canceled: "call
// finished"; no answer or busy: "missed call") for users whose calls
// notifications are on. The users of a batch are read in one query, and the
// batch's notifications and their email and SMS are stored in one
// transaction. Failures are logged: the calls are stored whatever happens
// here.
func (s *Service) CallsChanged(ctx context.Context, events []calls.CallEvent) {
	var users []int64
	seen := map[int64]bool{}
	for _, ce := range events {
		if ce.Status.Finished() && ce.Status != ce.PreviousStatus && !seen[ce.UserID] {
			seen[ce.UserID] = true
			users = append(users, ce.UserID)
		}
	}
	if len(users) == 0 {
		return
	}
	to, err := s.cfg.Accounts.Recipients(ctx, users)
	if err != nil {
		s.cfg.Logger.ErrorContext(ctx, "call notifications: recipients", "users", len(users), "err", err)
		return
	}
	var out []Event
	for _, ce := range events {
		if !ce.Status.Finished() || ce.Status == ce.PreviousStatus {
			continue
		}
		if r, ok := to[ce.UserID]; ok && wants(r, CategoryCalls) {
			out = append(out, callEvent(ce))
		}
	}
	if len(out) == 0 {
		return
	}
	if err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		if err := s.insert(ctx, tx, out); err != nil {
			return err
		}
		return s.queueMessagesTx(ctx, tx, out, to)
	}); err != nil {
		s.cfg.Logger.ErrorContext(ctx, "call notifications", "calls", len(out), "err", err)
		return
	}
	for _, userID := range users {
		if wants(to[userID], CategoryCalls) {
			s.hub.wake(userID)
		}
	}
}

func callEvent(ce calls.CallEvent) Event {
	e := Event{UserID: ce.UserID, Category: CategoryCalls, Kind: "call.finished",
		Data: map[string]string{"call_id": strconv.FormatInt(ce.CallID, 10), "status": string(ce.Status)}}
	switch ce.Status {
	case calls.StatusCompleted:
		e.Title, e.Body = "Call completed", "A call finished successfully."
	case calls.StatusNoAnswer:
		e.Kind, e.Title, e.Body = "call.missed", "Missed call", "A call was not answered."
	case calls.StatusBusy:
		e.Kind, e.Title, e.Body = "call.missed", "Missed call", "The line was busy."
	case calls.StatusFailed:
		e.Title, e.Body = "Call failed", "A call could not be completed."
	default:
		e.Title, e.Body = "Call canceled", "A call was canceled before it connected."
	}
	return e
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && (s[n]&0xC0) == 0x80 {
		n--
	}
	return s[:n]
}

// purgeBatch bounds one purge statement.
const purgeBatch = 5000

// purge deletes notifications older than the retention and expired
// stream tickets.
func (s *Service) purge(ctx context.Context) error {
	now := s.cfg.Now()
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM notification_stream_tickets WHERE expires_at < $1`, store.Millis(now)); err != nil {
			return fmt.Errorf("purge stream tickets: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM notifications WHERE id IN
			(SELECT id FROM notifications WHERE created_at < $1 ORDER BY created_at LIMIT $2)`,
			store.Millis(now.Add(-s.cfg.Retention)), purgeBatch); err != nil {
			return fmt.Errorf("purge notifications: %w", err)
		}
		return nil
	})
}

// Run purges old notifications and expired tickets every few minutes and,
// on PostgreSQL, wakes local streams for notifications other instances
// stored, until ctx ends.
func (s *Service) Run(ctx context.Context) error {
	defer s.hub.close() // open streams end with the service
	purge := time.NewTicker(10 * time.Minute)
	defer purge.Stop()
	var poll <-chan time.Time
	var watermark int64
	if s.db.Dialect == store.Postgres {
		t := time.NewTicker(s.cfg.PollInterval)
		defer t.Stop()
		poll = t.C
		// Not every notification so far: one another instance stored
		// between NewService (streams may open from then on) and this
		// goroutine's first turn would be skipped, and its user's streams
		// never woken.
		if err := s.db.Read().QueryRowContext(ctx, `SELECT COALESCE(max(id), 0) FROM notifications WHERE created_at < $1`,
			store.Millis(s.built)).Scan(&watermark); err != nil && ctx.Err() == nil {
			s.cfg.Logger.Error("notifications watermark", "err", err)
		}
	}
	if err := s.purge(ctx); err != nil && ctx.Err() == nil {
		s.cfg.Logger.Error("purge notifications", "err", err)
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-purge.C:
			if err := s.purge(ctx); err != nil && ctx.Err() == nil {
				s.cfg.Logger.Error("purge notifications", "err", err)
			}
		case <-poll:
			var err error
			if watermark, err = s.pollOthers(ctx, watermark); err != nil && ctx.Err() == nil {
				s.cfg.Logger.Error("poll notifications", "err", err)
			}
		}
	}
}

// pollOthers wakes the local streams of users with notifications newer
// than watermark and returns the new watermark.
func (s *Service) pollOthers(ctx context.Context, watermark int64) (int64, error) {
	rows, err := s.db.Read().QueryContext(ctx, `SELECT id, user_id FROM notifications WHERE id > $1 ORDER BY id LIMIT 1000`, watermark)
	users := map[int64]bool{}
	if err := store.EachRow(rows, err, func(r *sql.Rows) error {
		var userID int64
		if err := r.Scan(&watermark, &userID); err != nil {
			return err
		}
		users[userID] = true
		return nil
	}); err != nil {
		return watermark, err
	}
	for userID := range users {
		s.hub.wake(userID)
	}
	return watermark, nil
}
