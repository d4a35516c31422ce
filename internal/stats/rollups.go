// Package stats keeps per-user, per-day call rollups exact as calls arrive
// (inside the ingest transaction) and computes the overview's numbers from
// them, so they cost O(days × agents), never O(calls). The overview itself
// is composed by package dashboard.
//
// Tables: call_rollups and stats_zones (the timezone each user's rollups
// are kept in). Calls arrive inside the ingest transaction
// (calls.TxBatchObserver); rebuilds and agent names read them through
// calls' read functions; users' ids and timezones come from RebuildAll's
// arguments (auth, account).
package stats

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"callboard/internal/calls"
	"callboard/internal/store"
)

// counts are the additive statistics of a set of calls.
type counts struct {
	Total, Completed, Failed, Busy, NoAnswer, Canceled int64
	DurationSeconds, Timed                             int64 // Timed: calls with a known duration
	SatisfactionSum, Rated                             int64 // Rated: calls with a satisfaction score
}

func (c *counts) add(o counts, sign int64) {
	c.Total += sign * o.Total
	c.Completed += sign * o.Completed
	c.Failed += sign * o.Failed
	c.Busy += sign * o.Busy
	c.NoAnswer += sign * o.NoAnswer
	c.Canceled += sign * o.Canceled
	c.DurationSeconds += sign * o.DurationSeconds
	c.Timed += sign * o.Timed
	c.SatisfactionSum += sign * o.SatisfactionSum
	c.Rated += sign * o.Rated
}

func (c counts) zero() bool { return c == counts{} }

// finished is every call that ended: completed, busy, failed, no-answer, canceled.
func (c counts) finished() int64 { return c.Completed + c.Failed + c.Busy + c.NoAnswer + c.Canceled }

// contribution is what one call adds to its day.
func contribution(c *calls.Call) counts {
	n := counts{Total: 1}
	switch c.Status {
	case calls.StatusCompleted:
		n.Completed = 1
	case calls.StatusFailed:
		n.Failed = 1
	case calls.StatusBusy:
		n.Busy = 1
	case calls.StatusNoAnswer:
		n.NoAnswer = 1
	case calls.StatusCanceled:
		n.Canceled = 1
	}
	if c.DurationSeconds > 0 {
		n.DurationSeconds, n.Timed = int64(c.DurationSeconds), 1
	}
	if c.Satisfaction > 0 {
		n.SatisfactionSum, n.Rated = int64(c.Satisfaction), 1
	}
	return n
}

// rowKey names one rollup row.
type rowKey struct {
	userID  int64
	day     int // YYYYMMDD, user-local
	agentID int64
}

// dayKey is t's date in loc as YYYYMMDD.
func dayKey(t time.Time, loc *time.Location) int {
	y, m, d := t.In(loc).Date()
	return y*10000 + int(m)*100 + d
}

func keyOf(c *calls.Call, loc *time.Location) rowKey {
	k := rowKey{userID: c.UserID, day: dayKey(c.StartedAt, loc)}
	if c.AgentID != nil {
		k.agentID = *c.AgentID
	}
	return k
}

// allTimeDay is the day key of each user's all-time row (agent 0), kept
// beside the daily rows so all-time figures cost one row, however long the
// history.
const allTimeDay = 0

// Rollups keeps call_rollups exact. It is the calls service's observer:
// told once per ingest batch, it merges the batch's changes into a few row
// updates.
type Rollups struct {
	db  *store.DB
	now func() time.Time
}

// NewRollups returns the rollup keeper over db.
func NewRollups(db *store.DB, now func() time.Time) *Rollups {
	if now == nil {
		now = time.Now
	}
	return &Rollups{db: db, now: now}
}

// CallChanged implements calls.TxObserver for a single change.
func (r *Rollups) CallChanged(ctx context.Context, tx *sql.Tx, before, after *calls.Call) error {
	return r.CallsChangedTx(ctx, tx, []calls.CallChange{{Before: before, After: after}})
}

// CallsChangedTx implements calls.TxBatchObserver: for each change it
// subtracts the call's old contribution (status, day, agent, duration,
// satisfaction) and adds the new one, then writes the merged deltas in the
// ingest transaction.
func (r *Rollups) CallsChangedTx(ctx context.Context, tx *sql.Tx, changes []calls.CallChange) error {
	zones := map[int64]*time.Location{}
	deltas := map[rowKey]counts{}
	add := func(c *calls.Call, sign int64) {
		loc := zones[c.UserID]
		contrib := contribution(c)
		for _, k := range []rowKey{keyOf(c, loc), {userID: c.UserID, day: allTimeDay}} {
			d := deltas[k]
			d.add(contrib, sign)
			deltas[k] = d
		}
	}
	for _, ch := range changes {
		if _, ok := zones[ch.After.UserID]; !ok {
			loc, err := lockZone(ctx, tx, r.db.Dialect, ch.After.UserID, r.now())
			if err != nil {
				return err
			}
			zones[ch.After.UserID] = loc
		}
		if ch.Before != nil {
			add(ch.Before, -1)
		}
		add(ch.After, 1)
	}
	return applyDeltas(ctx, tx, deltas)
}

// lockZone returns the timezone userID's rollups are kept in (UTC for a
// user without rollups yet, recorded as such) and, on PostgreSQL, holds a
// share lock on it until tx ends: a rebuild takes the row exclusively, so
// rollups are never updated in one timezone while rebuilt in another.
func lockZone(ctx context.Context, tx *sql.Tx, dialect store.Dialect, userID int64, now time.Time) (*time.Location, error) {
	if _, err := tx.ExecContext(ctx, `INSERT INTO stats_zones (user_id, timezone, rebuilt_at) VALUES ($1, 'UTC', $2)
		ON CONFLICT (user_id) DO NOTHING`, userID, store.Millis(now)); err != nil {
		return nil, fmt.Errorf("record stats zone: %w", err)
	}
	var name string
	if err := tx.QueryRowContext(ctx, `SELECT timezone FROM stats_zones WHERE user_id = $1`+dialect.ForShare(), userID).Scan(&name); err != nil {
		return nil, fmt.Errorf("read stats zone: %w", err)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("stats zone %q: %w", name, err)
	}
	return loc, nil
}

const rollupColumns = `total_calls, completed_calls, failed_calls, busy_calls, no_answer_calls, canceled_calls,
	duration_seconds, timed_calls, satisfaction_sum, rated_calls`

func (c counts) values() []any {
	return []any{c.Total, c.Completed, c.Failed, c.Busy, c.NoAnswer, c.Canceled, c.DurationSeconds, c.Timed, c.SatisfactionSum, c.Rated}
}

func (c *counts) scanDest() []any {
	return []any{&c.Total, &c.Completed, &c.Failed, &c.Busy, &c.NoAnswer, &c.Canceled, &c.DurationSeconds, &c.Timed, &c.SatisfactionSum, &c.Rated}
}

// applyDeltas adds each delta to its rollup row, creating rows as needed.
// Rows are written in key order so concurrent batches on PostgreSQL lock
// them in the same order and cannot deadlock.
func applyDeltas(ctx context.Context, tx *sql.Tx, deltas map[rowKey]counts) error {
	keys := make([]rowKey, 0, len(deltas))
	for k, d := range deltas {
		if !d.zero() {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b rowKey) int {
		return cmp.Or(cmp.Compare(a.userID, b.userID), cmp.Compare(a.day, b.day), cmp.Compare(a.agentID, b.agentID))
	})
	for _, k := range keys {
		d := deltas[k]
		args := append([]any{k.userID, k.day, k.agentID}, d.values()...)
		if _, err := tx.ExecContext(ctx, upsertRollup, args...); err != nil {
			return fmt.Errorf("update rollup: %w", err)
		}
	}
	return nil
}

var upsertRollup = func() string {
	cols := strings.Split(strings.Join(strings.Fields(rollupColumns), ""), ",")
	var ph, set []string
	for i, c := range cols {
		ph = append(ph, fmt.Sprintf("$%d", i+4))
		set = append(set, fmt.Sprintf("%s = call_rollups.%s + excluded.%s", c, c, c))
	}
	return `INSERT INTO call_rollups (user_id, day, agent_id, ` + strings.Join(cols, ", ") + `) VALUES ($1, $2, $3, ` +
		strings.Join(ph, ", ") + `) ON CONFLICT (user_id, day, agent_id) DO UPDATE SET ` + strings.Join(set, ", ")
}()

// aggregate reads every call of userID (through calls) and sums them into
// rollup rows in loc.
func aggregate(ctx context.Context, q calls.Querier, userID int64, loc *time.Location) (map[rowKey]counts, error) {
	out := map[rowKey]counts{}
	err := calls.EachCallForStats(ctx, q, userID, func(c *calls.Call) error {
		k := keyOf(c, loc)
		sum := out[k]
		sum.add(contribution(c), 1)
		out[k] = sum
		return nil
	})
	return out, err
}

// Rebuild recomputes userID's rollups from their calls in loc, and records
// loc as the rollups' timezone, in one transaction.
func (r *Rollups) Rebuild(ctx context.Context, userID int64, loc *time.Location) error {
	return r.db.Tx(ctx, func(tx *sql.Tx) error {
		// Taking the zone row exclusively first waits out ingest transactions
		// holding it shared, so the calls read below include theirs.
		if _, err := tx.ExecContext(ctx, `INSERT INTO stats_zones (user_id, timezone, rebuilt_at) VALUES ($1, $2, $3)
			ON CONFLICT (user_id) DO UPDATE SET timezone = excluded.timezone, rebuilt_at = excluded.rebuilt_at`,
			userID, loc.String(), store.Millis(r.now())); err != nil {
			return fmt.Errorf("record stats zone: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM call_rollups WHERE user_id = $1`, userID); err != nil {
			return fmt.Errorf("clear rollups: %w", err)
		}
		sums, err := aggregate(ctx, tx, userID, loc)
		if err != nil {
			return err
		}
		sums[rowKey{userID: userID, day: allTimeDay}] = total(sums)
		return applyDeltas(ctx, tx, sums)
	})
}

// Users lists every account (auth).
type Users interface {
	UserIDs(ctx context.Context) ([]int64, error)
}

// Zones tells a user's timezone (account).
type Zones interface {
	Location(ctx context.Context, userID int64) (*time.Location, error)
}

// RebuildAll recomputes every user's rollups in their timezone ("callboard
// stats rebuild"). It returns the number of users rebuilt.
func (r *Rollups) RebuildAll(ctx context.Context, users Users, zones Zones) (int, error) {
	ids, err := users.UserIDs(ctx)
	if err != nil {
		return 0, err
	}
	for _, id := range ids {
		loc, err := zones.Location(ctx, id)
		if err != nil {
			return 0, err
		}
		if err := r.Rebuild(ctx, id, loc); err != nil {
			return 0, fmt.Errorf("rebuild user %d: %w", id, err)
		}
	}
	return len(ids), nil
}

// total sums daily rows.
func total(days map[rowKey]counts) counts {
	var t counts
	for k, c := range days {
		if k.day != allTimeDay {
			t.add(c, 1)
		}
	}
	return t
}

// keptZone is the timezone userID's rollups are in, or "" when none yet.
func keptZone(ctx context.Context, db *store.DB, userID int64) (string, error) {
	var name string
	err := db.Read().QueryRowContext(ctx, `SELECT timezone FROM stats_zones WHERE user_id = $1`, userID).Scan(&name)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read stats zone: %w", err)
	}
	return name, nil
}
