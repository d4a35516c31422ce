package stats_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"sync"
	"testing"
	"time"

	"callboard/internal/apitest"
	"callboard/internal/calls"
	"callboard/internal/stats"
	"callboard/internal/store"
	"callboard/internal/storetest"
)

// zones is a settable preferred-timezone source for the tests.
type zones struct {
	mu sync.Mutex
	m  map[int64]*time.Location
}

func (z *zones) Location(_ context.Context, userID int64) (*time.Location, error) {
	z.mu.Lock()
	defer z.mu.Unlock()
	if loc, ok := z.m[userID]; ok {
		return loc, nil
	}
	return time.UTC, nil
}

func (z *zones) set(userID int64, loc *time.Location) {
	z.mu.Lock()
	defer z.mu.Unlock()
	if z.m == nil {
		z.m = map[int64]*time.Location{}
	}
	z.m[userID] = loc
}

type fixture struct {
	db      *store.DB
	clock   *apitest.Clock
	calls   *calls.Service
	rollups *stats.Rollups
	stats   *stats.Service
	zones   *zones
	users   []int64
}

func newFixture(t *testing.T, db *store.DB, now time.Time, users int) *fixture {
	t.Helper()
	s := apitest.New(t, db)
	f := &fixture{db: db, clock: apitest.NewClock(now), zones: &zones{}}
	f.stats = stats.NewService(stats.Config{DB: db, Now: f.clock.Now})
	f.rollups = f.stats.Rollups
	f.calls = calls.NewService(calls.Config{DB: db, Accounts: s.Auth, Now: f.clock.Now, Observer: f.stats})
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.stats.Run(ctx) }()
	t.Cleanup(func() {
		f.stats.Wait()
		stop()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	for range users {
		f.users = append(f.users, s.SignUp(t).UserID)
	}
	return f
}

type call struct {
	ext          string
	user         int64
	agent        string
	status       string
	started      time.Time
	duration     int
	satisfaction int
}

func (f *fixture) ingest(t *testing.T, list ...call) {
	t.Helper()
	batch := make([]calls.IngestCall, len(list))
	for i, c := range list {
		started := c.started.Format(time.RFC3339)
		in, out := "inbound", "+923001234567"
		batch[i] = calls.IngestCall{ExternalID: c.ext, UserID: &c.user, Status: c.status, StartedAt: &started,
			Direction: &in, FromNumber: &out, ToNumber: &out}
		if c.agent != "" {
			name := "Agent " + c.agent
			batch[i].Agent = &calls.IngestAgent{ExternalID: c.agent, Name: &name}
		}
		if c.duration > 0 {
			d := c.duration
			batch[i].DurationSeconds = &d
		}
		if c.satisfaction > 0 {
			s := c.satisfaction
			batch[i].Satisfaction = &s
		}
	}
	sum, err := f.calls.Ingest(context.Background(), batch)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Failed > 0 {
		t.Fatalf("ingest refused calls: %+v", sum.Results)
	}
}

func (f *fixture) numbers(t *testing.T, user int64, days int) stats.Numbers {
	t.Helper()
	loc, err := f.zones.Location(context.Background(), user)
	if err != nil {
		t.Fatal(err)
	}
	n, err := f.stats.Numbers(context.Background(), user, loc, days)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

var now = time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)

func TestEmptyAccount(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, now, 1)
		n := f.numbers(t, f.users[0], 30)
		if n.CallStats.CurrentPeriod != (stats.PeriodStats{}) || n.CallStats.AllTime != (stats.PeriodStats{}) {
			t.Fatalf("non-zero stats for an empty account: %+v", n.CallStats)
		}
		if len(n.Trend) != 30 || n.Trend[0].Date != "2026-10-28" || n.Trend[29].Date != "2026-11-26" {
			t.Fatalf("trend: %d days from %s to %s", len(n.Trend), n.Trend[0].Date, n.Trend[len(n.Trend)-1].Date)
		}
		for _, p := range n.Trend {
			if p.TotalCalls != 0 || p.TotalMinutes != 0 {
				t.Fatalf("non-zero trend day %+v", p)
			}
		}
		for _, q := range n.QuickStats {
			if q.ChangePercent != nil {
				t.Fatalf("quick stat %+v", q)
			}
			if q.ID == "average_satisfaction" {
				if q.Value != nil || q.Previous != nil {
					t.Fatalf("nothing rated, yet the satisfaction card says %v, %v", q.Value, q.Previous)
				}
			} else if q.Value == nil || *q.Value != 0 || q.Previous == nil || *q.Previous != 0 {
				t.Fatalf("quick stat %+v", q)
			}
		}
		if len(n.Agents) != 0 {
			t.Fatalf("agents %+v", n.Agents)
		}
		if n.CallStats.Period != (stats.Period{Start: "2026-11-01", End: "2026-11-30"}) {
			t.Fatalf("period %+v", n.CallStats.Period)
		}
	})
}

func TestRates(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, now, 2)
		u, other := f.users[0], f.users[1]
		at := now.Add(-time.Hour)
		f.ingest(t,
			call{"c1", u, "a", "completed", at, 120, 5},
			call{"c2", u, "a", "completed", at, 60, 4},
			call{"c3", u, "b", "busy", at, 0, 0},
			call{"c4", u, "b", "no-answer", at, 0, 0},
			call{"c5", u, "b", "failed", at, 0, 0},
			call{"c6", u, "", "canceled", at, 0, 0},
			call{"c7", u, "a", "in-progress", at, 0, 0}, // not finished: outside the success rate
			call{"x1", other, "z", "completed", at, 600, 1},
		)
		n := f.numbers(t, u, 7)
		want := stats.PeriodStats{TotalCalls: 7, CompletedCalls: 2, FailedCalls: 1, MissedCalls: 2,
			SuccessRate: 33.3, TotalMinutes: 3, AverageDurationSeconds: 90, AverageSatisfaction: ptr(4.5), RatedCalls: 2}
		if !reflect.DeepEqual(n.CallStats.CurrentPeriod, want) || !reflect.DeepEqual(n.CallStats.AllTime, want) {
			t.Fatalf("stats\n got %+v\nwant %+v", n.CallStats.CurrentPeriod, want)
		}
		if last := n.Trend[6]; last.TotalCalls != 7 || last.CompletedCalls != 2 || last.MissedCalls != 2 || last.FailedCalls != 1 {
			t.Fatalf("today's trend point %+v", last)
		}
		if len(n.Agents) != 3 || n.Agents[0].Name != "Agent a" || n.Agents[0].TotalCalls != 3 || n.Agents[0].SuccessRate != 100 {
			t.Fatalf("agents %+v", n.Agents)
		}
		if n.Agents[2].ID != nil || n.Agents[2].TotalCalls != 1 {
			t.Fatalf("calls without an agent: %+v", n.Agents[2])
		}
	})
}

func ptr[T any](v T) *T { return &v }

// TestAverageSatisfactionNullWhenUnrated: with no rated call in a span its
// average is null (not 0, which would read as a terrible score), for the
// period, all time, each agent and the quick-stat card; one rating makes it
// a number.
func TestAverageSatisfactionNullWhenUnrated(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, now, 1)
		u := f.users[0]
		at := now.Add(-time.Hour)
		f.ingest(t, call{"u1", u, "a", "completed", at, 60, 0}, call{"u2", u, "b", "failed", at, 0, 0})
		n := f.numbers(t, u, 7)
		if n.CallStats.CurrentPeriod.AverageSatisfaction != nil || n.CallStats.AllTime.AverageSatisfaction != nil {
			t.Fatalf("unrated calls averaged: %+v", n.CallStats)
		}
		for _, a := range n.Agents {
			if a.AverageSatisfaction != nil {
				t.Fatalf("unrated agent averaged: %+v", a)
			}
		}
		if q := n.QuickStats[3]; q.ID != "average_satisfaction" || q.Value != nil || q.ChangePercent != nil {
			t.Fatalf("satisfaction card %+v", q)
		}
		f.ingest(t, call{"u3", u, "a", "completed", at, 60, 2})
		n = f.numbers(t, u, 7)
		if avg := n.CallStats.CurrentPeriod.AverageSatisfaction; avg == nil || *avg != 2 {
			t.Fatalf("one rating of 2 averages to %v", avg)
		}
		if q := n.QuickStats[3]; q.Value == nil || *q.Value != 2 || q.Previous != nil {
			t.Fatalf("satisfaction card %+v", q)
		}
	})
}

func TestKarachiDay(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, now, 1)
		u := f.users[0]
		karachi, _ := time.LoadLocation("Asia/Karachi")
		f.zones.set(u, karachi)
		if err := f.rollups.Rebuild(context.Background(), u, karachi); err != nil {
			t.Fatal(err)
		}
		// 23:30 UTC on 24 November is 04:30 on 25 November in Karachi.
		f.ingest(t, call{"late", u, "a", "completed", time.Date(2026, 11, 24, 23, 30, 0, 0, time.UTC), 30, 0})
		n := f.numbers(t, u, 7)
		for _, p := range n.Trend {
			want := int64(0)
			if p.Date == "2026-11-25" {
				want = 1
			}
			if p.TotalCalls != want {
				t.Fatalf("%s has %d calls, want %d (trend %+v)", p.Date, p.TotalCalls, want, n.Trend)
			}
		}
		if n.Timezone != "Asia/Karachi" {
			t.Fatalf("timezone %q", n.Timezone)
		}
	})
}

func TestStatusUpdateCountedOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, now, 1)
		u := f.users[0]
		at := now.Add(-time.Hour)
		f.ingest(t, call{"c1", u, "a", "in-progress", at, 0, 0})
		f.ingest(t, call{"c1", u, "a", "completed", at, 95, 4})
		f.ingest(t, call{"c1", u, "a", "completed", at, 95, 4}) // a re-send changes nothing
		f.ingest(t, call{"c1", u, "a", "ringing", at, 0, 0})    // a late status is ignored
		n := f.numbers(t, u, 7)
		want := stats.PeriodStats{TotalCalls: 1, CompletedCalls: 1, SuccessRate: 100, TotalMinutes: 1.6,
			AverageDurationSeconds: 95, AverageSatisfaction: ptr(4.0), RatedCalls: 1}
		if !reflect.DeepEqual(n.CallStats.AllTime, want) {
			t.Fatalf("got %+v\nwant %+v", n.CallStats.AllTime, want)
		}
	})
}

func TestQuickStatsCompareSameSpanOfLastMonth(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, now, 1)
		u := f.users[0]
		f.ingest(t,
			call{"oct-1", u, "a", "completed", time.Date(2026, 10, 3, 9, 0, 0, 0, time.UTC), 60, 0},
			call{"oct-2", u, "a", "failed", time.Date(2026, 10, 20, 9, 0, 0, 0, time.UTC), 0, 0},
			call{"oct-late", u, "a", "completed", time.Date(2026, 10, 29, 9, 0, 0, 0, time.UTC), 60, 0}, // after 26 Oct: not compared
			call{"nov-1", u, "a", "completed", time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC), 60, 0},
			call{"nov-2", u, "a", "completed", time.Date(2026, 11, 3, 9, 0, 0, 0, time.UTC), 60, 0},
			call{"nov-3", u, "a", "completed", time.Date(2026, 11, 4, 9, 0, 0, 0, time.UTC), 60, 0},
			call{"nov-4", u, "a", "failed", time.Date(2026, 11, 5, 9, 0, 0, 0, time.UTC), 0, 0},
		)
		n := f.numbers(t, u, 30)
		total := n.QuickStats[0]
		if total.ID != "total_calls" || *total.Value != 4 || *total.Previous != 2 || total.ChangePercent == nil || *total.ChangePercent != 100 {
			t.Fatalf("total calls card %+v", total)
		}
		rate := n.QuickStats[1]
		if *rate.Value != 75 || *rate.Previous != 50 || *rate.ChangePercent != 50 {
			t.Fatalf("success rate card %+v", rate)
		}
		if n.CallStats.AllTime.TotalCalls != 7 {
			t.Fatalf("all time %+v", n.CallStats.AllTime)
		}
	})
}

// TestRebuildEqualsIncremental ingests random calls and random updates,
// then checks that recomputing the rollups from the calls changes nothing.
func TestRebuildEqualsIncremental(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, now, 3)
		rng := rand.New(rand.NewPCG(7, 11))
		statuses := []string{"queued", "ringing", "in-progress", "completed", "busy", "failed", "no-answer", "canceled"}
		karachi, _ := time.LoadLocation("Asia/Karachi")
		f.zones.set(f.users[1], karachi)
		if err := f.rollups.Rebuild(context.Background(), f.users[1], karachi); err != nil {
			t.Fatal(err)
		}
		for round := range 6 {
			var batch []call
			for i := range 150 {
				id := rng.IntN(400) // later rounds update earlier calls
				c := call{
					ext: fmt.Sprintf("c%d", id), user: f.users[id%3], agent: fmt.Sprintf("a%d", id%4),
					status:  statuses[rng.IntN(len(statuses))],
					started: now.Add(-time.Duration(id*97%(120*24)) * time.Hour).Add(-time.Duration(id) * time.Minute),
				}
				if rng.IntN(2) == 0 {
					c.duration = rng.IntN(900)
				}
				if rng.IntN(3) == 0 {
					c.satisfaction = 1 + rng.IntN(5)
				}
				_ = i
				batch = append(batch, c)
			}
			// One call per external id per batch keeps this simple.
			seen := map[string]bool{}
			var unique []call
			for _, c := range batch {
				if !seen[c.ext] {
					seen[c.ext] = true
					unique = append(unique, c)
				}
			}
			f.ingest(t, unique...)
			_ = round
		}
		for _, u := range f.users {
			for _, days := range []int{7, 30, 90} {
				before := f.numbers(t, u, days)
				loc, _ := f.zones.Location(context.Background(), u)
				if err := f.rollups.Rebuild(context.Background(), u, loc); err != nil {
					t.Fatal(err)
				}
				after := f.numbers(t, u, days)
				if !reflect.DeepEqual(before, after) {
					t.Fatalf("user %d, %d days: incremental and rebuilt differ\n%+v\n%+v", u, days, before, after)
				}
				if after.CallStats.AllTime.TotalCalls == 0 {
					t.Fatal("no calls counted")
				}
			}
		}
	})
}

// TestTimezoneChange: right away the answer is in the new timezone
// (computed from the calls); after the background rebuild, from rollups.
func TestTimezoneChange(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, now, 1)
		u := f.users[0]
		f.ingest(t, call{"late", u, "a", "completed", time.Date(2026, 11, 24, 23, 30, 0, 0, time.UTC), 30, 0})
		dayOf := func(n stats.Numbers) string {
			for _, p := range n.Trend {
				if p.TotalCalls > 0 {
					return p.Date
				}
			}
			return ""
		}
		if d := dayOf(f.numbers(t, u, 7)); d != "2026-11-24" {
			t.Fatalf("UTC day %s", d)
		}
		karachi, _ := time.LoadLocation("Asia/Karachi")
		f.zones.set(u, karachi)
		if d := dayOf(f.numbers(t, u, 7)); d != "2026-11-25" {
			t.Fatalf("right after the change: day %s", d)
		}
		f.stats.Wait()
		var kept string
		_ = db.Read().QueryRow("SELECT timezone FROM stats_zones WHERE user_id = $1", u).Scan(&kept)
		if kept != "Asia/Karachi" {
			t.Fatalf("rollups kept in %q after the rebuild", kept)
		}
		f.ingest(t, call{"next", u, "a", "completed", time.Date(2026, 11, 25, 20, 0, 0, 0, time.UTC), 30, 0}) // 01:00 on the 26th in Karachi
		n := f.numbers(t, u, 7)
		if n.Trend[5].TotalCalls != 1 || n.Trend[6].TotalCalls != 1 {
			t.Fatalf("after the rebuild: %+v", n.Trend)
		}
	})
}
