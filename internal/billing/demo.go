package billing

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"callboard/internal/apperr"
	"callboard/internal/store"
)

// UsageBetween tells the seconds and number of a user's finished calls
// that started in [from, to).
type UsageBetween func(from, to time.Time) (seconds, calls int64)

// SeedDemo gives userID's demo account a history, as if they had been on
// the plan code since paidPeriods periods before the one starting on
// periodStart (a UTC midnight at most a period ago): one cycle invoice per
// period, each with the period's overage from used and paid three days
// after issue (the open period's too, once three days old), and the open
// period's usage counter set from used. For demo data only, whose calls
// are backdated: ingest meters every call into the period open when it is
// reported. Idempotent: invoices carry their periods' keys.
// Errors: NotFound for an unknown plan.
func (s *Service) SeedDemo(ctx context.Context, userID int64, code string, periodStart time.Time, paidPeriods int, used UsageBetween) error {
	plan, err := s.planByCode(ctx, s.db.Read(), code)
	if errors.Is(err, sql.ErrNoRows) {
		return apperr.NotFound("plan " + code)
	}
	if err != nil {
		return err
	}
	if _, err := s.ensure(ctx, userID); err != nil {
		return err
	}
	cust, err := s.customer(ctx, userID)
	if err != nil {
		return err
	}
	now := s.now()
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		sub, err := s.lockTx(ctx, tx, userID, now)
		if err != nil {
			return err
		}
		sub.Plan, sub.Status, sub.Scheduled, sub.CancelAtPeriodEnd, sub.CanceledAt = plan, StatusActive, nil, false, nil
		sub.Anchor, sub.Cycle = addMonths(startOfDay(periodStart), -paidPeriods*intervalMonths(plan.Interval)), paidPeriods
		sub.PeriodStart, sub.PeriodEnd = periodOf(sub.Anchor, plan.Interval, sub.Cycle)
		for cycle := 0; cycle <= paidPeriods; cycle++ {
			start, end := periodOf(sub.Anchor, plan.Interval, cycle)
			lines := []InvoiceLine{{Kind: LineSubscription, Quantity: 1,
				Description: fmt.Sprintf("%s plan, %s – %s", plan.Name, start.Format(dateLayout), end.Format(dateLayout)),
				UnitAmount:  plan.Price, Amount: plan.Price, PeriodStart: start, PeriodEnd: end}}
			if cycle > 0 {
				prevStart, prevEnd := periodOf(sub.Anchor, plan.Interval, cycle-1)
				seconds, calls := used(prevStart, prevEnd)
				prev := subscription{Plan: plan, PeriodStart: prevStart, PeriodEnd: prevEnd, UsageSeconds: seconds, UsageCalls: calls}
				if u := usage(&prev, prevEnd); u.OverageMinutes > 0 && plan.OveragePerMinute.Amount > 0 {
					lines = append(lines, InvoiceLine{Kind: LineOverage, Quantity: u.OverageMinutes,
						Description: fmt.Sprintf("Overage, %s – %s: %d minutes used, %d included", prevStart.Format(dateLayout),
							prevEnd.Format(dateLayout), u.MinutesUsed, u.IncludedMinutes),
						UnitAmount: plan.OveragePerMinute, Amount: u.OverageCost, PeriodStart: prevStart, PeriodEnd: prevEnd})
				}
			}
			inv, ok, err := s.issueTx(ctx, tx, newInvoice{UserID: userID, IdemKey: fmt.Sprintf("cycle:%d", store.Millis(start)), Kind: KindCycle,
				Plan: plan.Code, Currency: plan.Price.Currency, PeriodStart: start, PeriodEnd: end, Customer: cust, Lines: lines}, start)
			if err != nil {
				return err
			}
			if paid := start.Add(3 * day); ok && inv.Status == InvoiceOpen && paid.Before(now) {
				if _, err := tx.ExecContext(ctx, `UPDATE invoices SET status = $1, paid_at = $2, paid_via = 'demo', payment_ref = $3 WHERE id = $4`,
					InvoicePaid, store.Millis(paid), fmt.Sprintf("DEMO-%d", inv.ID), inv.ID); err != nil {
					return fmt.Errorf("demo payment: %w", err)
				}
			}
		}
		sub.UsageSeconds, sub.UsageCalls = used(sub.PeriodStart, now)
		sub.Alerted, sub.AlertDue = 0, alertLevel(billedMinutes(sub.UsageSeconds), plan.IncludedMinutes)
		sub.Alerted = sub.AlertDue // the demo's past alerts are not sent again
		return s.saveTx(ctx, tx, sub, now)
	})
}
