package billing

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"callboard/internal/store"
)

// Run rolls periods over, marks overdue subscriptions past_due and sends
// pending usage alerts every Tick until ctx ends. Every step is
// idempotent and safe with several instances at once, so a simple ticker
// is enough: after downtime the first tick catches up on every missed
// period, one invoice per period.
func (s *Service) Run(ctx context.Context) error {
	t := time.NewTicker(s.tick)
	defer t.Stop()
	for {
		if err := s.Tick(ctx); err != nil && ctx.Err() == nil {
			s.logger.Error("billing tick", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Tick does one round of Run's work now.
func (s *Service) Tick(ctx context.Context) error {
	if _, err := s.RollOver(ctx); err != nil {
		return err
	}
	if err := s.markPastDue(ctx, s.now()); err != nil {
		return err
	}
	return s.sendDueAlerts(ctx, nil)
}

// rollOverBatch is how many subscriptions RollOver reads at once.
const rollOverBatch = 100

// RollOver closes every period that has ended by now and opens the next,
// one period per transaction, and returns how many it closed. For each:
// the scheduled downgrade or cancellation is applied, an invoice is issued
// for the next period's price plus the closed period's overage (none when
// that is 0), and the usage counter starts again. The subscription row is
// locked and its period end checked again inside the transaction, and each
// invoice carries the key cycle:<period start>, so two instances (or two
// runs) close each period once.
func (s *Service) RollOver(ctx context.Context) (int, error) {
	closed := 0
	for {
		now := s.now()
		var due []int64
		rows, err := s.db.Read().QueryContext(ctx, `SELECT user_id FROM subscriptions WHERE period_end <= $1
			ORDER BY period_end LIMIT $2`, store.Millis(now), rollOverBatch)
		if err := store.EachRow(rows, err, func(r *sql.Rows) error {
			var id int64
			due = append(due, id)
			return r.Scan(&due[len(due)-1])
		}); err != nil {
			return closed, fmt.Errorf("find due periods: %w", err)
		}
		if len(due) == 0 {
			return closed, nil
		}
		progressed := false
		for _, userID := range due {
			n, err := s.rollOverUser(ctx, userID)
			closed += n
			if err != nil {
				return closed, err
			}
			progressed = progressed || n > 0
		}
		if !progressed {
			// Another instance holds them; it will finish what it started.
			return closed, nil
		}
	}
}

// rollOverUser closes userID's ended periods one at a time.
func (s *Service) rollOverUser(ctx context.Context, userID int64) (int, error) {
	cust, err := s.customer(ctx, userID)
	if err != nil {
		return 0, err
	}
	n := 0
	for {
		now := s.now()
		var (
			events []Event
			issued []Invoice
			done   bool
		)
		err := s.db.Tx(ctx, func(tx *sql.Tx) error {
			events, issued, done = nil, nil, false
			sub, err := s.loadSubscription(ctx, tx, userID, true)
			if err == sql.ErrNoRows || (err == nil && sub.PeriodEnd.After(now)) {
				done = true
				return nil
			}
			if err != nil {
				return fmt.Errorf("load subscription: %w", err)
			}
			events, issued, err = s.closePeriodTx(ctx, tx, sub, cust, now)
			return err
		})
		if err != nil {
			return n, err
		}
		if done {
			return n, nil
		}
		n++
		s.publish(ctx, events)
		s.collect(ctx, issued)
	}
}

// closePeriodTx ends sub's period and opens the next.
func (s *Service) closePeriodTx(ctx context.Context, tx *sql.Tx, sub *subscription, cust Customer, now time.Time) ([]Event, []Invoice, error) {
	closed := *sub
	var events []Event
	next := sub.Plan
	switch {
	case sub.CancelAtPeriodEnd:
		free, err := s.defaultPlan(ctx, tx)
		if err != nil {
			return nil, nil, err
		}
		next, sub.Status = free, StatusCanceled
		events = append(events, Event{UserID: sub.UserID, Kind: EventCanceled, At: now,
			Title: fmt.Sprintf("Your %s subscription has ended", closed.Plan.Name),
			Body:  fmt.Sprintf("You are now on the %s plan. Choose a plan any time to come back.", free.Name),
			Data:  map[string]string{"plan": closed.Plan.Code, "now": free.Code}})
	case sub.Scheduled != nil:
		next = *sub.Scheduled
		events = append(events, Event{UserID: sub.UserID, Kind: EventPlanChanged, At: now,
			Title: fmt.Sprintf("You are now on %s", next.Name),
			Body:  fmt.Sprintf("Your scheduled change from %s to %s took effect.", closed.Plan.Name, next.Name),
			Data:  map[string]string{"from": closed.Plan.Code, "to": next.Code}})
	}
	if next.Interval != closed.Plan.Interval {
		sub.Anchor, sub.Cycle = closed.PeriodEnd, 0
	} else {
		sub.Cycle++
	}
	sub.PeriodStart, sub.PeriodEnd = periodOf(sub.Anchor, next.Interval, sub.Cycle)
	sub.Plan, sub.Scheduled, sub.CancelAtPeriodEnd, sub.CanceledAt = next, nil, false, nil
	sub.UsageSeconds, sub.UsageCalls, sub.Alerted, sub.AlertDue = 0, 0, 0, 0

	cur := closed.Plan.Price.Currency
	var lines []InvoiceLine
	if next.Price.Amount > 0 {
		lines = append(lines, InvoiceLine{Kind: LineSubscription, Quantity: 1,
			Description: fmt.Sprintf("%s plan, %s – %s", next.Name, sub.PeriodStart.Format(dateLayout), sub.PeriodEnd.Format(dateLayout)),
			UnitAmount:  next.Price, Amount: next.Price, PeriodStart: sub.PeriodStart, PeriodEnd: sub.PeriodEnd})
	}
	u := usage(&closed, closed.PeriodEnd)
	if u.OverageMinutes > 0 && closed.Plan.OveragePerMinute.Amount > 0 {
		lines = append(lines, InvoiceLine{Kind: LineOverage, Quantity: u.OverageMinutes,
			Description: fmt.Sprintf("Overage, %s – %s: %d minutes used, %d included", closed.PeriodStart.Format(dateLayout),
				closed.PeriodEnd.Format(dateLayout), u.MinutesUsed, u.IncludedMinutes),
			UnitAmount: closed.Plan.OveragePerMinute, Amount: u.OverageCost, PeriodStart: closed.PeriodStart, PeriodEnd: closed.PeriodEnd})
	}
	var issued []Invoice
	if len(lines) > 0 {
		inv, ok, err := s.issueTx(ctx, tx, newInvoice{UserID: sub.UserID, IdemKey: fmt.Sprintf("cycle:%d", store.Millis(sub.PeriodStart)),
			Kind: KindCycle, Plan: next.Code, Currency: cur, PeriodStart: sub.PeriodStart, PeriodEnd: sub.PeriodEnd,
			Customer: cust, Lines: lines}, sub.PeriodStart) // dated when the period began, also when caught up late: its due date follows

		if err != nil {
			return nil, nil, err
		}
		if ok {
			issued = append(issued, inv)
			events = append(events, issuedEvent(inv))
		}
	}
	if err := s.saveTx(ctx, tx, sub, now); err != nil {
		return nil, nil, err
	}
	return events, issued, nil
}
