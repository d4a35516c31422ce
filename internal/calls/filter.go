package calls

import (
	"context"
	"errors"
	"fmt"
	"time"

	"callboard/internal/apperr"
	"callboard/internal/store"
)

// ListFilter is the history's filters, typed: the HTTP layer has checked
// each value's form (enums, bounds, dates); List and NewExport check what
// needs several fields or the database, and name a bad field by its
// parameter's name ("date_to"). Zero values filter nothing.
type ListFilter struct {
	Statuses  []Status // any of these
	Direction string   // inbound or outbound
	AgentID   int64
	// DateFrom and DateTo are calendar days (only their year, month and
	// day count), read in the user's timezone, both included.
	DateFrom, DateTo *time.Time
	Search           string // words to find (see searchWords)
	EndReason        string
	Sentiment        string
	MinDuration      *int   // seconds
	MaxDuration      *int   // seconds
	Ordering         string // a key of orderings; "" is -started_at
}

// ListParams is a page of the history: the filters and where the page is.
type ListParams struct {
	ListFilter
	Page     int    // 1-based; 0 means 1
	PageSize int    // 0 means DefaultPageSize
	Cursor   string // opaque; from next or previous
}

// ordering is one of the history's sort orders: a NOT NULL column, then id
// in the same direction, so one index serves both directions.
type ordering struct {
	name   string
	column string
	desc   bool
}

var orderings = map[string]ordering{
	"-started_at":   {"-started_at", "started_at", true},
	"started_at":    {"started_at", "started_at", false},
	"-duration":     {"-duration", "duration_seconds", true},
	"duration":      {"duration", "duration_seconds", false},
	"-satisfaction": {"-satisfaction", "satisfaction", true},
	"satisfaction":  {"satisfaction", "satisfaction", false},
}

const orderingNames = "-started_at, started_at, -duration, duration, -satisfaction, satisfaction"

// sortValue is c's value in ordering o.
func (o ordering) sortValue(c *Call) int64 {
	switch o.column {
	case "duration_seconds":
		return int64(c.DurationSeconds)
	case "satisfaction":
		return int64(c.Satisfaction)
	}
	return store.Millis(c.StartedAt)
}

// onlySearch reports whether the search is f's only filter.
func (f *filter) onlySearch() bool {
	return len(f.statuses) == 0 && f.direction == "" && f.agentID == 0 && f.from == nil && f.to == nil &&
		f.endReason == "" && f.sentiment == "" && f.minDuration == nil && f.maxDuration == nil
}

// OrderingNames are the history's orderings, the default first.
var OrderingNames = []string{"-started_at", "started_at", "-duration", "duration", "-satisfaction", "satisfaction"}

// filter is a checked ListFilter, ready for SQL.
type filter struct {
	statuses    []Status
	direction   string
	agentID     int64
	from, to    *int64 // started_at bounds, Unix ms, [from, to)
	searchWords []string
	agentHits   []int64 // agents whose name holds the search text
	plan        searchPlan
	// bound, when set, is the last row a walk may reach (see walkNewest).
	bound       *cursor
	endReason   string
	sentiment   string
	minDuration *int
	maxDuration *int
	order       ordering
}

// parseFilter checks p's cross-field and database rules and finds the
// agents a search names; planSearch plans the search itself. Dates are read in the user's timezone. Errors: Invalid naming the
// parameter (date_to, max_duration, search, ordering).
func (s *Service) parseFilter(ctx context.Context, userID int64, p ListFilter) (filter, error) {
	var bad []apperr.FieldError
	fail := func(param, msg string) {
		bad = append(bad, apperr.FieldError{Location: param, Message: msg})
	}
	f := filter{statuses: p.Statuses, direction: p.Direction, agentID: p.AgentID, endReason: p.EndReason,
		sentiment: p.Sentiment, minDuration: p.MinDuration, maxDuration: p.MaxDuration, order: orderings["-started_at"]}
	if p.DateFrom != nil || p.DateTo != nil {
		loc, err := s.zones.Location(ctx, userID)
		if err != nil {
			return filter{}, fmt.Errorf("user timezone: %w", err)
		}
		day := func(t *time.Time, plus int) *int64 {
			if t == nil {
				return nil
			}
			y, m, d := t.Date()
			ms := store.Millis(time.Date(y, m, d+plus, 0, 0, 0, 0, loc))
			return &ms
		}
		f.from, f.to = day(p.DateFrom, 0), day(p.DateTo, 1)
		if f.from != nil && f.to != nil && *f.to <= *f.from {
			fail("date_to", "must not be before date_from")
		}
	}
	if p.Search != "" {
		words, err := searchWords(p.Search)
		if msg := (errSearch("")); errors.As(err, &msg) {
			fail("search", string(msg))
		}
		f.searchWords = words
	}
	if f.minDuration != nil && f.maxDuration != nil && *f.maxDuration < *f.minDuration {
		fail("max_duration", "must not be less than min_duration")
	}
	if p.Ordering != "" {
		o, ok := orderings[p.Ordering]
		if !ok {
			fail("ordering", "must be one of "+orderingNames)
		}
		f.order = o
	}
	if len(bad) > 0 {
		return filter{}, apperr.InvalidFields(bad...)
	}
	if len(f.searchWords) > 0 {
		hits, err := s.agentsNamed(ctx, userID, p.Search)
		if err != nil {
			return filter{}, err
		}
		f.agentHits = hits
	}
	return f, nil
}

// planSearch asks the search index how to find f's words (searchIndex.plan).
func (s *Service) planSearch(ctx context.Context, userID int64, f *filter) error {
	if len(f.searchWords) == 0 {
		return nil
	}
	var err error
	f.plan, err = s.search.plan(ctx, userID, f.searchWords)
	return err
}
