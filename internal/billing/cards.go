package billing

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"callboard/internal/dashboard"
	"callboard/internal/store"
)

// SubscriptionSummary is the overview's subscription card (dashboard's
// Subscriptions): one indexed read of the subscription and its plan.
func (s *Service) SubscriptionSummary(ctx context.Context, userID int64) (*dashboard.SubscriptionSummary, error) {
	sub, err := s.ensure(ctx, userID)
	if err != nil {
		return nil, err
	}
	return &dashboard.SubscriptionSummary{Plan: sub.Plan.Name, PlanCode: sub.Plan.Code, Status: sub.Status,
		RemainingDays: remainingDays(sub.PeriodEnd, s.now()), CurrentPeriodEnd: sub.PeriodEnd, CancelAtPeriodEnd: sub.CancelAtPeriodEnd}, nil
}

// BillingSummary is the overview's billing card (dashboard's Billing): the
// subscription read and one indexed read of the user's invoices (the last
// one, and the open balance).
func (s *Service) BillingSummary(ctx context.Context, userID int64) (*dashboard.BillingSummary, error) {
	sub, err := s.ensure(ctx, userID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	cur := sub.Plan.Price.Currency
	next := sub.Plan
	switch {
	case sub.CancelAtPeriodEnd:
		next = Plan{} // the free plan: nothing to pay
	case sub.Scheduled != nil:
		next = *sub.Scheduled
	}
	u := usage(sub, now)
	amount := next.Price.Amount + u.OverageCost.Amount
	end := sub.PeriodEnd
	card := &dashboard.BillingSummary{NextBillingDate: &end, NextBillingAmount: &amount, Currency: cur,
		MinutesUsed: u.MinutesUsed, IncludedMinutes: u.IncludedMinutes}
	var (
		lastID                sql.NullInt64
		lastTotal, lastIssued sql.NullInt64
		lastStatus            sql.NullString
		openBalance           int64
	)
	// One statement: the newest invoice and the sum of open ones, both
	// through invoices' (user_id, …) indexes.
	err = s.db.Read().QueryRowContext(ctx, `SELECT l.id, l.total, l.status, l.issued_at,
		(SELECT COALESCE(SUM(total), 0) FROM invoices WHERE user_id = $1 AND status = $2)
		FROM (SELECT 1 AS one) x LEFT JOIN (SELECT id, total, status, issued_at FROM invoices WHERE user_id = $1 ORDER BY id DESC LIMIT 1) l ON TRUE`,
		userID, InvoiceOpen).Scan(&lastID, &lastTotal, &lastStatus, &lastIssued, &openBalance)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("billing summary: %w", err)
	}
	card.OpenBalance = openBalance
	if lastID.Valid {
		number := invoiceNumber(lastID.Int64)
		issued := store.Time(lastIssued.Int64)
		card.LastInvoice = &number
		card.LastInvoiceAmount, card.LastInvoiceStatus, card.LastInvoiceDate = &lastTotal.Int64, &lastStatus.String, &issued
	}
	return card, nil
}
