package billing

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"time"

	"callboard/internal/apperr"
	"callboard/internal/store"
)

// How a plan compares with the current one.
const (
	CompareCurrent   = "current"
	CompareUpgrade   = "upgrade"   // takes effect now, prorated
	CompareDowngrade = "downgrade" // scheduled for the period's end
)

// ScheduledChange is a plan change waiting for the period's end.
type ScheduledChange struct {
	Plan        Plan      `json:"plan"`
	EffectiveAt time.Time `json:"effective_at"`
}

// CurrentSubscription is the subscription as the customer sees it.
type CurrentSubscription struct {
	Plan               Plan             `json:"plan"`
	Status             string           `json:"status" enum:"trialing,active,past_due,canceled"`
	CurrentPeriodStart time.Time        `json:"current_period_start"`
	CurrentPeriodEnd   time.Time        `json:"current_period_end"`
	RemainingDays      int              `json:"remaining_days" doc:"Days until the period ends; a day begun counts as a whole one."`
	CancelAtPeriodEnd  bool             `json:"cancel_at_period_end"`
	CanceledAt         *time.Time       `json:"canceled_at" doc:"When cancellation was asked for; null when not canceling."`
	ScheduledChange    *ScheduledChange `json:"scheduled_change" doc:"A downgrade waiting for the period's end; null when none."`
}

// PlanOption is a plan the customer may choose, and how it compares.
type PlanOption struct {
	Plan
	Comparison string `json:"comparison" enum:"current,upgrade,downgrade"`
}

// PeriodUsage is the open period's metered usage.
type PeriodUsage struct {
	PeriodStart          time.Time `json:"period_start"`
	PeriodEnd            time.Time `json:"period_end"`
	MinutesUsed          int64     `json:"minutes_used" doc:"Finished calls' seconds this period in whole minutes; a minute begun counts as a whole one."`
	IncludedMinutes      int64     `json:"included_minutes"`
	OverageMinutes       int64     `json:"overage_minutes"`
	OverageCost          Amount    `json:"overage_cost" doc:"What the overage so far will add to the next invoice."`
	ProjectedMinutes     int64     `json:"projected_minutes" doc:"Minutes at the period's end if calls go on at this period's pace."`
	ProjectedOverageCost Amount    `json:"projected_overage_cost"`
	Calls                int64     `json:"calls" doc:"Finished calls metered this period."`
	PercentUsed          float64   `json:"percent_used" doc:"Of the included minutes, one decimal; may pass 100."`
}

// SubscriptionActions says what the customer may do now.
type SubscriptionActions struct {
	Upgrade   bool `json:"upgrade"`
	Downgrade bool `json:"downgrade"`
	Cancel    bool `json:"cancel"`
	Resume    bool `json:"resume" doc:"Undo a pending cancellation or scheduled downgrade."`
}

// SubscriptionPage is the subscription page.
type SubscriptionPage struct {
	Current        CurrentSubscription `json:"current"`
	AvailablePlans []PlanOption        `json:"available_plans"`
	Usage          PeriodUsage         `json:"usage"`
	Actions        SubscriptionActions `json:"actions"`
	BillingHistory InvoicePage         `json:"billing_history"`
}

func (s *Service) current(sub *subscription, now time.Time) CurrentSubscription {
	c := CurrentSubscription{Plan: sub.Plan, Status: sub.Status, CurrentPeriodStart: sub.PeriodStart, CurrentPeriodEnd: sub.PeriodEnd,
		RemainingDays: remainingDays(sub.PeriodEnd, now), CancelAtPeriodEnd: sub.CancelAtPeriodEnd, CanceledAt: sub.CanceledAt}
	if sub.Scheduled != nil {
		c.ScheduledChange = &ScheduledChange{Plan: *sub.Scheduled, EffectiveAt: sub.PeriodEnd}
	}
	return c
}

func remainingDays(end, now time.Time) int {
	if !end.After(now) {
		return 0
	}
	return int((end.Sub(now) + day - 1) / day)
}

// usage computes the open period's usage at now.
func usage(sub *subscription, now time.Time) PeriodUsage {
	p := sub.Plan
	u := PeriodUsage{PeriodStart: sub.PeriodStart, PeriodEnd: sub.PeriodEnd, MinutesUsed: billedMinutes(sub.UsageSeconds),
		IncludedMinutes: p.IncludedMinutes, Calls: sub.UsageCalls}
	u.OverageMinutes = max(u.MinutesUsed-p.IncludedMinutes, 0)
	u.OverageCost = Amount{u.OverageMinutes * p.OveragePerMinute.Amount, p.Price.Currency}
	// Projection: this period's seconds scaled from the time elapsed to the
	// whole period (the one rounding rule), never below what is used.
	u.ProjectedMinutes = u.MinutesUsed
	if elapsed, whole := now.Sub(sub.PeriodStart).Milliseconds(), sub.PeriodEnd.Sub(sub.PeriodStart).Milliseconds(); elapsed > 0 && elapsed < whole {
		u.ProjectedMinutes = billedMinutes(mulDivHalfUp(max(sub.UsageSeconds, 0), whole, elapsed))
	}
	u.ProjectedOverageCost = Amount{max(u.ProjectedMinutes-p.IncludedMinutes, 0) * p.OveragePerMinute.Amount, p.Price.Currency}
	switch {
	case p.IncludedMinutes > 0:
		u.PercentUsed = math.Round(float64(u.MinutesUsed)*1000/float64(p.IncludedMinutes)) / 10
	case u.MinutesUsed > 0:
		u.PercentUsed = 100
	}
	return u
}

// compare says how target compares with current: a higher price is an
// upgrade, anything else a downgrade.
func compare(current, target Plan) string {
	switch {
	case current.ID == target.ID:
		return CompareCurrent
	case target.Price.Amount > current.Price.Amount:
		return CompareUpgrade
	}
	return CompareDowngrade
}

// options lists the plans sub may move to (active, same currency and
// interval) and its own, by price.
func (s *Service) options(ctx context.Context, sub *subscription) ([]PlanOption, error) {
	var out []PlanOption
	rows, err := s.db.Read().QueryContext(ctx, `SELECT `+planColumns+` FROM plans p
		WHERE (p.active = TRUE AND p.currency = $1 AND p.billing_interval = $2) OR p.id = $3
		ORDER BY p.price_amount, p.id`, sub.Plan.Price.Currency, sub.Plan.Interval, sub.Plan.ID)
	err = store.EachRow(rows, err, func(r *sql.Rows) error {
		var p Plan
		if err := scanPlan(r, &p); err != nil {
			return err
		}
		out = append(out, PlanOption{Plan: p, Comparison: compare(sub.Plan, p)})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list plans: %w", err)
	}
	return out, nil
}

func actions(sub *subscription, opts []PlanOption) SubscriptionActions {
	a := SubscriptionActions{Cancel: sub.Plan.Price.Amount > 0 && !sub.CancelAtPeriodEnd,
		Resume: sub.CancelAtPeriodEnd || sub.Scheduled != nil}
	for _, o := range opts {
		if !o.Active {
			continue
		}
		a.Upgrade = a.Upgrade || o.Comparison == CompareUpgrade
		a.Downgrade = a.Downgrade || o.Comparison == CompareDowngrade
	}
	return a
}

// Subscription is userID's subscription page, its billing history paged by
// historyLimit (0: 20) and historyBefore (0: newest). A user without a
// subscription starts on the free plan. Errors: Invalid for the paging;
// NotFound when the user is gone.
func (s *Service) Subscription(ctx context.Context, userID int64, historyLimit int, historyBefore int64) (SubscriptionPage, error) {
	sub, err := s.ensure(ctx, userID) // first: it may close an ended period and issue its invoice
	if err != nil {
		return SubscriptionPage{}, err
	}
	history, err := s.Invoices(ctx, userID, historyLimit, historyBefore)
	if err != nil {
		return SubscriptionPage{}, err
	}
	opts, err := s.options(ctx, sub)
	if err != nil {
		return SubscriptionPage{}, err
	}
	now := s.now()
	return SubscriptionPage{Current: s.current(sub, now), AvailablePlans: opts, Usage: usage(sub, now),
		Actions: actions(sub, opts), BillingHistory: history}, nil
}

// change is what choosing a plan would do.
type change struct {
	Target      Plan
	Comparison  string
	EffectiveAt time.Time
	Proration   Proration
	Lines       []InvoiceLine // the prorated invoice's lines (upgrades)
}

// decide works out a change of sub to the plan code at now; location names
// the plan parameter in errors. Errors: Invalid at location for an
// unknown, archived or incompatible plan; Conflict when it changes nothing.
func (s *Service) decide(ctx context.Context, q querier, sub *subscription, code, location string, now time.Time) (change, error) {
	if code == "" {
		return change{}, apperr.Invalid(location, "is required: a plan code such as pro")
	}
	target, err := s.planByCode(ctx, q, code)
	if errors.Is(err, sql.ErrNoRows) {
		return change{}, apperr.Invalid(location, fmt.Sprintf("no plan %q exists", code))
	}
	if err != nil {
		return change{}, fmt.Errorf("read plan: %w", err)
	}
	cmp := compare(sub.Plan, target)
	switch {
	case cmp == CompareCurrent:
		if sub.Scheduled == nil && !sub.CancelAtPeriodEnd {
			return change{}, apperr.Conflict(fmt.Sprintf("you are already on the %s plan", target.Name))
		}
		return change{Target: target, Comparison: cmp, EffectiveAt: now}, nil
	case !target.Active:
		return change{}, apperr.Invalid(location, fmt.Sprintf("plan %q is archived and cannot be chosen", code))
	case target.Price.Currency != sub.Plan.Price.Currency:
		return change{}, apperr.Invalid(location, fmt.Sprintf("plan %q is priced in %s; your subscription is billed in %s", code, target.Price.Currency, sub.Plan.Price.Currency))
	case target.Interval != sub.Plan.Interval:
		return change{}, apperr.Invalid(location, fmt.Sprintf("plan %q is billed every %s; your subscription every %s (support can switch it)", code, target.Interval, sub.Plan.Interval))
	case sub.Scheduled != nil && sub.Scheduled.ID == target.ID:
		return change{}, apperr.Conflict(fmt.Sprintf("a change to %s is already scheduled for %s", target.Name, sub.PeriodEnd.Format(dateLayout)))
	}
	c := change{Target: target, Comparison: cmp, EffectiveAt: sub.PeriodEnd}
	if cmp == CompareUpgrade {
		c.EffectiveAt = now
		c.Proration = prorate(sub.Plan.Price.Amount, target.Price.Amount, sub.PeriodStart, sub.PeriodEnd, now)
		c.Lines = prorationLines(sub, target, c.Proration, now)
	}
	return c, nil
}

// dateLayout is how dates are written in descriptions and events.
const dateLayout = "2 Jan 2006"

func prorationLines(sub *subscription, target Plan, p Proration, now time.Time) []InvoiceLine {
	from, cur := startOfDay(now), sub.Plan.Price.Currency
	var lines []InvoiceLine
	if p.Credit > 0 {
		lines = append(lines, InvoiceLine{Kind: LineCredit, Quantity: 1,
			Description: fmt.Sprintf("Unused time on %s from %s (%d of %d days)", sub.Plan.Name, from.Format(dateLayout), p.Days, p.PeriodDays),
			UnitAmount:  Amount{-p.Credit, cur}, Amount: Amount{-p.Credit, cur}, PeriodStart: from, PeriodEnd: sub.PeriodEnd})
	}
	lines = append(lines, InvoiceLine{Kind: LineProration, Quantity: 1,
		Description: fmt.Sprintf("Remaining time on %s from %s (%d of %d days)", target.Name, from.Format(dateLayout), p.Days, p.PeriodDays),
		UnitAmount:  Amount{p.Charge, cur}, Amount: Amount{p.Charge, cur}, PeriodStart: from, PeriodEnd: sub.PeriodEnd})
	return lines
}

// ChangePreview is what choosing a plan would invoice, before confirming
// (Stripe's upcoming invoice).
type ChangePreview struct {
	Plan              Plan          `json:"plan"`
	Comparison        string        `json:"comparison" enum:"current,upgrade,downgrade"`
	EffectiveAt       time.Time     `json:"effective_at" doc:"Now for an upgrade; the period's end for a downgrade."`
	ProratedDays      int64         `json:"prorated_days" doc:"Days left in the period, today included (upgrades)."`
	PeriodDays        int64         `json:"period_days"`
	Lines             []InvoiceLine `json:"lines" doc:"The invoice an upgrade issues now; empty for a downgrade."`
	Total             Amount        `json:"total" doc:"Due now."`
	NextInvoiceDate   time.Time     `json:"next_invoice_date"`
	NextInvoiceAmount Amount        `json:"next_invoice_amount" doc:"The plan's price at the next period, before any overage."`
}

// PreviewChange tells what ChangePlan(code) would do now, changing nothing.
// Errors: as ChangePlan's, at query.plan.
func (s *Service) PreviewChange(ctx context.Context, userID int64, code string) (ChangePreview, error) {
	sub, err := s.ensure(ctx, userID)
	if err != nil {
		return ChangePreview{}, err
	}
	now := s.now()
	c, err := s.decide(ctx, s.db.Read(), sub, code, "query.plan", now)
	if err != nil {
		return ChangePreview{}, err
	}
	cur := sub.Plan.Price.Currency
	p := ChangePreview{Plan: c.Target, Comparison: c.Comparison, EffectiveAt: c.EffectiveAt, ProratedDays: c.Proration.Days,
		PeriodDays: int64(sub.PeriodEnd.Sub(sub.PeriodStart) / day), Lines: c.Lines, Total: Amount{c.Proration.Total(), cur},
		NextInvoiceDate: sub.PeriodEnd, NextInvoiceAmount: c.Target.Price}
	if p.Lines == nil {
		p.Lines = []InvoiceLine{}
	}
	return p, nil
}

// ChangeResult is what a plan change did.
type ChangeResult struct {
	Effective    string              `json:"effective" enum:"now,period_end"`
	Invoice      *Invoice            `json:"invoice" doc:"The prorated invoice of an upgrade; null otherwise."`
	Subscription CurrentSubscription `json:"subscription"`
}

// ChangePlan moves userID to the plan code: an upgrade (a higher price)
// takes effect now with an invoice prorated to the day (credit for the
// unused days of the old plan, charge for the same days of the new one);
// a downgrade is scheduled for the period's end. Choosing the current plan
// while a downgrade or cancellation is pending undoes it (as Resume).
// Either clears a pending cancellation. The subscription row is locked
// for the decision, so two changes at once apply (and invoice) once.
// Errors: Invalid at body.plan for an unknown, archived, or other-currency
// or other-interval plan; Conflict when it changes nothing.
func (s *Service) ChangePlan(ctx context.Context, userID int64, code string) (ChangeResult, error) {
	if _, err := s.ensure(ctx, userID); err != nil {
		return ChangeResult{}, err
	}
	cust, err := s.customer(ctx, userID)
	if err != nil {
		return ChangeResult{}, err
	}
	now := s.now()
	var (
		res    ChangeResult
		events []Event
		issued []Invoice
	)
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		events, issued = nil, nil
		sub, err := s.lockTx(ctx, tx, userID, now)
		if err != nil {
			return err
		}
		c, err := s.decide(ctx, tx, sub, code, "body.plan", now)
		if err != nil {
			return err
		}
		from := sub.Plan
		switch c.Comparison {
		case CompareCurrent:
			res.Effective = "now"
			events = append(events, s.resumedEvent(sub, now))
			sub.Scheduled, sub.CancelAtPeriodEnd, sub.CanceledAt = nil, false, nil
		case CompareDowngrade:
			res.Effective = "period_end"
			sub.Scheduled, sub.CancelAtPeriodEnd, sub.CanceledAt = &c.Target, false, nil
			events = append(events, Event{UserID: userID, Kind: EventChangeScheduled, At: now,
				Title: fmt.Sprintf("Your plan changes to %s on %s", c.Target.Name, sub.PeriodEnd.Format(dateLayout)),
				Body:  fmt.Sprintf("You stay on %s until %s, then move to %s at %s a %s.", from.Name, sub.PeriodEnd.Format(dateLayout), c.Target.Name, c.Target.Price, c.Target.Interval),
				Data:  map[string]string{"from": from.Code, "to": c.Target.Code, "effective_at": sub.PeriodEnd.Format(time.RFC3339)}})
		case CompareUpgrade:
			res.Effective = "now"
			inv, ok, err := s.issueTx(ctx, tx, newInvoice{UserID: userID, IdemKey: fmt.Sprintf("change:%d", sub.Version+1),
				Kind: KindChange, Plan: c.Target.Code, Currency: from.Price.Currency, PeriodStart: startOfDay(now), PeriodEnd: sub.PeriodEnd,
				Customer: cust, Lines: c.Lines}, now)
			if err != nil {
				return err
			}
			if !ok {
				return apperr.Conflict("this change was just made")
			}
			res.Invoice, issued = &inv, []Invoice{inv}
			sub.Plan, sub.Scheduled, sub.CancelAtPeriodEnd, sub.CanceledAt = c.Target, nil, false, nil
			if sub.Status == StatusCanceled {
				sub.Status = StatusActive
			}
			events = append(events, Event{UserID: userID, Kind: EventPlanChanged, At: now,
				Title: fmt.Sprintf("You are now on %s", c.Target.Name),
				Body:  fmt.Sprintf("You moved from %s to %s. Invoice %s for %s covers the rest of this period.", from.Name, c.Target.Name, inv.Number, inv.Total),
				Data:  map[string]string{"from": from.Code, "to": c.Target.Code, "invoice": inv.Number}}, issuedEvent(inv))
		}
		if err := s.saveTx(ctx, tx, sub, now); err != nil {
			return err
		}
		res.Subscription = s.current(sub, now)
		return nil
	})
	if err != nil {
		return ChangeResult{}, err
	}
	s.publish(ctx, events)
	s.collect(ctx, issued)
	return res, nil
}

// saveTx writes sub's plan, status, period, pending changes and usage back,
// and bumps its version.
func (s *Service) saveTx(ctx context.Context, tx *sql.Tx, sub *subscription, now time.Time) error {
	var scheduled sql.NullInt64
	if sub.Scheduled != nil {
		scheduled = sql.NullInt64{Int64: sub.Scheduled.ID, Valid: true}
	}
	var canceledAt sql.NullInt64
	if sub.CanceledAt != nil {
		canceledAt = sql.NullInt64{Int64: store.Millis(*sub.CanceledAt), Valid: true}
	}
	sub.Version++
	_, err := tx.ExecContext(ctx, `UPDATE subscriptions SET plan_id = $1, status = $2, anchor = $3, cycle = $4, period_start = $5,
		period_end = $6, cancel_at_period_end = $7, canceled_at = $8, scheduled_plan_id = $9, usage_seconds = $10, usage_calls = $11,
		alerted = $12, alert_due = $13, version = $14, updated_at = $15 WHERE user_id = $16`,
		sub.Plan.ID, sub.Status, store.Millis(sub.Anchor), sub.Cycle, store.Millis(sub.PeriodStart), store.Millis(sub.PeriodEnd),
		sub.CancelAtPeriodEnd, canceledAt, scheduled, sub.UsageSeconds, sub.UsageCalls, sub.Alerted, sub.AlertDue, sub.Version,
		store.Millis(now), sub.UserID)
	if err != nil {
		return fmt.Errorf("save subscription: %w", err)
	}
	return nil
}

func issuedEvent(inv Invoice) Event {
	return Event{UserID: inv.UserID, Kind: EventInvoiceIssued, At: inv.IssuedAt,
		Title: fmt.Sprintf("Invoice %s: %s", inv.Number, inv.Total),
		Body:  fmt.Sprintf("Invoice %s for %s is due on %s.", inv.Number, inv.Total, inv.DueAt.Format(dateLayout)),
		Data:  map[string]string{"invoice": inv.Number, "invoice_id": fmt.Sprint(inv.ID), "amount": fmt.Sprint(inv.Total.Amount), "currency": inv.Total.Currency}}
}

func (s *Service) resumedEvent(sub *subscription, now time.Time) Event {
	return Event{UserID: sub.UserID, Kind: EventResumed, At: now,
		Title: fmt.Sprintf("You stay on %s", sub.Plan.Name),
		Body:  fmt.Sprintf("Your %s subscription continues past %s.", sub.Plan.Name, sub.PeriodEnd.Format(dateLayout)),
		Data:  map[string]string{"plan": sub.Plan.Code}}
}

// Cancel sets userID's paid subscription to end at the period's end (and
// drops a scheduled downgrade); until then nothing changes. Errors:
// Conflict on the free plan or when already canceling.
func (s *Service) Cancel(ctx context.Context, userID int64) (CurrentSubscription, error) {
	return s.update(ctx, userID, func(sub *subscription, now time.Time) (Event, error) {
		if sub.Plan.Price.Amount == 0 {
			return Event{}, apperr.Conflict(fmt.Sprintf("the %s plan has nothing to cancel", sub.Plan.Name))
		}
		if sub.CancelAtPeriodEnd {
			return Event{}, apperr.Conflict(fmt.Sprintf("your subscription already ends on %s", sub.PeriodEnd.Format(dateLayout)))
		}
		sub.CancelAtPeriodEnd, sub.CanceledAt, sub.Scheduled = true, &now, nil
		return Event{UserID: userID, Kind: EventCanceled, At: now,
			Title: fmt.Sprintf("Your %s subscription ends on %s", sub.Plan.Name, sub.PeriodEnd.Format(dateLayout)),
			Body:  fmt.Sprintf("You keep %s until %s, then move to the free plan. You can resume before then.", sub.Plan.Name, sub.PeriodEnd.Format(dateLayout)),
			Data:  map[string]string{"plan": sub.Plan.Code, "effective_at": sub.PeriodEnd.Format(time.RFC3339)}}, nil
	})
}

// Resume undoes a pending cancellation or scheduled downgrade of userID's
// subscription. Errors: Conflict when neither is pending.
func (s *Service) Resume(ctx context.Context, userID int64) (CurrentSubscription, error) {
	return s.update(ctx, userID, func(sub *subscription, now time.Time) (Event, error) {
		if !sub.CancelAtPeriodEnd && sub.Scheduled == nil {
			return Event{}, apperr.Conflict("there is no cancellation or scheduled change to undo")
		}
		ev := s.resumedEvent(sub, now)
		sub.CancelAtPeriodEnd, sub.CanceledAt, sub.Scheduled = false, nil, nil
		return ev, nil
	})
}

// update changes userID's subscription under its lock with fn and
// publishes fn's event after the commit.
func (s *Service) update(ctx context.Context, userID int64, fn func(sub *subscription, now time.Time) (Event, error)) (CurrentSubscription, error) {
	if _, err := s.ensure(ctx, userID); err != nil {
		return CurrentSubscription{}, err
	}
	now := s.now()
	var (
		cur CurrentSubscription
		ev  Event
	)
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		sub, err := s.lockTx(ctx, tx, userID, now)
		if err != nil {
			return err
		}
		if ev, err = fn(sub, now); err != nil {
			return err
		}
		if err := s.saveTx(ctx, tx, sub, now); err != nil {
			return err
		}
		cur = s.current(sub, now)
		return nil
	})
	if err != nil {
		return CurrentSubscription{}, err
	}
	s.publish(ctx, []Event{ev})
	return cur, nil
}

// SetPlan puts userID on the plan code at once, without an invoice, for
// support: archived plans too, and another interval (the period then
// restarts today); pending changes are dropped. Errors: NotFound for an
// unknown user or plan; Invalid at plan for another currency.
func (s *Service) SetPlan(ctx context.Context, userID int64, code string) (CurrentSubscription, error) {
	target, err := s.planByCode(ctx, s.db.Read(), code)
	if errors.Is(err, sql.ErrNoRows) {
		return CurrentSubscription{}, apperr.NotFound("plan " + code)
	}
	if err != nil {
		return CurrentSubscription{}, err
	}
	return s.update(ctx, userID, func(sub *subscription, now time.Time) (Event, error) {
		if target.Price.Currency != sub.Plan.Price.Currency {
			return Event{}, apperr.Invalid("plan", fmt.Sprintf("plan %s is priced in %s; the subscription is billed in %s", code, target.Price.Currency, sub.Plan.Price.Currency))
		}
		from := sub.Plan
		if target.Interval != sub.Plan.Interval {
			sub.Anchor, sub.Cycle = startOfDay(now), 0
			sub.PeriodStart, sub.PeriodEnd = periodOf(sub.Anchor, target.Interval, 0)
		}
		sub.Plan, sub.Scheduled, sub.CancelAtPeriodEnd, sub.CanceledAt = target, nil, false, nil
		if sub.Status == StatusCanceled {
			sub.Status = StatusActive
		}
		return Event{UserID: userID, Kind: EventPlanChanged, At: now,
			Title: fmt.Sprintf("You are now on %s", target.Name),
			Body:  fmt.Sprintf("Support moved your subscription from %s to %s.", from.Name, target.Name),
			Data:  map[string]string{"from": from.Code, "to": target.Code, "by": "support"}}, nil
	})
}
