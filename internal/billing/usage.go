package billing

import (
	"context"
	"database/sql"
	"fmt"
	"slices"

	"callboard/internal/calls"
	"callboard/internal/store"
)

// billable is what a call adds to its owner's usage: its seconds and one
// call once it has finished, nothing before.
func billable(c *calls.Call) (seconds, count int64) {
	if c == nil || !c.Status.Finished() {
		return 0, 0
	}
	return int64(max(c.DurationSeconds, 0)), 1
}

// CallsChangedTx meters a batch of ingested calls inside the ingest
// transaction (calls.TxBatchObserver): each user's change in billable
// seconds and finished calls is added to their subscription's open period
// with one UPDATE (a user without a subscription starts on the free plan).
// A call is counted when it finishes; a later change of its duration adds
// the difference; so the sum over all periods is exactly the finished
// calls' seconds, each counted once, in the period that was open when
// ingest learnt of it. Crossing 80% or 100% of the included minutes marks
// an alert due; Publisher hears of it after the commit (CallsChanged, or
// Run's next tick).
func (s *Service) CallsChangedTx(ctx context.Context, tx *sql.Tx, changes []calls.CallChange) error {
	type delta struct{ seconds, calls int64 }
	deltas := map[int64]*delta{}
	for _, ch := range changes {
		as, ac := billable(ch.After)
		bs, bc := billable(ch.Before)
		if as == bs && ac == bc {
			continue
		}
		d := deltas[ch.After.UserID]
		if d == nil {
			d = &delta{}
			deltas[ch.After.UserID] = d
		}
		d.seconds += as - bs
		d.calls += ac - bc
	}
	users := make([]int64, 0, len(deltas))
	for id := range deltas {
		users = append(users, id)
	}
	slices.Sort(users) // one lock order for every batch: no deadlocks between batches on PostgreSQL
	now := s.now()
	for _, userID := range users {
		d := deltas[userID]
		if err := s.meterTx(ctx, tx, userID, d.seconds, d.calls, now.UnixMilli()); err != nil {
			return err
		}
	}
	return nil
}

// CallChanged meters one call (calls.TxObserver); ingest uses
// CallsChangedTx.
func (s *Service) CallChanged(ctx context.Context, tx *sql.Tx, before, after *calls.Call) error {
	return s.CallsChangedTx(ctx, tx, []calls.CallChange{{Before: before, After: after}})
}

// meterTx adds to userID's open period and marks a usage alert due.
func (s *Service) meterTx(ctx context.Context, tx *sql.Tx, userID, seconds, count, nowMs int64) error {
	const add = `UPDATE subscriptions SET usage_seconds = usage_seconds + $1, usage_calls = usage_calls + $2, updated_at = $3
		WHERE user_id = $4 RETURNING usage_seconds, alert_due, (SELECT included_minutes FROM plans WHERE id = plan_id)`
	var used, included int64
	var due int
	err := tx.QueryRowContext(ctx, add, seconds, count, nowMs, userID).Scan(&used, &due, &included)
	if err == sql.ErrNoRows {
		if err := s.insertDefaultTx(ctx, tx, userID, store.Time(nowMs)); err != nil {
			return err
		}
		err = tx.QueryRowContext(ctx, add, seconds, count, nowMs, userID).Scan(&used, &due, &included)
	}
	if err != nil {
		return fmt.Errorf("meter usage: %w", err)
	}
	if level := alertLevel(billedMinutes(used), included); level > due {
		if _, err := tx.ExecContext(ctx, `UPDATE subscriptions SET alert_due = $1 WHERE user_id = $2`, level, userID); err != nil {
			return fmt.Errorf("usage alert: %w", err)
		}
	}
	return nil
}

// alertLevel is the highest usage alert (0, 80, 100) that minutes of
// included reach; plans without included minutes never alert.
func alertLevel(minutes, included int64) int {
	switch {
	case included <= 0:
		return 0
	case minutes >= included:
		return 100
	case minutes*100 >= included*80:
		return 80
	}
	return 0
}

// CallsChanged sends, after an ingest commit (calls.Publisher), the usage
// alerts the batch made due.
func (s *Service) CallsChanged(ctx context.Context, events []calls.CallEvent) {
	users := make([]int64, 0, len(events))
	for _, e := range events {
		if e.Status.Finished() {
			users = append(users, e.UserID)
		}
	}
	if len(users) == 0 {
		return
	}
	slices.Sort(users)
	if err := s.sendDueAlerts(ctx, slices.Compact(users)); err != nil {
		s.logger.Error("usage alerts", "err", err)
	}
}

// sendDueAlerts claims and publishes due usage alerts of users (nil: of
// everyone, up to a batch). A claim sets alerted = alert_due under the
// row's lock, so each alert of a period is sent once however many
// instances try.
func (s *Service) sendDueAlerts(ctx context.Context, users []int64) error {
	// Find the users with an alert due on the read pool first: most ingest
	// batches make none, and must not pay for a write transaction.
	query, args := `SELECT user_id FROM subscriptions WHERE alert_due > alerted LIMIT 100`, []any(nil)
	if users != nil {
		in, arg := store.InList(s.db.Dialect, 1, users)
		query, args, users = `SELECT user_id FROM subscriptions WHERE alert_due > alerted AND user_id `+in, []any{arg}, nil
	}
	{
		rows, err := s.db.Read().QueryContext(ctx, query, args...)
		if err := store.EachRow(rows, err, func(r *sql.Rows) error {
			var id int64
			err := r.Scan(&id)
			users = append(users, id)
			return err
		}); err != nil {
			return fmt.Errorf("find due alerts: %w", err)
		}
	}
	for _, userID := range users {
		var events []Event
		err := s.db.Tx(ctx, func(tx *sql.Tx) error {
			events = nil
			sub, err := s.loadSubscription(ctx, tx, userID, true)
			if err == sql.ErrNoRows {
				return nil
			}
			if err != nil {
				return err
			}
			if sub.AlertDue <= sub.Alerted {
				return nil
			}
			now := s.now()
			u := usage(sub, now)
			for _, level := range []int{80, 100} {
				if level <= sub.Alerted || level > sub.AlertDue {
					continue
				}
				e := Event{UserID: userID, Kind: EventUsage80, At: now,
					Title: fmt.Sprintf("You have used 80%% of your %s minutes", sub.Plan.Name),
					Body: fmt.Sprintf("%d of %d included minutes used; the period ends on %s.", u.MinutesUsed, u.IncludedMinutes,
						sub.PeriodEnd.Format(dateLayout)),
					Data: map[string]string{"minutes_used": fmt.Sprint(u.MinutesUsed), "included_minutes": fmt.Sprint(u.IncludedMinutes),
						"period_end": sub.PeriodEnd.Format("2006-01-02")}}
				if level == 100 {
					e.Kind, e.Title = EventUsage100, fmt.Sprintf("You have used all your %s minutes", sub.Plan.Name)
					if sub.Plan.OveragePerMinute.Amount > 0 {
						e.Body += fmt.Sprintf(" Further minutes cost %s each.", sub.Plan.OveragePerMinute)
					}
				}
				events = append(events, e)
			}
			_, err = tx.ExecContext(ctx, `UPDATE subscriptions SET alerted = alert_due WHERE user_id = $1`, userID)
			return err
		})
		if err != nil {
			return fmt.Errorf("send usage alert: %w", err)
		}
		s.publish(ctx, events)
	}
	return nil
}
