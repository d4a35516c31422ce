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
// subscription read and two index seeks in the user's invoices (the newest
// one; the sum of open ones).
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
		lastID, lastTotal, lastIssued int64
		lastStatus                    string
	)
	err = s.db.Read().QueryRowContext(ctx, `SELECT id, total, status, issued_at FROM invoices
		WHERE user_id = $1 ORDER BY id DESC LIMIT 1`, userID).Scan(&lastID, &lastTotal, &lastStatus, &lastIssued)
	switch {
	case err == nil:
		number, issued := invoiceNumber(lastID), store.Time(lastIssued)
		card.LastInvoice, card.LastInvoiceAmount, card.LastInvoiceStatus, card.LastInvoiceDate = &number, &lastTotal, &lastStatus, &issued
	case !errors.Is(err, sql.ErrNoRows):
		return nil, fmt.Errorf("last invoice: %w", err)
	}
	if err := s.db.Read().QueryRowContext(ctx, `SELECT COALESCE(SUM(total), 0) FROM invoices WHERE user_id = $1 AND status = $2`,
		userID, InvoiceOpen).Scan(&card.OpenBalance); err != nil {
		return nil, fmt.Errorf("open balance: %w", err)
	}
	return card, nil
}
