package stats

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"math"
	"sort"
	"sync"
	"time"

	"callboard/internal/calls"
	"callboard/internal/store"
)

// PeriodStats are the call statistics of a span of days.
type PeriodStats struct {
	TotalCalls             int64    `json:"total_calls"`
	CompletedCalls         int64    `json:"completed_calls"`
	FailedCalls            int64    `json:"failed_calls"`
	MissedCalls            int64    `json:"missed_calls" doc:"Calls not answered: no-answer plus busy."`
	SuccessRate            float64  `json:"success_rate" doc:"Completed ÷ finished calls (completed, busy, failed, no-answer, canceled) as a percentage with one decimal; 0 when none finished."`
	TotalMinutes           float64  `json:"total_minutes" doc:"Talk time in minutes, one decimal."`
	AverageDurationSeconds float64  `json:"average_duration_seconds" doc:"Mean duration of calls with a known duration, one decimal; 0 when none."`
	AverageSatisfaction    *float64 `json:"average_satisfaction" doc:"Mean satisfaction (1–5) of rated calls, two decimals; null when none is rated."`
	RatedCalls             int64    `json:"rated_calls" doc:"Calls with a satisfaction score (tells whether average_satisfaction means anything)."`
}

func (c counts) stats() PeriodStats {
	p := PeriodStats{
		TotalCalls: c.Total, CompletedCalls: c.Completed, FailedCalls: c.Failed, MissedCalls: c.NoAnswer + c.Busy,
		TotalMinutes: round(float64(c.DurationSeconds)/60, 1), RatedCalls: c.Rated,
	}
	if f := c.finished(); f > 0 {
		p.SuccessRate = round(100*float64(c.Completed)/float64(f), 1)
	}
	if c.Timed > 0 {
		p.AverageDurationSeconds = round(float64(c.DurationSeconds)/float64(c.Timed), 1)
	}
	if c.Rated > 0 {
		avg := round(float64(c.SatisfactionSum)/float64(c.Rated), 2)
		p.AverageSatisfaction = &avg
	}
	return p
}

func round(v float64, decimals int) float64 {
	p := math.Pow10(decimals)
	return math.Round(v*p) / p
}

// Period is a span of user-local dates, both ends included.
type Period struct {
	Start string `json:"start" format:"date" example:"2026-11-01"`
	End   string `json:"end" format:"date" example:"2026-11-30"`
}

// CallStats are the current period's and all-time statistics.
type CallStats struct {
	Period        Period      `json:"period" doc:"The current billing period: the calendar month in the user's timezone until subscriptions define periods."`
	CurrentPeriod PeriodStats `json:"current_period"`
	AllTime       PeriodStats `json:"all_time"`
}

// TrendPoint is one day of the trend.
type TrendPoint struct {
	Date           string  `json:"date" format:"date"`
	TotalCalls     int64   `json:"total_calls"`
	CompletedCalls int64   `json:"completed_calls"`
	FailedCalls    int64   `json:"failed_calls"`
	MissedCalls    int64   `json:"missed_calls"`
	TotalMinutes   float64 `json:"total_minutes"`
}

// QuickStat is a summary card: this period so far against the same span of
// the previous period.
type QuickStat struct {
	ID            string   `json:"id" enum:"total_calls,success_rate,total_minutes,average_satisfaction"`
	Value         *float64 `json:"value" doc:"null only for average_satisfaction when no call of this period so far is rated."`
	Previous      *float64 `json:"previous" doc:"null only for average_satisfaction when no call of that span is rated."`
	ChangePercent *float64 `json:"change_percent" doc:"Relative change against previous, one decimal; null when previous is 0 or either is null."`
}

// AgentStats is one agent's share of the current period.
type AgentStats struct {
	ID                  *int64   `json:"id" doc:"null for calls without an agent"`
	Name                string   `json:"name"`
	Voice               string   `json:"voice"`
	TotalCalls          int64    `json:"total_calls"`
	CompletedCalls      int64    `json:"completed_calls"`
	SuccessRate         float64  `json:"success_rate"`
	TotalMinutes        float64  `json:"total_minutes"`
	AverageSatisfaction *float64 `json:"average_satisfaction" doc:"null when none of the agent's calls is rated."`
	RatedCalls          int64    `json:"rated_calls"`
}

// Numbers are the statistics part of the overview.
type Numbers struct {
	Timezone   string       `json:"timezone" doc:"The IANA timezone every date here is in."`
	CallStats  CallStats    `json:"call_stats"`
	QuickStats []QuickStat  `json:"quick_stats"`
	Trend      []TrendPoint `json:"trend" doc:"One entry per day, oldest first, days without calls included."`
	Agents     []AgentStats `json:"agents" doc:"Per-agent breakdown of the current period, busiest first."`
}

// TrendDays are the trend windows offered.
var TrendDays = []int{7, 30, 90}

// Config is what a Service is built from.
type Config struct {
	DB  *store.DB
	Now func() time.Time // the clock; time.Now when nil
	// Logger records failed background rebuilds (retried by the next
	// overview); discarded when nil.
	Logger *slog.Logger
}

// Service keeps the rollups (it is the calls service's TxBatchObserver,
// through the embedded Rollups) and computes the numbers from them.
type Service struct {
	*Rollups
	db     *store.DB
	now    func() time.Time
	logger *slog.Logger

	// Rebuilds after a timezone change, done one at a time by Run: pending
	// holds the newest wanted timezone of each user; busy counts users
	// pending or being rebuilt.
	mu      sync.Mutex
	pending map[int64]*time.Location
	wake    chan struct{}
	busy    sync.WaitGroup
}

// NewService returns the statistics service. Rebuilds it schedules run in
// Run.
func NewService(cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{Rollups: NewRollups(cfg.DB, cfg.Now), db: cfg.DB, now: cfg.Now, logger: cfg.Logger,
		pending: map[int64]*time.Location{}, wake: make(chan struct{}, 1)}
}

// TimezoneChanged schedules a rebuild of userID's rollups in loc (it is
// account's TimezoneObserver). Until it is done the overview computes from
// the calls directly, so answers stay right.
func (s *Service) TimezoneChanged(_ context.Context, userID int64, loc *time.Location) {
	s.scheduleRebuild(userID, loc)
}

func (s *Service) scheduleRebuild(userID int64, loc *time.Location) {
	s.mu.Lock()
	if _, ok := s.pending[userID]; !ok {
		s.busy.Add(1)
	}
	s.pending[userID] = loc
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Run rebuilds the rollups of users whose timezone changed, one user at a
// time, until ctx ends. A failed rebuild is logged; the user's next
// overview schedules it again.
func (s *Service) Run(ctx context.Context) error {
	defer s.dropPending()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-s.wake:
		}
		for {
			userID, loc, ok := s.nextPending()
			if !ok {
				break
			}
			if err := s.Rebuild(ctx, userID, loc); err != nil && ctx.Err() == nil {
				s.logger.Warn("rebuild statistics after a timezone change", "user_id", userID, "err", err)
			}
			s.busy.Done()
			if ctx.Err() != nil {
				return nil
			}
		}
	}
}

// nextPending takes one pending rebuild off the queue.
func (s *Service) nextPending() (int64, *time.Location, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for userID, loc := range s.pending {
		delete(s.pending, userID)
		return userID, loc, true
	}
	return 0, nil, false
}

// dropPending forgets rebuilds that Run will not do (it is ending): the
// overview still answers right and schedules them again.
func (s *Service) dropPending() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for userID := range s.pending {
		delete(s.pending, userID)
		s.busy.Done()
	}
}

// Wait blocks until no rebuild is pending or running. Rebuilds are done by
// Run: call it only while Run runs (or after it ended).
func (s *Service) Wait() { s.busy.Wait() }

// Numbers computes userID's statistics in loc (the user's timezone) with a
// trend of trendDays days. Normally from rollups; while a timezone change is
// being applied, from the calls themselves.
func (s *Service) Numbers(ctx context.Context, userID int64, loc *time.Location, trendDays int) (Numbers, error) {
	kept, err := keptZone(ctx, s.db, userID)
	if err != nil {
		return Numbers{}, err
	}
	today := civil(s.now().In(loc))
	w := windowFor(today, trendDays)

	var days map[rowKey]counts
	var allTime counts
	if kept == loc.String() || kept == "" && loc == time.UTC {
		days, allTime, err = s.readRollups(ctx, userID, w.first.key())
	} else {
		s.scheduleRebuild(userID, loc)
		days, err = aggregate(ctx, s.db.Read(), userID, loc)
		allTime = total(days)
	}
	if err != nil {
		return Numbers{}, err
	}
	n := Numbers{Timezone: loc.String()}
	n.CallStats.AllTime = allTime.stats()
	n.CallStats.Period = Period{Start: w.periodStart.String(), End: w.periodEnd.String()}

	var current, previous counts
	byAgent := map[int64]counts{}
	trend := make([]counts, trendDays)
	for k, c := range days {
		if k.day == allTimeDay {
			continue
		}
		d := fromKey(k.day)
		if !d.before(w.periodStart) && !today.before(d) {
			current.add(c, 1)
			a := byAgent[k.agentID]
			a.add(c, 1)
			byAgent[k.agentID] = a
		}
		if !d.before(w.previousStart) && !w.previousEnd.before(d) {
			previous.add(c, 1)
		}
		if i := d.sub(w.trendStart); i >= 0 && i < trendDays {
			trend[i].add(c, 1)
		}
	}
	n.CallStats.CurrentPeriod = current.stats()
	n.QuickStats = quickStats(current.stats(), previous.stats())
	n.Trend = make([]TrendPoint, trendDays)
	for i, c := range trend {
		st := c.stats()
		n.Trend[i] = TrendPoint{Date: w.trendStart.addDays(i).String(), TotalCalls: st.TotalCalls, CompletedCalls: st.CompletedCalls,
			FailedCalls: st.FailedCalls, MissedCalls: st.MissedCalls, TotalMinutes: st.TotalMinutes}
	}
	if n.Agents, err = s.agentStats(ctx, userID, byAgent); err != nil {
		return Numbers{}, err
	}
	return n, nil
}

func quickStats(cur, prev PeriodStats) []QuickStat {
	card := func(id string, v, p *float64) QuickStat {
		q := QuickStat{ID: id, Value: v, Previous: p}
		if v != nil && p != nil && *p != 0 {
			change := round(100*(*v-*p)/(*p), 1)
			q.ChangePercent = &change
		}
		return q
	}
	num := func(v float64) *float64 { return &v }
	return []QuickStat{
		card("total_calls", num(float64(cur.TotalCalls)), num(float64(prev.TotalCalls))),
		card("success_rate", num(cur.SuccessRate), num(prev.SuccessRate)),
		card("total_minutes", num(cur.TotalMinutes), num(prev.TotalMinutes)),
		card("average_satisfaction", cur.AverageSatisfaction, prev.AverageSatisfaction),
	}
}

// readRollups returns the daily rollup rows from firstDay on, and the
// all-time row: one index range, whatever the history's length.
func (s *Service) readRollups(ctx context.Context, userID int64, firstDay int) (map[rowKey]counts, counts, error) {
	rows, err := s.db.Read().QueryContext(ctx, `SELECT day, agent_id, `+rollupColumns+` FROM call_rollups
		WHERE user_id = $1 AND (day = $2 OR day >= $3)`, userID, allTimeDay, firstDay)
	out := map[rowKey]counts{}
	var all counts
	if err := store.EachRow(rows, err, func(r *sql.Rows) error {
		k := rowKey{userID: userID}
		var c counts
		if err := r.Scan(append([]any{&k.day, &k.agentID}, c.scanDest()...)...); err != nil {
			return err
		}
		if k.day == allTimeDay {
			all = c
		} else {
			out[k] = c
		}
		return nil
	}); err != nil {
		return nil, counts{}, fmt.Errorf("read rollups: %w", err)
	}
	return out, all, nil
}

func (s *Service) agentStats(ctx context.Context, userID int64, byAgent map[int64]counts) ([]AgentStats, error) {
	out := make([]AgentStats, 0, len(byAgent))
	if len(byAgent) == 0 {
		return out, nil
	}
	names, err := calls.AgentNames(ctx, s.db.Read(), userID)
	if err != nil {
		return nil, err
	}
	for id, c := range byAgent {
		if c.Total == 0 {
			continue
		}
		st := c.stats()
		a := AgentStats{TotalCalls: st.TotalCalls, CompletedCalls: st.CompletedCalls, SuccessRate: st.SuccessRate,
			TotalMinutes: st.TotalMinutes, AverageSatisfaction: st.AverageSatisfaction, RatedCalls: st.RatedCalls}
		if id != 0 {
			id := id
			a.ID, a.Name, a.Voice = &id, names[id].Name, names[id].Voice
		}
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].TotalCalls != out[j].TotalCalls {
			return out[i].TotalCalls > out[j].TotalCalls
		}
		return out[i].Name < out[j].Name
	})
	return out, nil
}

// window is the set of user-local days the overview looks at.
type window struct {
	periodStart, periodEnd     date // this calendar month
	previousStart, previousEnd date // the same span of last month
	trendStart                 date
	first                      date // the earliest of all of these
}

func windowFor(today date, trendDays int) window {
	w := window{}
	w.periodStart = today.monthStart(0)
	w.periodEnd = today.monthStart(1).addDays(-1)
	w.previousStart = today.monthStart(-1)
	w.previousEnd = w.previousStart.addDays(today.d - 1)
	if lastOfPrev := w.periodStart.addDays(-1); lastOfPrev.before(w.previousEnd) {
		w.previousEnd = lastOfPrev
	}
	w.trendStart = today.addDays(-(trendDays - 1))
	w.first = w.previousStart
	if w.trendStart.before(w.first) {
		w.first = w.trendStart
	}
	return w
}

// date is a civil date, free of any timezone.
type date struct {
	y int
	m time.Month
	d int
}

func civil(t time.Time) date {
	y, m, d := t.Date()
	return date{y, m, d}
}

func fromKey(k int) date { return date{k / 10000, time.Month(k / 100 % 100), k % 100} }

func (d date) key() int           { return d.y*10000 + int(d.m)*100 + d.d }
func (d date) t() time.Time       { return time.Date(d.y, d.m, d.d, 12, 0, 0, 0, time.UTC) }
func (d date) before(o date) bool { return d.key() < o.key() }
func (d date) addDays(n int) date { return civil(d.t().AddDate(0, 0, n)) }

// monthStart is the first day of the month n months after d's.
func (d date) monthStart(n int) date {
	return civil(time.Date(d.y, d.m+time.Month(n), 1, 12, 0, 0, 0, time.UTC))
}
func (d date) sub(o date) int { return int(math.Round(d.t().Sub(o.t()).Hours() / 24)) }
func (d date) String() string { return d.t().Format(time.DateOnly) }
