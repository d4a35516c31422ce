// Package billing owns plans, subscriptions, invoices (with their line
// items) and usage metering: the customer's subscription page
// (/api/dashboard/user/subscription/…), plan changes with exact prorated
// invoices, cancel and resume at period end, invoice PDFs, usage alerts,
// the period roll-over that runs in the background (Run), the overview's
// subscription and billing cards, and the operator's plan, invoice and
// subscription commands.
//
// Tables: plans, subscriptions (one current per user, holding its open
// period's usage counter), invoices, invoice_lines.
//
// Amount is integer minor units with an ISO 4217 currency on every amount;
// the one rounding rule is in money.go. PeriodUsage is metered in the ingest
// transaction (calls' TxBatchObserver): each call's billable seconds are
// added to the subscription's open period when the call finishes (or its
// duration changes), so a call reported late into a period that is already
// invoiced lands in the open one and is billed in the next invoice, never
// twice, and metering never scans calls.
//
// New users start on the free plan lazily: the subscription is created,
// idempotently (INSERT … ON CONFLICT DO NOTHING), on the first read or the
// first metered call. That needs no hook in user creation and covers every
// account however it was made (registration, the user command, the demo,
// accounts that existed before billing), and two first reads at once still
// make one subscription.
//
// Events (plan changes, invoices, usage alerts) go to Config.Publisher
// after their transaction commits; invoices to Config.Provider, when one
// is configured, for collection.
package billing

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"callboard/internal/apperr"
	"callboard/internal/store"
)

// Billing intervals.
const (
	IntervalMonth = "month"
	IntervalYear  = "year"
)

// Subscription statuses. A subscription is active while it is paid up;
// past_due while one of its invoices is open after its due date; canceled
// once a paid plan ended by cancellation (the account is then on the free
// plan until it picks another). trialing is reserved for plans with trials,
// which the catalogue does not have.
const (
	StatusTrialing = "trialing"
	StatusActive   = "active"
	StatusPastDue  = "past_due"
	StatusCanceled = "canceled"
)

// Invoice statuses.
const (
	InvoiceOpen = "open"
	InvoicePaid = "paid"
	InvoiceVoid = "void"
)

// paymentTerms is how long after issue an invoice is due.
const paymentTerms = 14 * day

// Event kinds sent to the Publisher.
const (
	EventPlanChanged     = "plan.changed"
	EventChangeScheduled = "plan.change_scheduled"
	EventCanceled        = "subscription.canceled"
	EventResumed         = "subscription.resumed"
	EventInvoiceIssued   = "invoice.issued"
	EventInvoicePaid     = "invoice.paid"
	EventUsage80         = "usage.80"
	EventUsage100        = "usage.100"
)

// Event is something that happened to a user's billing, in English, for
// notifications and the audit log.
type Event struct {
	UserID int64
	Kind   string // one of the Event* kinds
	Title  string
	Body   string
	Data   map[string]string
	At     time.Time
}

// Publisher is told about billing events after their transaction commits.
// It runs on the caller's goroutine: hand slow work off.
type Publisher interface {
	BillingEvent(ctx context.Context, e Event)
}

// Customer is who an invoice is made out to, as the account shows them.
type Customer struct {
	Name  string
	Email string
	Phone string
}

// Customers tells the customer details printed on a user's invoices
// (account). Errors: NotFound when the user is gone.
type Customers interface {
	Customer(ctx context.Context, userID int64) (Customer, error)
}

// CustomersFunc adapts a function to Customers.
type CustomersFunc func(ctx context.Context, userID int64) (Customer, error)

// Customer calls f.
func (f CustomersFunc) Customer(ctx context.Context, userID int64) (Customer, error) {
	return f(ctx, userID)
}

// PaymentProvider collects invoices' money (Stripe, say). Callboard has
// none today: invoices are issued here and marked paid by the operator
// (callboard invoice mark-paid) or the platform API. A provider is handed
// each open invoice after it is committed and starts collecting it (Stripe:
// an invoice item and a finalized invoice for the customer); it reports
// payment later through Service.MarkPaid (from its webhook) with its own
// reference. An error is logged and the invoice stays open.
type PaymentProvider interface {
	Name() string
	Collect(ctx context.Context, inv Invoice) error
}

// Config is what a Service is built from. DB and Customers are required.
type Config struct {
	DB        *store.DB
	Customers Customers
	Publisher Publisher       // optional
	Provider  PaymentProvider // optional: none means operator-marked payments
	Platform  PlatformGate    // optional: adds the platform's mark-paid operation
	// Currency is the currency new subscriptions start in: on the active
	// plan priced 0 in it. "USD" when empty.
	Currency string
	Now      func() time.Time // the clock; time.Now when nil
	Logger   *slog.Logger
	// Tick is how often Run looks for periods to roll over and alerts to
	// send; a minute when zero.
	Tick time.Duration
}

// Service is billing.
type Service struct {
	db        *store.DB
	customers Customers
	publisher Publisher
	provider  PaymentProvider
	platform  PlatformGate
	currency  string
	now       func() time.Time
	logger    *slog.Logger
	tick      time.Duration
}

// NewService returns the billing service.
func NewService(cfg Config) *Service {
	s := &Service{db: cfg.DB, customers: cfg.Customers, publisher: cfg.Publisher, provider: cfg.Provider,
		platform: cfg.Platform, currency: cfg.Currency, now: cfg.Now, logger: cfg.Logger, tick: cfg.Tick}
	if s.currency == "" {
		s.currency = "USD"
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	if s.tick <= 0 {
		s.tick = time.Minute
	}
	return s
}

// querier is a pool or a transaction.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// Plan is a price list entry.
type Plan struct {
	ID               int64    `json:"-"`
	Code             string   `json:"code"`
	Name             string   `json:"name"`
	Description      string   `json:"description"`
	Price            Amount   `json:"price" doc:"Per interval."`
	Interval         string   `json:"interval" enum:"month,year"`
	IncludedMinutes  int64    `json:"included_minutes" doc:"Call minutes included per period."`
	OveragePerMinute Amount   `json:"overage_per_minute" doc:"Charged per minute over the included ones; 0 when not charged."`
	MaxAgents        int64    `json:"max_agents"`
	Features         []string `json:"features"`
	Active           bool     `json:"active" doc:"Archived plans keep billing their subscribers but cannot be chosen."`
}

const planColumns = `p.id, p.code, p.name, p.description, p.price_amount, p.currency, p.billing_interval,
	p.included_minutes, p.overage_amount, p.max_agents, p.features, p.active`

func scanPlan(sc interface{ Scan(...any) error }, p *Plan) error {
	var features string
	if err := sc.Scan(&p.ID, &p.Code, &p.Name, &p.Description, &p.Price.Amount, &p.Price.Currency, &p.Interval,
		&p.IncludedMinutes, &p.OveragePerMinute.Amount, &p.MaxAgents, &features, &p.Active); err != nil {
		return err
	}
	p.OveragePerMinute.Currency = p.Price.Currency
	if err := json.Unmarshal([]byte(features), &p.Features); err != nil {
		return fmt.Errorf("plan %s features: %w", p.Code, err)
	}
	if p.Features == nil {
		p.Features = []string{}
	}
	return nil
}

// subscription is a stored subscription with its plans.
type subscription struct {
	UserID            int64
	Plan              Plan
	Scheduled         *Plan
	Status            string
	Anchor            time.Time
	Cycle             int
	PeriodStart       time.Time
	PeriodEnd         time.Time
	CancelAtPeriodEnd bool
	CanceledAt        *time.Time
	UsageSeconds      int64
	UsageCalls        int64
	Alerted           int
	AlertDue          int
	Version           int64
}

// loadSubscription reads userID's subscription with its plan and any
// scheduled plan in one query; with lock, it locks the row until tx ends.
// Errors: sql.ErrNoRows when there is none.
func (s *Service) loadSubscription(ctx context.Context, q querier, userID int64, lock bool) (*subscription, error) {
	forUpdate := ""
	if lock && s.db.Dialect == store.Postgres {
		forUpdate = " FOR UPDATE OF s" // SQLite: the transaction already holds the write lock
	}
	row := q.QueryRowContext(ctx, `SELECT s.user_id, s.status, s.anchor, s.cycle, s.period_start, s.period_end,
		s.cancel_at_period_end, s.canceled_at, s.usage_seconds, s.usage_calls, s.alerted, s.alert_due, s.version,
		`+planColumns+`, s.scheduled_plan_id
		FROM subscriptions s JOIN plans p ON p.id = s.plan_id WHERE s.user_id = $1`+forUpdate, userID)
	var (
		sub                subscription
		anchor, start, end int64
		canceledAt         sql.NullInt64
		scheduledID        sql.NullInt64
	)
	var features string
	p := &sub.Plan
	if err := row.Scan(&sub.UserID, &sub.Status, &anchor, &sub.Cycle, &start, &end, &sub.CancelAtPeriodEnd, &canceledAt,
		&sub.UsageSeconds, &sub.UsageCalls, &sub.Alerted, &sub.AlertDue, &sub.Version,
		&p.ID, &p.Code, &p.Name, &p.Description, &p.Price.Amount, &p.Price.Currency, &p.Interval,
		&p.IncludedMinutes, &p.OveragePerMinute.Amount, &p.MaxAgents, &features, &p.Active, &scheduledID); err != nil {
		return nil, err
	}
	p.OveragePerMinute.Currency = p.Price.Currency
	if err := json.Unmarshal([]byte(features), &p.Features); err != nil {
		return nil, fmt.Errorf("plan %s features: %w", p.Code, err)
	}
	sub.Anchor, sub.PeriodStart, sub.PeriodEnd, sub.CanceledAt = store.Time(anchor), store.Time(start), store.Time(end), store.NullTime(canceledAt)
	if scheduledID.Valid {
		sp, err := s.planByID(ctx, q, scheduledID.Int64)
		if err != nil {
			return nil, err
		}
		sub.Scheduled = &sp
	}
	return &sub, nil
}

// planByID reads one plan.
func (s *Service) planByID(ctx context.Context, q querier, id int64) (Plan, error) {
	var p Plan
	err := scanPlan(q.QueryRowContext(ctx, `SELECT `+planColumns+` FROM plans p WHERE p.id = $1`, id), &p)
	return p, err
}

// planByCode reads one plan. Errors: sql.ErrNoRows.
func (s *Service) planByCode(ctx context.Context, q querier, code string) (Plan, error) {
	var p Plan
	err := scanPlan(q.QueryRowContext(ctx, `SELECT `+planColumns+` FROM plans p WHERE p.code = $1`, code), &p)
	return p, err
}

// defaultPlan is the plan new subscriptions start on: the active plan
// priced 0 in the configured currency.
func (s *Service) defaultPlan(ctx context.Context, q querier) (Plan, error) {
	var p Plan
	err := scanPlan(q.QueryRowContext(ctx, `SELECT `+planColumns+` FROM plans p
		WHERE p.active = TRUE AND p.price_amount = 0 AND p.currency = $1 ORDER BY p.id LIMIT 1`, s.currency), &p)
	if errors.Is(err, sql.ErrNoRows) {
		return Plan{}, fmt.Errorf("billing: no active free plan in %s: create one (callboard plan create --price 0 --currency %s)", s.currency, s.currency)
	}
	return p, err
}

// insertDefaultTx starts userID on the default plan unless a subscription
// exists; the period starts today (UTC). Idempotent.
func (s *Service) insertDefaultTx(ctx context.Context, tx querier, userID int64, now time.Time) error {
	p, err := s.defaultPlan(ctx, tx)
	if err != nil {
		return err
	}
	anchor := startOfDay(now)
	start, end := periodOf(anchor, p.Interval, 0)
	_, err = tx.ExecContext(ctx, `INSERT INTO subscriptions (user_id, plan_id, status, anchor, cycle, period_start, period_end,
		created_at, updated_at) VALUES ($1, $2, $3, $4, 0, $5, $6, $7, $7) ON CONFLICT (user_id) DO NOTHING`,
		userID, p.ID, StatusActive, store.Millis(anchor), store.Millis(start), store.Millis(end), store.Millis(now))
	if err != nil {
		return fmt.Errorf("start subscription: %w", err)
	}
	return nil
}

// ensure returns userID's subscription, starting it on the default plan
// when there is none, and closing its period first when it has ended and
// Run has not got to it yet (so no answer shows a period that is over, and
// no change is prorated against one). Errors: NotFound when the user does
// not exist.
func (s *Service) ensure(ctx context.Context, userID int64) (*subscription, error) {
	sub, err := s.loadSubscription(ctx, s.db.Read(), userID, false)
	if err == nil && !sub.PeriodEnd.After(s.now()) {
		if _, err := s.rollOverUser(ctx, userID); err != nil {
			return nil, err
		}
		return s.loadSubscription(ctx, s.db.Read(), userID, false)
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return sub, err
	}
	var exists bool
	if err := s.db.Read().QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE id = $1 AND deleted_at IS NULL)`, userID).Scan(&exists); err != nil {
		return nil, fmt.Errorf("find user: %w", err)
	}
	if !exists {
		return nil, apperr.NotFound("user")
	}
	if err := s.db.Tx(ctx, func(tx *sql.Tx) error { return s.insertDefaultTx(ctx, tx, userID, s.now()) }); err != nil {
		return nil, err
	}
	return s.loadSubscription(ctx, s.db.Read(), userID, false)
}

// lockTx reads userID's subscription inside tx, locked (PostgreSQL: the row;
// SQLite: tx already holds the write lock), starting it when missing.
func (s *Service) lockTx(ctx context.Context, tx *sql.Tx, userID int64, now time.Time) (*subscription, error) {
	sub, err := s.loadSubscription(ctx, tx, userID, true)
	if errors.Is(err, sql.ErrNoRows) {
		if err := s.insertDefaultTx(ctx, tx, userID, now); err != nil {
			return nil, err
		}
		sub, err = s.loadSubscription(ctx, tx, userID, true)
	}
	if err != nil {
		return nil, fmt.Errorf("load subscription: %w", err)
	}
	return sub, nil
}

// publish sends events after a commit.
func (s *Service) publish(ctx context.Context, events []Event) {
	if s.publisher == nil {
		return
	}
	for _, e := range events {
		s.publisher.BillingEvent(ctx, e)
	}
}

// collect hands newly issued open invoices to the payment provider.
func (s *Service) collect(ctx context.Context, invs []Invoice) {
	if s.provider == nil {
		return
	}
	for _, inv := range invs {
		if inv.Status != InvoiceOpen {
			continue
		}
		if err := s.provider.Collect(ctx, inv); err != nil {
			s.logger.Error("payment provider: collect invoice", "provider", s.provider.Name(), "invoice", inv.Number, "err", err)
		}
	}
}

// customer reads the invoice snapshot of userID; a gone user gets a blank one.
func (s *Service) customer(ctx context.Context, userID int64) (Customer, error) {
	c, err := s.customers.Customer(ctx, userID)
	if e, ok := apperr.As(err); ok && e.Kind == apperr.KindNotFound {
		return Customer{}, nil
	}
	return c, err
}
