// Package calls holds the calls the calling platform reports and the agents
// that made them: the platform's ingest API, the customer's call history
// (filters, full-text search, keyset pagination), call detail and the CSV
// export. Other capabilities follow calls through two small hooks, TxObserver
// (inside the ingest transaction) and Publisher (after it commits), and read
// them through Recent.
//
// Tables: agents, calls, and the full-text index of calls (calls_fts and
// its list of terms, calls_fts_terms, on SQLite, whose terms package
// searchtext makes; the search_vector column on PostgreSQL). The owner of a reported
// call is found through Config.Accounts (auth owns users).
package calls

import (
	"context"
	"database/sql"
	"log/slog"
	"time"

	"callboard/internal/store"
)

// Status is where a call is in its life. Statuses only move forward:
// queued < ringing < in-progress < a finished status; finished statuses are
// terminal.
type Status string

// The statuses the platform reports.
const (
	StatusQueued     Status = "queued"
	StatusRinging    Status = "ringing"
	StatusInProgress Status = "in-progress"
	StatusCompleted  Status = "completed"
	StatusBusy       Status = "busy"
	StatusFailed     Status = "failed"
	StatusNoAnswer   Status = "no-answer"
	StatusCanceled   Status = "canceled"
)

// Statuses lists every status in forward order.
var statuses = []Status{StatusQueued, StatusRinging, StatusInProgress,
	StatusCompleted, StatusBusy, StatusFailed, StatusNoAnswer, StatusCanceled}

// rank orders statuses; every finished status has the same, highest rank.
// Unknown statuses rank 0.
func (s Status) rank() int {
	switch s {
	case StatusQueued:
		return 1
	case StatusRinging:
		return 2
	case StatusInProgress:
		return 3
	case StatusCompleted, StatusBusy, StatusFailed, StatusNoAnswer, StatusCanceled:
		return 4
	}
	return 0
}

// Valid reports whether s is one of the known statuses.
func (s Status) Valid() bool { return s.rank() > 0 }

// Finished reports whether s is terminal: completed, busy, failed,
// no-answer or canceled.
func (s Status) Finished() bool { return s.rank() == 4 }

// Directions, sentiments: the closed sets of values.
var (
	directions = []string{"inbound", "outbound"}
	sentiments = []string{"positive", "neutral", "negative"}
)

// Call is a stored call. Optional values are nil pointers or empty strings;
// Satisfaction 0 means not rated.
type Call struct {
	ID              int64
	UserID          int64
	AgentID         *int64
	ExternalID      string
	Direction       string
	FromNumber      string
	ToNumber        string
	Status          Status
	StartedAt       time.Time
	AnsweredAt      *time.Time
	EndedAt         *time.Time
	DurationSeconds int
	Satisfaction    int
	Sentiment       string
	EndReason       string
	CostAmount      *int64 // minor units of CostCurrency
	CostCurrency    string
	RecordingURL    string
	Summary         string
	Transcript      string
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// TxObserver is told, inside the ingest transaction, about every call that
// was created (before is nil) or changed. An error rolls the whole batch
// back. Idempotent re-sends that change nothing are not reported. It must
// use tx (never the store's pools: on SQLite that would deadlock).
type TxObserver interface {
	CallChanged(ctx context.Context, tx *sql.Tx, before *Call, after *Call) error
}

// TxBatchObserver is an optional extension of TxObserver. An observer that
// implements it is told once per ingest batch, after every call of the
// batch was written and still inside its transaction, with every change in
// batch order (a call changed twice in one batch appears twice), instead of
// once per call through CallChanged. Rollups can then merge a thousand
// calls' deltas into a few rows. An error rolls the whole batch back.
type TxBatchObserver interface {
	CallsChangedTx(ctx context.Context, tx *sql.Tx, changes []CallChange) error
}

// CallChange is one change told to a TxBatchObserver: Before is nil for a
// new call.
type CallChange struct {
	Before *Call
	After  *Call
}

// CallEvent describes one created or changed call.
type CallEvent struct {
	CallID     int64
	UserID     int64
	ExternalID string
	Created    bool   // the call is new
	Status     Status // the status now
	// PreviousStatus is the status before this change; "" for a new call.
	// Status != PreviousStatus means the call moved forward.
	PreviousStatus Status
	At             time.Time // when ingest stored the change
}

// Publisher is told, after the ingest transaction committed, about every
// call that was created or changed in it (in batch order). It runs on the
// request's goroutine: hand slow work off.
type Publisher interface {
	CallsChanged(ctx context.Context, events []CallEvent)
}

// Zones tells the timezone in which a user's dates (date_from, date_to, the
// export's file name) are read.
type Zones interface {
	Location(ctx context.Context, userID int64) (*time.Location, error)
}

// UTC is the Zones that reads every user's dates in UTC.
type UTC struct{}

// Location returns time.UTC.
func (UTC) Location(context.Context, int64) (*time.Location, error) { return time.UTC, nil }

// Consent tells whether a user agreed to call recording; recording URLs are
// shown only then.
type Consent interface {
	RecordingConsent(ctx context.Context, userID int64) (bool, error)
}

// NoConsent is the Consent that never shows recordings: the safe default
// until privacy settings are wired in.
type NoConsent struct{}

// RecordingConsent returns false.
func (NoConsent) RecordingConsent(context.Context, int64) (bool, error) { return false, nil }

// Accounts finds, inside the ingest transaction, the accounts reported
// calls belong to (auth): which of ids are live accounts; the live
// accounts that verified the given emails (byEmail); and which of the
// emails belong to live accounts that have not verified them (unverified),
// whose calls are refused.
type Accounts interface {
	ResolveUsersTx(ctx context.Context, tx *sql.Tx, ids []int64, emails []string) (live map[int64]bool, byEmail map[string]int64, unverified map[string]bool, err error)
}

// Config is what a Service is built from. DB and Accounts are required;
// other nil fields take safe defaults.
type Config struct {
	DB       *store.DB
	Accounts Accounts

	// PlatformKey authenticates the platform API; empty disables it.
	PlatformKey string
	Now         func() time.Time // the clock; time.Now when nil
	Zones       Zones            // UTC when nil
	Consent     Consent          // NoConsent when nil
	Observer    TxObserver       // optional
	Publisher   Publisher        // optional
	Logger      *slog.Logger     // for failures after an answer started (exports); discarded when nil
	// CountBudget is how long a list's count may take (CountBudget when 0).
	// Tests that check counts on a loaded machine give it more.
	CountBudget time.Duration
}

// Service stores and serves calls.
type Service struct {
	db          *store.DB
	accounts    Accounts
	platformKey []byte
	now         func() time.Time
	zones       Zones
	consent     Consent
	observer    TxObserver
	countBudget time.Duration
	publisher   Publisher
	logger      *slog.Logger
	search      searchIndex // full-text search, per database
	insertSQL   string      // the statement that inserts a call
	exports     *slots      // running exports, per user and in all
	searches    *slots      // running searches, per user
	// searchTimeout is SearchTimeout (tests shorten it).
	searchTimeout time.Duration
	// walkBound is walkBound (tests shorten it).
	walkBound int
}

// NewService returns a Service.
func NewService(cfg Config) *Service {
	s := &Service{db: cfg.DB, accounts: cfg.Accounts, platformKey: []byte(cfg.PlatformKey), now: cfg.Now, zones: cfg.Zones,
		consent: cfg.Consent, observer: cfg.Observer, publisher: cfg.Publisher, logger: cfg.Logger,
		search: newSearchIndex(cfg.DB), exports: newExportSlots(), searches: newSlots(maxSearchesPerUser, 0, errTooManySearches), searchTimeout: SearchTimeout, walkBound: walkBound,
		countBudget: cfg.CountBudget}
	if s.countBudget <= 0 {
		s.countBudget = CountBudget
	}
	s.insertSQL = s.insertCall()
	if s.now == nil {
		s.now = time.Now
	}
	if s.zones == nil {
		s.zones = UTC{}
	}
	if s.consent == nil {
		s.consent = NoConsent{}
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	return s
}
