package billing

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"callboard/internal/apperr"
	"callboard/internal/store"
)

// Invoice kinds: a period's invoice issued at roll-over, or a plan
// change's prorated invoice.
const (
	KindCycle  = "cycle"
	KindChange = "change"
)

// InvoiceLine kinds.
const (
	LineSubscription = "subscription" // the plan's price for a period
	LineProration    = "proration"    // charge for the rest of a period on a new plan
	LineCredit       = "credit"       // unused time on the old plan (negative)
	LineOverage      = "overage"      // minutes over the included ones
)

// InvoiceLine is one line item of an invoice.
type InvoiceLine struct {
	Kind        string    `json:"kind" enum:"subscription,proration,credit,overage"`
	Description string    `json:"description"`
	Quantity    int64     `json:"quantity"`
	UnitAmount  Amount    `json:"unit_amount"`
	Amount      Amount    `json:"amount" doc:"Quantity × unit amount, or the prorated amount; negative for credits."`
	PeriodStart time.Time `json:"period_start"`
	PeriodEnd   time.Time `json:"period_end"`
}

// Invoice is an issued invoice.
type Invoice struct {
	ID          int64         `json:"id"`
	Number      string        `json:"number"`
	Kind        string        `json:"kind" enum:"cycle,change"`
	Status      string        `json:"status" enum:"open,paid,void"`
	Plan        string        `json:"plan" doc:"Code of the plan the invoice is for."`
	Subtotal    Amount        `json:"subtotal"`
	Total       Amount        `json:"total"`
	PeriodStart time.Time     `json:"period_start"`
	PeriodEnd   time.Time     `json:"period_end"`
	IssuedAt    time.Time     `json:"issued_at"`
	DueAt       time.Time     `json:"due_at"`
	PaidAt      *time.Time    `json:"paid_at"`
	Lines       []InvoiceLine `json:"lines"`
	PDFURL      string        `json:"pdf_url"`

	UserID   int64    `json:"-"`
	Customer Customer `json:"-"`
	PaidVia  string   `json:"-"`
}

// invoiceNumber is how an invoice id is shown.
func invoiceNumber(id int64) string { return fmt.Sprintf("CB-%06d", id) }

// newInvoice is an invoice about to be issued.
type newInvoice struct {
	UserID      int64
	IdemKey     string
	Kind        string
	Plan        string
	Currency    string
	PeriodStart time.Time
	PeriodEnd   time.Time
	Customer    Customer
	Lines       []InvoiceLine
}

// issueTx stores inv, numbered, open (paid at once when its total is 0).
// ok is false when an invoice with the same idempotency key exists: it was
// issued already, and nothing is written.
func (s *Service) issueTx(ctx context.Context, tx *sql.Tx, inv newInvoice, now time.Time) (Invoice, bool, error) {
	var total int64
	for _, l := range inv.Lines {
		total += l.Amount.Amount
	}
	status := InvoiceOpen
	var paidAt sql.NullInt64
	var paidVia sql.NullString
	if total == 0 {
		status, paidAt, paidVia = InvoicePaid, sql.NullInt64{Int64: store.Millis(now), Valid: true}, sql.NullString{String: "zero", Valid: true}
	}
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO invoices (user_id, idem_key, kind, status, currency, subtotal, total, plan_code,
		period_start, period_end, issued_at, due_at, paid_at, paid_via, customer_name, customer_email, customer_phone)
		VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
		ON CONFLICT (user_id, idem_key) DO NOTHING RETURNING id`,
		inv.UserID, inv.IdemKey, inv.Kind, status, inv.Currency, total, inv.Plan, store.Millis(inv.PeriodStart), store.Millis(inv.PeriodEnd),
		store.Millis(now), store.Millis(now.Add(paymentTerms)), paidAt, paidVia, inv.Customer.Name, inv.Customer.Email, inv.Customer.Phone).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return Invoice{}, false, nil
	}
	if err != nil {
		return Invoice{}, false, fmt.Errorf("insert invoice: %w", err)
	}
	for i, l := range inv.Lines {
		if _, err := tx.ExecContext(ctx, `INSERT INTO invoice_lines (invoice_id, position, kind, description, quantity,
			unit_amount, amount, period_start, period_end) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			id, i, l.Kind, l.Description, l.Quantity, l.UnitAmount.Amount, l.Amount.Amount,
			store.Millis(l.PeriodStart), store.Millis(l.PeriodEnd)); err != nil {
			return Invoice{}, false, fmt.Errorf("insert invoice line: %w", err)
		}
	}
	out := Invoice{ID: id, Number: invoiceNumber(id), Kind: inv.Kind, Status: status, Plan: inv.Plan,
		Subtotal: Amount{total, inv.Currency}, Total: Amount{total, inv.Currency}, PeriodStart: inv.PeriodStart, PeriodEnd: inv.PeriodEnd,
		IssuedAt: now, DueAt: now.Add(paymentTerms), PaidAt: store.NullTime(paidAt), Lines: inv.Lines,
		PDFURL: pdfURL(id), UserID: inv.UserID, Customer: inv.Customer}
	return out, true, nil
}

func pdfURL(id int64) string {
	return fmt.Sprintf("/api/dashboard/user/subscription/invoices/%d/pdf/", id)
}

const invoiceColumns = `id, user_id, kind, status, currency, subtotal, total, plan_code, period_start, period_end,
	issued_at, due_at, paid_at, paid_via, customer_name, customer_email, customer_phone`

func scanInvoice(sc interface{ Scan(...any) error }) (Invoice, error) {
	var (
		inv                     Invoice
		currency                string
		start, end, issued, due int64
		paidAt                  sql.NullInt64
		paidVia                 sql.NullString
	)
	if err := sc.Scan(&inv.ID, &inv.UserID, &inv.Kind, &inv.Status, &currency, &inv.Subtotal.Amount, &inv.Total.Amount, &inv.Plan,
		&start, &end, &issued, &due, &paidAt, &paidVia, &inv.Customer.Name, &inv.Customer.Email, &inv.Customer.Phone); err != nil {
		return Invoice{}, err
	}
	inv.Subtotal.Currency, inv.Total.Currency = currency, currency
	inv.PeriodStart, inv.PeriodEnd, inv.IssuedAt, inv.DueAt = store.Time(start), store.Time(end), store.Time(issued), store.Time(due)
	inv.PaidAt, inv.PaidVia = store.NullTime(paidAt), paidVia.String
	inv.Number, inv.PDFURL, inv.Lines = invoiceNumber(inv.ID), pdfURL(inv.ID), []InvoiceLine{}
	return inv, nil
}

// withLines fills in the lines of invs (one query).
func (s *Service) withLines(ctx context.Context, q querier, invs []Invoice) error {
	if len(invs) == 0 {
		return nil
	}
	ids := make([]int64, len(invs))
	at := make(map[int64]int, len(invs))
	for i, inv := range invs {
		ids[i], at[inv.ID] = inv.ID, i
	}
	in, arg := store.InList(s.db.Dialect, 1, ids)
	rows, err := q.QueryContext(ctx, `SELECT invoice_id, kind, description, quantity, unit_amount, amount, period_start, period_end
		FROM invoice_lines WHERE invoice_id `+in+` ORDER BY invoice_id, position`, arg)
	return store.EachRow(rows, err, func(r *sql.Rows) error {
		var (
			id, start, end int64
			l              InvoiceLine
		)
		if err := r.Scan(&id, &l.Kind, &l.Description, &l.Quantity, &l.UnitAmount.Amount, &l.Amount.Amount, &start, &end); err != nil {
			return err
		}
		inv := &invs[at[id]]
		l.UnitAmount.Currency, l.Amount.Currency = inv.Total.Currency, inv.Total.Currency
		l.PeriodStart, l.PeriodEnd = store.Time(start), store.Time(end)
		inv.Lines = append(inv.Lines, l)
		return nil
	})
}

// History limits.
const (
	DefaultHistory = 20
	MaxHistory     = 100
)

// InvoicePage is a page of a user's invoices, newest first.
type InvoicePage struct {
	Invoices   []Invoice `json:"invoices"`
	NextCursor *int64    `json:"next_cursor" doc:"Pass as history_before for the next page; null on the last."`
}

// Invoices lists userID's invoices newest first, with their lines: limit
// (1–100; 0 means 20) after the invoice id before (0: from the newest).
// Errors: Invalid at query.history_limit.
func (s *Service) Invoices(ctx context.Context, userID int64, limit int, before int64) (InvoicePage, error) {
	if limit == 0 {
		limit = DefaultHistory
	}
	if limit < 1 || limit > MaxHistory {
		return InvoicePage{}, apperr.Invalid("query.history_limit", fmt.Sprintf("must be 1 to %d", MaxHistory))
	}
	if before < 0 {
		return InvoicePage{}, apperr.Invalid("query.history_before", "must be an invoice id from next_cursor")
	}
	if before == 0 {
		before = 1<<63 - 1
	}
	page := InvoicePage{Invoices: []Invoice{}}
	rows, err := s.db.Read().QueryContext(ctx, `SELECT `+invoiceColumns+` FROM invoices
		WHERE user_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3`, userID, before, limit+1)
	if err := store.EachRow(rows, err, func(r *sql.Rows) error {
		inv, err := scanInvoice(r)
		page.Invoices = append(page.Invoices, inv)
		return err
	}); err != nil {
		return InvoicePage{}, fmt.Errorf("list invoices: %w", err)
	}
	if len(page.Invoices) > limit {
		page.Invoices = page.Invoices[:limit]
		next := page.Invoices[limit-1].ID
		page.NextCursor = &next
	}
	if err := s.withLines(ctx, s.db.Read(), page.Invoices); err != nil {
		return InvoicePage{}, fmt.Errorf("invoice lines: %w", err)
	}
	return page, nil
}

// Invoice returns one of userID's invoices with its lines. Errors: NotFound
// when there is no such invoice of userID's (whoever else's it is).
func (s *Service) Invoice(ctx context.Context, userID, id int64) (Invoice, error) {
	inv, err := scanInvoice(s.db.Read().QueryRowContext(ctx, `SELECT `+invoiceColumns+` FROM invoices WHERE id = $1 AND user_id = $2`, id, userID))
	if errors.Is(err, sql.ErrNoRows) {
		return Invoice{}, apperr.NotFound("invoice")
	}
	if err != nil {
		return Invoice{}, fmt.Errorf("read invoice: %w", err)
	}
	invs := []Invoice{inv}
	if err := s.withLines(ctx, s.db.Read(), invs); err != nil {
		return Invoice{}, fmt.Errorf("invoice lines: %w", err)
	}
	return invs[0], nil
}

// InvoiceFilter selects invoices for the operator.
type InvoiceFilter struct {
	UserID int64  // 0: every user
	Status string // "": every status
	Limit  int    // 1–1000; 0 means 100
}

// AllInvoices lists invoices for the operator, newest first, without
// lines. Errors: Invalid for a bad status or limit.
func (s *Service) AllInvoices(ctx context.Context, f InvoiceFilter) ([]Invoice, error) {
	if f.Limit == 0 {
		f.Limit = 100
	}
	if f.Limit < 1 || f.Limit > 1000 {
		return nil, apperr.Invalid("limit", "must be 1 to 1000")
	}
	if f.Status != "" && f.Status != InvoiceOpen && f.Status != InvoicePaid && f.Status != InvoiceVoid {
		return nil, apperr.Invalid("status", "must be open, paid or void")
	}
	out := []Invoice{}
	rows, err := s.db.Read().QueryContext(ctx, `SELECT `+invoiceColumns+` FROM invoices
		WHERE ($1 = 0 OR user_id = $1) AND ($2 = '' OR status = $2) ORDER BY id DESC LIMIT $3`, f.UserID, f.Status, f.Limit)
	err = store.EachRow(rows, err, func(r *sql.Rows) error {
		inv, err := scanInvoice(r)
		out = append(out, inv)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list invoices: %w", err)
	}
	return out, nil
}

// MarkPaid records that invoice id was paid (via: "operator", "platform" or
// a provider's name; ref: its payment reference, may be empty). A past_due
// subscription with no other overdue invoice becomes active again.
// Errors: NotFound for an unknown invoice; Conflict when it is not open.
func (s *Service) MarkPaid(ctx context.Context, id int64, via, ref string) (Invoice, error) {
	now := s.now()
	var inv Invoice
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		inv, err = scanInvoice(tx.QueryRowContext(ctx, `SELECT `+invoiceColumns+` FROM invoices WHERE id = $1`+s.db.Dialect.ForUpdate(), id))
		if errors.Is(err, sql.ErrNoRows) {
			return apperr.NotFound("invoice")
		}
		if err != nil {
			return fmt.Errorf("read invoice: %w", err)
		}
		if inv.Status != InvoiceOpen {
			return apperr.Conflict(fmt.Sprintf("invoice %s is %s, not open", inv.Number, inv.Status))
		}
		if _, err := tx.ExecContext(ctx, `UPDATE invoices SET status = $1, paid_at = $2, paid_via = $3, payment_ref = $4 WHERE id = $5`,
			InvoicePaid, store.Millis(now), via, nullString(ref), id); err != nil {
			return fmt.Errorf("mark invoice paid: %w", err)
		}
		inv.Status, inv.PaidAt, inv.PaidVia = InvoicePaid, &now, via
		if _, err := tx.ExecContext(ctx, `UPDATE subscriptions SET status = $1, updated_at = $2
			WHERE user_id = $3 AND status = $4 AND NOT EXISTS (SELECT 1 FROM invoices
				WHERE user_id = $3 AND status = $5 AND due_at <= $2)`,
			StatusActive, store.Millis(now), inv.UserID, StatusPastDue, InvoiceOpen); err != nil {
			return fmt.Errorf("reactivate subscription: %w", err)
		}
		return nil
	})
	if err != nil {
		return Invoice{}, err
	}
	s.publish(ctx, []Event{{UserID: inv.UserID, Kind: EventInvoicePaid, At: now,
		Title: "Payment received",
		Body:  fmt.Sprintf("Invoice %s for %s is paid. Thank you.", inv.Number, inv.Total),
		Data:  map[string]string{"invoice": inv.Number, "invoice_id": fmt.Sprint(inv.ID), "amount": fmt.Sprint(inv.Total.Amount), "currency": inv.Total.Currency}}})
	return inv, nil
}

func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

// markPastDueTx turns active subscriptions with an overdue open invoice past_due.
func (s *Service) markPastDue(ctx context.Context, now time.Time) error {
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE subscriptions SET status = $1, updated_at = $2
			WHERE status = $3 AND user_id IN (SELECT user_id FROM invoices WHERE status = $4 AND due_at <= $2)`,
			StatusPastDue, store.Millis(now), StatusActive, InvoiceOpen)
		if err != nil {
			return fmt.Errorf("mark past due: %w", err)
		}
		return nil
	})
}

// ExportInvoices writes every invoice of userID, with its lines, as a JSON
// array, a page at a time (account's data export).
func (s *Service) ExportInvoices(ctx context.Context, userID int64, w io.Writer) error {
	if _, err := io.WriteString(w, "["); err != nil {
		return err
	}
	enc := json.NewEncoder(w)
	first := true
	var before int64
	for {
		page, err := s.Invoices(ctx, userID, MaxHistory, before)
		if err != nil {
			return err
		}
		for _, inv := range page.Invoices {
			if !first {
				if _, err := io.WriteString(w, ","); err != nil {
					return err
				}
			}
			first = false
			if err := enc.Encode(inv); err != nil {
				return fmt.Errorf("export invoice: %w", err)
			}
		}
		if page.NextCursor == nil {
			break
		}
		before = *page.NextCursor
	}
	_, err := io.WriteString(w, "]")
	return err
}

// ErasePersonalData forgets userID inside account deletion's transaction:
// their invoices are kept for accounting but anonymised (the customer
// name, email and phone printed on them are blanked), and their
// subscription ends.
func (s *Service) ErasePersonalData(ctx context.Context, tx *sql.Tx, userID int64) error {
	if _, err := tx.ExecContext(ctx, `UPDATE invoices SET customer_name = '', customer_email = '', customer_phone = '' WHERE user_id = $1`, userID); err != nil {
		return fmt.Errorf("anonymise invoices: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM subscriptions WHERE user_id = $1`, userID); err != nil {
		return fmt.Errorf("end subscription: %w", err)
	}
	return nil
}
