package calls

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"callboard/internal/apperr"
)

// Page sizes and the count cap of the history.
const (
	DefaultPageSize = 20
	MaxPageSize     = 100
	// CountCap bounds the work a count does: counts up to CountCap are exact,
	// larger ones are reported as CountCap with count_exact false. Page
	// numbers reach only the first CountCap results; the cursor in next goes
	// on from there at constant cost.
	CountCap = 1000
	// CountBudget bounds the time a count may take; past it the count is
	// left out (null) rather than slowing the page down.
	CountBudget = 100 * time.Millisecond
)

// ListPage is one page of the history. Next and previous are given as a
// cursor (or, going back from a numbered page, a page number).
type ListPage struct {
	Count      *int // nil on cursor pages
	CountExact bool
	NextCursor string
	PrevCursor string
	PrevPage   int
	Results    []CallView
}

// List returns one page of the user's calls matching p. With a cursor the
// page costs the same however deep it is, and the count is left out (nil);
// with a page number the count is exact up to CountCap (and nil when it
// would take longer than CountBudget). A search holds one of the user's
// two search slots and gets SearchTimeout. Errors: Invalid naming the bad
// parameter (page, page_size, cursor, date_to…); RateLimited when the user
// already runs two searches; Unavailable when the search took too long.
func (s *Service) List(ctx context.Context, userID int64, p ListParams) (ListPage, error) {
	return s.boundSearch(ctx, userID, p, func(ctx context.Context) (ListPage, error) { return s.listPage(ctx, userID, p) })
}

func (s *Service) listPage(ctx context.Context, userID int64, p ListParams) (ListPage, error) {
	f, err := s.parseFilter(ctx, userID, p.ListFilter)
	if err != nil {
		return ListPage{}, err
	}
	size := p.PageSize
	if size == 0 {
		size = DefaultPageSize
	}
	if size < 1 || size > MaxPageSize {
		return ListPage{}, apperr.Invalid("page_size", fmt.Sprintf("must be 1 to %d", MaxPageSize))
	}
	page := max(p.Page, 1)
	if p.Page < 0 {
		return ListPage{}, apperr.Invalid("page", "must be 1 or more")
	}
	var cur *cursor
	if p.Cursor != "" {
		if p.Page > 1 {
			return ListPage{}, apperr.Invalid("page", "give page or cursor, not both")
		}
		c, err := decodeCursor(p.Cursor)
		if err != nil {
			return ListPage{}, err
		}
		if p.Ordering != "" && c.order != f.order.name {
			return ListPage{}, apperr.Invalid("cursor", "was made for another ordering; follow next or previous as given")
		}
		f.order = orderings[c.order]
		cur = &c
	}
	// Compared before multiplying: a huge page number must not wrap around.
	if cur == nil && (page > CountCap || (page-1)*size >= CountCap) {
		return ListPage{}, apperr.Invalid("page", fmt.Sprintf("page numbers reach the first %d results; follow the cursor in next to go further", CountCap))
	}
	offset := (page - 1) * size

	out := ListPage{Results: []CallView{}}
	var calls []Call
	query := func() error {
		out.Results, calls = []CallView{}, nil
		q, args := s.rowsQuery(&f, userID, cur, size+1, offset)
		return s.queryViews(ctx, q, args, func(c *Call, v CallView) {
			calls = append(calls, *c)
			out.Results = append(out.Results, v)
		})
	}
	// window reads the page from a window of the newest calls (walk
	// narrows f to it) and reports whether that page is conclusive: the
	// window held the whole history, or filled the page. When it is not,
	// undo takes the narrowing back.
	window := func(walk func() (bounded bool, err error), undo func()) (bool, error) {
		bounded, err := walk()
		if err != nil {
			return false, err
		}
		if err := query(); err != nil {
			return false, err
		}
		if !bounded || len(calls) > size {
			return true, nil
		}
		undo()
		return false, nil
	}
	walked := false
	forward := cur == nil || !cur.backward
	if len(f.searchWords) > 0 && s.search.walkFirst() && forward {
		// The newest calls first: a common word fills the page among them.
		walked, err = window(func() (bool, error) { return s.walkNewest(ctx, &f, userID, cur, offset) },
			func() { f.bound, f.plan = nil, searchPlan{} })
		if err != nil {
			return ListPage{}, err
		}
	}
	if !walked {
		if err := s.planSearch(ctx, userID, &f); err != nil {
			return ListPage{}, err
		}
		if f.plan.windowed && forward {
			// The words are common in the user's calls: their matches
			// among the newest calls first, as above.
			walked, err = window(func() (bool, error) { return s.walkWindow(ctx, &f, userID, cur, offset) },
				func() { f.bound, f.plan.ids, f.plan.whole = nil, nil, false })
			if err != nil {
				return ListPage{}, err
			}
		}
		if !walked {
			if err := query(); err != nil {
				return ListPage{}, err
			}
		}
	}
	more := len(out.Results) > size
	if more {
		out.Results, calls = out.Results[:size], calls[:size]
	}
	if cur != nil && cur.backward {
		slices.Reverse(out.Results)
		slices.Reverse(calls)
	}
	at := func(i int, backward bool) string {
		return cursor{order: f.order.name, value: f.order.sortValue(&calls[i]), id: calls[i].ID, backward: backward}.encode()
	}
	switch {
	case cur == nil:
		if more {
			out.NextCursor = at(len(calls)-1, false)
		}
		if page > 1 {
			out.PrevPage = page - 1
		}
		// The count gets a time budget: with a filter no index serves, a
		// user with a million calls but few matches would otherwise pay
		// for reading every call. Past the budget the count is left out.
		cctx, cancel := context.WithTimeout(ctx, s.countBudget)
		n, exact, err := s.count(cctx, &f, userID)
		cancel()
		switch {
		case errors.Is(err, errNotCounted):
		case err == nil:
			out.Count, out.CountExact = &n, exact
		case cctx.Err() != nil && ctx.Err() == nil:
			s.logger.DebugContext(ctx, "count over budget", "user_id", userID)
		default:
			return ListPage{}, err
		}
	case !cur.backward:
		if more {
			out.NextCursor = at(len(calls)-1, false)
		}
		if len(calls) > 0 {
			out.PrevCursor = at(0, true)
		}
	default:
		if more {
			out.PrevCursor = at(0, true)
		}
		if len(calls) > 0 {
			out.NextCursor = at(len(calls)-1, false)
		}
	}
	return out, nil
}

// walkBound is how many of the newest calls (from the page's position) a
// search walks before it asks the index instead (walkNewest).
const walkBound = 2000

// walkNewest prepares f to walk the history from cur (the page's position,
// past offset rows) checking each call for the search's words, but no
// further than walkBound calls: a word common in the user's calls fills the
// page there at the cost of a plain page, and only a rarer one pays for an
// index probe. bounded is false when fewer than walkBound calls are left,
// so the walk sees them all.
func (s *Service) walkNewest(ctx context.Context, f *filter, userID int64, cur *cursor, offset int) (bounded bool, err error) {
	plain := *f
	plain.searchWords, plain.agentHits, plain.plan, plain.bound = nil, nil, searchPlan{}, nil
	q, args := s.rowsQuery(&plain, userID, cur, 1, offset+s.walkBound-1)
	var edge *Call
	if err := s.queryViews(ctx, q, args, func(c *Call, _ CallView) { e := *c; edge = &e }); err != nil {
		return false, err
	}
	f.plan = searchPlan{walk: true, whole: edge == nil}
	if edge != nil {
		f.bound = &cursor{order: f.order.name, value: f.order.sortValue(edge), id: edge.ID}
	}
	return edge != nil, nil
}

// walkWindow keeps a walk the index planned (f.plan.walk, windowed) within
// the calls walkNewest would walk: from cur (the page's position, past
// offset rows), no further than walkBound calls (f.bound). It tells the
// index the lowest and highest id among them (f.plan.ids), so the index
// reads only the matches in that range: the page of a word common in the
// user's calls costs about what the window does, however many calls the
// word is in. bounded is false when the window reaches the end of the
// history (f.plan.whole).
func (s *Service) walkWindow(ctx context.Context, f *filter, userID int64, cur *cursor, offset int) (bounded bool, err error) {
	plain := *f
	plain.searchWords, plain.agentHits, plain.plan, plain.bound = nil, nil, searchPlan{}, nil
	limit := offset + s.walkBound
	// Counted in SQL: a window's rows are not worth a round trip each.
	q, args := s.keysQuery(&plain, userID, cur, limit, 0)
	var n int
	var lo, hi sql.NullInt64
	if err := s.db.Read().QueryRowContext(ctx, "SELECT COUNT(*), MIN(id), MAX(id) FROM ("+q+") AS w", args...).Scan(&n, &lo, &hi); err != nil {
		return false, fmt.Errorf("list calls: %w", err)
	}
	bounded = n == limit
	f.plan.whole = !bounded
	if n > 0 {
		f.plan.ids = &[2]int64{lo.Int64, hi.Int64}
	}
	if bounded {
		q, args := s.keysQuery(&plain, userID, cur, 1, limit-1)
		var edge cursor
		if err := s.db.Read().QueryRowContext(ctx, q, args...).Scan(&edge.value, &edge.id); err != nil {
			return false, fmt.Errorf("list calls: %w", err)
		}
		edge.order = f.order.name
		f.bound = &edge
	}
	return bounded, nil
}

// errNotCounted is count's answer when it does not count: the page's count
// is then left out (null).
var errNotCounted = errors.New("not counted")

// count counts the matching calls, stopping at CountCap. Errors:
// errNotCounted for a search of words common in the user's calls.
func (s *Service) count(ctx context.Context, f *filter, userID int64) (int, bool, error) {
	if f.plan.many && f.onlySearch() {
		// More than CountCap of the user's calls match and nothing else
		// narrows them: counting again would only confirm it.
		return CountCap, false, nil
	}
	if f.plan.walk && !f.plan.whole {
		// The words are common in the user's calls: the page was found by
		// checking a few dozen calls, while a count would check a thousand.
		return 0, false, errNotCounted
	}
	// A count reads the matches in no order: through the index, never by
	// walking the history.
	counted := *f
	counted.plan.walk = false
	a := &sqlArgs{}
	where := s.where(a, &counted, userID)
	var n int
	err := s.db.Read().QueryRowContext(ctx, "SELECT COUNT(*) FROM (SELECT 1 FROM calls c WHERE "+where+
		" LIMIT "+a.add(CountCap+1)+") AS matching", a.args...).Scan(&n)
	if err != nil {
		return 0, false, fmt.Errorf("count calls: %w", err)
	}
	if n > CountCap {
		return CountCap, false, nil
	}
	return n, true, nil
}

// Get returns one of the user's calls. The recording URL is shown only with
// the user's recording consent. Errors: NotFound when there is no such call
// or it is another user's.
func (s *Service) Get(ctx context.Context, userID, id int64) (CallDetail, error) {
	var c Call
	var name, voice sql.NullString
	row := s.db.Read().QueryRowContext(ctx, "SELECT "+callColumns+", a.name, a.voice FROM calls c "+
		"LEFT JOIN agents a ON a.id = c.agent_id WHERE c.id = $1 AND c.user_id = $2", id, userID)
	if err := scanInto(row, &c, true, &name, &voice); errors.Is(err, sql.ErrNoRows) {
		return CallDetail{}, apperr.NotFound("call")
	} else if err != nil {
		return CallDetail{}, fmt.Errorf("get call: %w", err)
	}
	d := CallDetail{CallView: view(&c, name, voice), Transcript: c.Transcript, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
	if c.RecordingURL != "" {
		ok, err := s.consent.RecordingConsent(ctx, userID)
		if err != nil {
			return CallDetail{}, fmt.Errorf("recording consent: %w", err)
		}
		if ok {
			u := c.RecordingURL
			d.RecordingURL = &u
		}
	}
	return d, nil
}
