package calls

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"callboard/internal/apperr"
	"callboard/internal/store"
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
	// maxSearchLen bounds the search text; maxSearchWords the terms in it.
	maxSearchLen   = 200
	maxSearchWords = 8
	// maxAgentScan bounds the agents whose names a search looks at.
	maxAgentScan = 5000
)

// AgentView is the agent of a call as the API shows it.
type AgentView struct {
	ID    int64  `json:"id"`
	Name  string `json:"name"`
	Voice string `json:"voice"`
}

// CallView is a call in the history.
type CallView struct {
	ID              int64      `json:"id"`
	ExternalID      string     `json:"external_id" doc:"The calling platform's id of the call."`
	Direction       string     `json:"direction" enum:"inbound,outbound"`
	FromNumber      string     `json:"from_number"`
	ToNumber        string     `json:"to_number"`
	Status          Status     `json:"status" enum:"queued,ringing,in-progress,completed,busy,failed,no-answer,canceled"`
	StartedAt       time.Time  `json:"started_at"`
	AnsweredAt      *time.Time `json:"answered_at"`
	EndedAt         *time.Time `json:"ended_at"`
	DurationSeconds int        `json:"duration_seconds"`
	Agent           *AgentView `json:"agent" doc:"null when the platform named no agent."`
	Satisfaction    *int       `json:"satisfaction" doc:"1–5, or null when not rated."`
	Sentiment       *string    `json:"sentiment" enum:"positive,neutral,negative"`
	EndReason       *string    `json:"end_reason"`
	Cost            *Money     `json:"cost" doc:"null when not known."`
	Summary         string     `json:"summary"`
}

// CallDetail is one call with everything about it.
type CallDetail struct {
	CallView
	Transcript   string    `json:"transcript"`
	RecordingURL *string   `json:"recording_url" doc:"Only when you allowed call recording in your privacy settings; null otherwise."`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// ListParams is the history's query string, as given. List checks it.
type ListParams struct {
	Page        int      // 1-based; 0 means 1
	PageSize    int      // 0 means DefaultPageSize
	Cursor      string   // opaque; from next or previous
	Status      []string // each may hold several, comma-separated
	Direction   string
	Agent       string // agent id
	DateFrom    string // YYYY-MM-DD in the user's timezone, inclusive
	DateTo      string // YYYY-MM-DD in the user's timezone, inclusive
	Search      string
	EndReason   string
	Sentiment   string
	MinDuration string // seconds
	MaxDuration string // seconds
	Ordering    string
}

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

// filter is a checked ListParams (without the page).
type filter struct {
	statuses    []Status
	direction   string
	agentID     int64
	from, to    *int64 // started_at bounds, Unix ms, [from, to)
	searchWords []string
	agentHits   []int64 // agents whose name holds the search text
	// searchHits, on SQLite, are all the user's calls the search words
	// match, when they are few (at most searchListMax); nil when there are
	// more. See sqliteSearchHits.
	searchHits  []int64
	endReason   string
	sentiment   string
	minDuration *int
	maxDuration *int
	order       ordering
}

// parseFilter checks p's filters, naming each bad parameter. Dates are read
// in the user's timezone.
func (s *Service) parseFilter(ctx context.Context, userID int64, p ListParams) (filter, error) {
	var bad []apperr.FieldError
	fail := func(param, msg string) {
		bad = append(bad, apperr.FieldError{Location: "query." + param, Message: msg})
	}
	f := filter{order: orderings["-started_at"]}
	for _, raw := range p.Status {
		for v := range strings.SplitSeq(raw, ",") {
			st := Status(strings.TrimSpace(v))
			if !st.Valid() {
				fail("status", "each status must be one of "+joinStatuses(statuses))
				break
			}
			if !slices.Contains(f.statuses, st) {
				f.statuses = append(f.statuses, st)
			}
		}
	}
	if p.Direction != "" {
		if !slices.Contains(directions, p.Direction) {
			fail("direction", "must be inbound or outbound")
		}
		f.direction = p.Direction
	}
	if p.Agent != "" {
		id, err := strconv.ParseInt(p.Agent, 10, 64)
		if err != nil || id <= 0 {
			fail("agent", "must be an agent id")
		}
		f.agentID = id
	}
	if p.DateFrom != "" || p.DateTo != "" {
		loc, err := s.zones.Location(ctx, userID)
		if err != nil {
			return filter{}, fmt.Errorf("user timezone: %w", err)
		}
		var fromDay, toDay time.Time
		if p.DateFrom != "" {
			d, err := time.ParseInLocation(time.DateOnly, p.DateFrom, loc)
			if err != nil {
				fail("date_from", "must be a date like 2025-01-31")
			} else {
				fromDay = d
				ms := store.Millis(d)
				f.from = &ms
			}
		}
		if p.DateTo != "" {
			d, err := time.ParseInLocation(time.DateOnly, p.DateTo, loc)
			if err != nil {
				fail("date_to", "must be a date like 2025-01-31")
			} else {
				toDay = d
				ms := store.Millis(d.AddDate(0, 0, 1))
				f.to = &ms
			}
		}
		if f.from != nil && f.to != nil && toDay.Before(fromDay) {
			fail("date_to", "must not be before date_from")
		}
	}
	if p.Search != "" {
		words, msg := searchWords(p.Search)
		if msg != "" {
			fail("search", msg)
		}
		f.searchWords = words
	}
	if p.EndReason != "" {
		if utf8.RuneCountInString(p.EndReason) > maxEndReasonLen {
			fail("end_reason", fmt.Sprintf("must be at most %d characters", maxEndReasonLen))
		}
		f.endReason = p.EndReason
	}
	if p.Sentiment != "" {
		if !slices.Contains(sentiments, p.Sentiment) {
			fail("sentiment", "must be positive, neutral or negative")
		}
		f.sentiment = p.Sentiment
	}
	parseSeconds := func(param, raw string) *int {
		if raw == "" {
			return nil
		}
		n, err := strconv.Atoi(raw)
		if err != nil || n < 0 || n > maxDurationSeconds {
			fail(param, fmt.Sprintf("must be a number of seconds from 0 to %d", maxDurationSeconds))
			return nil
		}
		return &n
	}
	f.minDuration = parseSeconds("min_duration", p.MinDuration)
	f.maxDuration = parseSeconds("max_duration", p.MaxDuration)
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
		if s.db.Dialect == store.SQLite {
			if f.searchHits, err = s.sqliteSearchHits(ctx, userID, f.searchWords); err != nil {
				return filter{}, err
			}
		}
	}
	return f, nil
}

// searchListMax is the most full-text matches a SQLite search reads up
// front (see sqliteSearchHits); Service.searchListMax, settable in tests.
const searchListMax = 2000

// sqliteSearchHits reads the user's calls matching words from the
// full-text index, stopping at searchListMax. SQLite plans "id IN
// (full-text matches)" one way whatever their number: it walks the user's
// history in order and probes the matches, which finds a page of common
// words at once but reads the whole history for a rare word. So a rare
// word's few matches are read first and the history is fetched from them
// by id; a word common in the user's calls (more than searchListMax
// matches) keeps the walk. It returns nil for a common word, and an empty,
// non-nil slice when nothing matches.
func (s *Service) sqliteSearchHits(ctx context.Context, userID int64, words []string) ([]int64, error) {
	rows, err := s.db.Read().QueryContext(ctx, `SELECT rowid FROM calls_fts WHERE calls_fts MATCH $1 LIMIT $2`,
		ftsQuery(userID, words), s.searchListMax+1)
	ids := []int64{}
	if err := store.EachRow(rows, err, func(r *sql.Rows) error {
		var id int64
		if err := r.Scan(&id); err != nil {
			return err
		}
		ids = append(ids, id)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	if len(ids) > s.searchListMax {
		return nil, nil
	}
	return ids, nil
}

// ftsQuery is the SQLite full-text query for words in the user's calls:
// every word as a prefix, and the owner's term. Words hold only letters
// and digits, so quoting them is safe.
func ftsQuery(userID int64, words []string) string {
	terms := make([]string, 0, len(words)+1)
	for _, w := range words {
		terms = append(terms, `"`+w+`"*`)
	}
	return strings.Join(append(terms, `"`+ownerTerm(userID)+`"`), " AND ")
}

// onlySearch reports whether the search is f's only filter.
func (f *filter) onlySearch() bool {
	return len(f.statuses) == 0 && f.direction == "" && f.agentID == 0 && f.from == nil && f.to == nil &&
		f.endReason == "" && f.sentiment == "" && f.minDuration == nil && f.maxDuration == nil
}

// searchWords splits a search into the words full-text search looks for;
// text made only of digits and phone punctuation is one number. The message
// is non-empty when the search is unusable.
func searchWords(raw string) ([]string, string) {
	raw = strings.TrimSpace(raw)
	if utf8.RuneCountInString(raw) > maxSearchLen {
		return nil, fmt.Sprintf("must be at most %d characters", maxSearchLen)
	}
	phoneLike := strings.IndexFunc(raw, func(r rune) bool {
		return !(r >= '0' && r <= '9' || strings.ContainsRune("+-() .", r))
	}) < 0
	if digits := onlyDigits(raw); phoneLike && digits != "" {
		return []string{digits}, ""
	}
	words := strings.FieldsFunc(strings.ToLower(raw), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	if len(words) == 0 {
		return nil, "must contain a letter or digit"
	}
	if len(words) > maxSearchWords {
		return nil, fmt.Sprintf("must have at most %d words", maxSearchWords)
	}
	return words, ""
}

// agentsNamed returns the user's agents whose name contains text
// (case-insensitively). A customer has a handful of agents; the scan is
// bounded anyway.
func (s *Service) agentsNamed(ctx context.Context, userID int64, text string) ([]int64, error) {
	needle := strings.ToLower(strings.TrimSpace(text))
	rows, err := s.db.Read().QueryContext(ctx, `SELECT id, name FROM agents WHERE user_id = $1 ORDER BY id LIMIT $2`, userID, maxAgentScan)
	var ids []int64
	if err := store.EachRow(rows, err, func(r *sql.Rows) error {
		var id int64
		var name string
		if err := r.Scan(&id, &name); err != nil {
			return err
		}
		if strings.Contains(strings.ToLower(name), needle) {
			ids = append(ids, id)
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("search agents: %w", err)
	}
	return ids, nil
}

// sqlArgs numbers query arguments as $1, $2, … in both dialects.
type sqlArgs struct{ args []any }

func (a *sqlArgs) add(v any) string {
	a.args = append(a.args, v)
	return "$" + strconv.Itoa(len(a.args))
}

// where is the WHERE clause of the user's calls matching f.
//
// On SQLite, filters whose index would fight the ordering are kept off
// their index with a unary plus (SQLite's documented way): without
// statistics SQLite would rather read every call in a duration range, or
// every call of several statuses, and sort them than walk the ordering's
// index and stop after one page. PostgreSQL has statistics and decides.
func (f *filter) where(a *sqlArgs, dialect store.Dialect, userID int64) string {
	noIndex := func(col string) string {
		if dialect == store.SQLite {
			return "+" + col
		}
		return col
	}
	owner := "c.user_id"
	if f.searchHits != nil && len(f.agentHits) == 0 {
		// A rare word's matches are few: fetch them by id and sort them,
		// rather than walk the user's history (see sqliteSearchHits).
		owner = noIndex(owner)
	}
	conds := []string{owner + " = " + a.add(userID)}
	switch len(f.statuses) {
	case 0:
	case 1:
		conds = append(conds, "c.status = "+a.add(string(f.statuses[0])))
	default:
		ph := make([]string, len(f.statuses))
		for i, st := range f.statuses {
			ph[i] = a.add(string(st))
		}
		conds = append(conds, noIndex("c.status")+" IN ("+strings.Join(ph, ", ")+")")
	}
	duration := "c.duration_seconds"
	if f.order.column != "duration_seconds" {
		duration = noIndex(duration)
	}
	if f.direction != "" {
		conds = append(conds, "c.direction = "+a.add(f.direction))
	}
	if f.agentID != 0 {
		conds = append(conds, "c.agent_id = "+a.add(f.agentID))
	}
	if f.from != nil {
		conds = append(conds, "c.started_at >= "+a.add(*f.from))
	}
	if f.to != nil {
		conds = append(conds, "c.started_at < "+a.add(*f.to))
	}
	if f.endReason != "" {
		conds = append(conds, "c.end_reason = "+a.add(f.endReason))
	}
	if f.sentiment != "" {
		conds = append(conds, "c.sentiment = "+a.add(f.sentiment))
	}
	if f.minDuration != nil {
		conds = append(conds, duration+" >= "+a.add(*f.minDuration))
	}
	if f.maxDuration != nil {
		conds = append(conds, duration+" <= "+a.add(*f.maxDuration))
	}
	if len(f.searchWords) > 0 {
		var text string
		if dialect == store.Postgres {
			terms := make([]string, len(f.searchWords))
			for i, w := range f.searchWords {
				terms[i] = "'" + w + "':*"
			}
			text = "c.search_vector @@ to_tsquery('simple', " + a.add(strings.Join(terms, " & ")) + ")"
		} else if f.searchHits != nil {
			raw, _ := json.Marshal(f.searchHits) // numbers: cannot fail
			text = "c.id IN (SELECT value FROM json_each(" + a.add(string(raw)) + "))"
		} else {
			text = "c.id IN (SELECT rowid FROM calls_fts WHERE calls_fts MATCH " + a.add(ftsQuery(userID, f.searchWords)) + ")"
		}
		if len(f.agentHits) > 0 {
			ph := make([]string, len(f.agentHits))
			for i, id := range f.agentHits {
				ph[i] = a.add(id)
			}
			text = "(" + text + " OR c.agent_id IN (" + strings.Join(ph, ", ") + "))"
		}
		conds = append(conds, text)
	}
	return strings.Join(conds, " AND ")
}

// cursor is a position in the history: after (or, backwards, before) the
// row with sort value value and id id, in ordering order.
type cursor struct {
	order    string
	value    int64
	id       int64
	backward bool
}

func (c cursor) encode() string {
	dir := "n"
	if c.backward {
		dir = "p"
	}
	raw := "1." + c.order + "." + strconv.FormatInt(c.value, 10) + "." + strconv.FormatInt(c.id, 10) + "." + dir
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

var errBadCursor = apperr.Invalid("query.cursor", "is not a cursor from this list; follow next or previous as given")

func decodeCursor(s string) (cursor, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(s) > 200 {
		return cursor{}, errBadCursor
	}
	parts := strings.Split(string(raw), ".")
	if len(parts) != 5 || parts[0] != "1" || (parts[4] != "n" && parts[4] != "p") {
		return cursor{}, errBadCursor
	}
	if _, ok := orderings[parts[1]]; !ok {
		return cursor{}, errBadCursor
	}
	value, err1 := strconv.ParseInt(parts[2], 10, 64)
	id, err2 := strconv.ParseInt(parts[3], 10, 64)
	if err1 != nil || err2 != nil || id <= 0 {
		return cursor{}, errBadCursor
	}
	return cursor{order: parts[1], value: value, id: id, backward: parts[4] == "p"}, nil
}

// Columns of a history row: the call without its transcript, and its agent.
const (
	viewColumns = `c.id, c.user_id, c.agent_id, c.external_id, c.direction, c.from_number, c.to_number, c.status,
	c.started_at, c.answered_at, c.ended_at, c.duration_seconds, c.satisfaction, c.sentiment, c.end_reason,
	c.cost_amount, c.cost_currency, c.recording_url, c.created_at, c.updated_at, c.summary`
	callColumns = viewColumns + `, c.transcript`
)

type scanner interface{ Scan(dest ...any) error }

// scanInto reads viewColumns (and the transcript when withTranscript) and
// then extra destinations.
func scanInto(sc scanner, c *Call, withTranscript bool, extra ...any) error {
	var agentID, answered, ended, cost sql.NullInt64
	var sentiment, endReason, currency, recording sql.NullString
	var status string
	var started, created, updated int64
	dest := []any{&c.ID, &c.UserID, &agentID, &c.ExternalID, &c.Direction, &c.FromNumber, &c.ToNumber, &status,
		&started, &answered, &ended, &c.DurationSeconds, &c.Satisfaction, &sentiment, &endReason,
		&cost, &currency, &recording, &created, &updated, &c.Summary}
	if withTranscript {
		dest = append(dest, &c.Transcript)
	}
	if err := sc.Scan(append(dest, extra...)...); err != nil {
		return err
	}
	c.Status = Status(status)
	c.StartedAt, c.CreatedAt, c.UpdatedAt = store.Time(started), store.Time(created), store.Time(updated)
	c.AnsweredAt, c.EndedAt = store.NullTime(answered), store.NullTime(ended)
	if agentID.Valid {
		c.AgentID = &agentID.Int64
	}
	if cost.Valid {
		c.CostAmount = &cost.Int64
	}
	c.Sentiment, c.EndReason, c.CostCurrency, c.RecordingURL = sentiment.String, endReason.String, currency.String, recording.String
	return nil
}

func scanCall(sc scanner) (*Call, error) {
	c := &Call{}
	if err := scanInto(sc, c, true); err != nil {
		return nil, err
	}
	return c, nil
}

// view is how the API shows c with its agent (name and voice valid when
// c has an agent).
func view(c *Call, name, voice sql.NullString) CallView {
	v := CallView{ID: c.ID, ExternalID: c.ExternalID, Direction: c.Direction, FromNumber: c.FromNumber,
		ToNumber: c.ToNumber, Status: c.Status, StartedAt: c.StartedAt, AnsweredAt: c.AnsweredAt, EndedAt: c.EndedAt,
		DurationSeconds: c.DurationSeconds, Summary: c.Summary}
	if c.AgentID != nil {
		v.Agent = &AgentView{ID: *c.AgentID, Name: name.String, Voice: voice.String}
	}
	if c.Satisfaction > 0 {
		n := c.Satisfaction
		v.Satisfaction = &n
	}
	if c.Sentiment != "" {
		s := c.Sentiment
		v.Sentiment = &s
	}
	if c.EndReason != "" {
		r := c.EndReason
		v.EndReason = &r
	}
	if c.CostAmount != nil {
		v.Cost = &Money{Amount: *c.CostAmount, Currency: c.CostCurrency}
	}
	return v
}

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

// rowsQuery is the history query: the calls matching f after (or before)
// cur in f's order, limit rows from offset.
func (f *filter) rowsQuery(dialect store.Dialect, userID int64, cur *cursor, limit, offset int) (string, []any) {
	a := &sqlArgs{}
	where := f.where(a, dialect, userID)
	desc := f.order.desc
	if cur != nil && cur.backward {
		desc = !desc
	}
	if cur != nil {
		op := ">"
		if desc {
			op = "<"
		}
		where += " AND (c." + f.order.column + ", c.id) " + op + " (" + a.add(cur.value) + ", " + a.add(cur.id) + ")"
	}
	dir := " ASC"
	if desc {
		dir = " DESC"
	}
	q := "SELECT " + viewColumns + ", a.name, a.voice FROM calls c LEFT JOIN agents a ON a.id = c.agent_id WHERE " + where +
		" ORDER BY c." + f.order.column + dir + ", c.id" + dir + " LIMIT " + a.add(limit)
	if offset > 0 {
		q += " OFFSET " + a.add(offset)
	}
	return q, a.args
}

// queryViews runs a history query and scans its rows.
func (s *Service) queryViews(ctx context.Context, q string, args []any, withCalls func(*Call, CallView)) error {
	return queryViewsOn(ctx, s.db.Read(), q, args, withCalls)
}

// querier is a pool or one connection of it.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func queryViewsOn(ctx context.Context, db querier, q string, args []any, withCalls func(*Call, CallView)) error {
	rows, err := db.QueryContext(ctx, q, args...)
	if err := store.EachRow(rows, err, func(r *sql.Rows) error {
		var c Call
		var name, voice sql.NullString
		if err := scanInto(r, &c, false, &name, &voice); err != nil {
			return err
		}
		withCalls(&c, view(&c, name, voice))
		return nil
	}); err != nil {
		return fmt.Errorf("list calls: %w", err)
	}
	return nil
}

// List returns one page of the user's calls matching p. With a cursor the
// page costs the same however deep it is, and the count is left out (nil);
// with a page number the count is exact up to CountCap (and nil when it
// would take longer than CountBudget). Errors: Invalid
// naming the bad query parameter (query.page, query.cursor, query.status…).
func (s *Service) List(ctx context.Context, userID int64, p ListParams) (ListPage, error) {
	f, err := s.parseFilter(ctx, userID, p)
	if err != nil {
		return ListPage{}, err
	}
	size := p.PageSize
	if size == 0 {
		size = DefaultPageSize
	}
	if size < 1 || size > MaxPageSize {
		return ListPage{}, apperr.Invalid("query.page_size", fmt.Sprintf("must be 1 to %d", MaxPageSize))
	}
	page := max(p.Page, 1)
	if p.Page < 0 {
		return ListPage{}, apperr.Invalid("query.page", "must be 1 or more")
	}
	var cur *cursor
	if p.Cursor != "" {
		if p.Page > 1 {
			return ListPage{}, apperr.Invalid("query.page", "give page or cursor, not both")
		}
		c, err := decodeCursor(p.Cursor)
		if err != nil {
			return ListPage{}, err
		}
		if p.Ordering != "" && c.order != f.order.name {
			return ListPage{}, apperr.Invalid("query.cursor", "was made for another ordering; follow next or previous as given")
		}
		f.order = orderings[c.order]
		cur = &c
	}
	offset := (page - 1) * size
	if cur == nil && offset >= CountCap {
		return ListPage{}, apperr.Invalid("query.page", fmt.Sprintf("page numbers reach the first %d results; follow the cursor in next to go further", CountCap))
	}

	out := ListPage{Results: []CallView{}}
	var calls []Call
	q, args := f.rowsQuery(s.db.Dialect, userID, cur, size+1, offset)
	err = s.queryViews(ctx, q, args, func(c *Call, v CallView) {
		calls = append(calls, *c)
		out.Results = append(out.Results, v)
	})
	if err != nil {
		return ListPage{}, err
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
		cctx, cancel := context.WithTimeout(ctx, CountBudget)
		n, exact, err := s.count(cctx, &f, userID)
		cancel()
		switch {
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

// count counts the matching calls, stopping at CountCap.
func (s *Service) count(ctx context.Context, f *filter, userID int64) (int, bool, error) {
	if s.db.Dialect == store.SQLite && len(f.searchWords) > 0 && f.searchHits == nil && f.onlySearch() {
		// More than searchListMax > CountCap of the user's calls match and
		// nothing else narrows them: counting again would only confirm it.
		return CountCap, false, nil
	}
	a := &sqlArgs{}
	where := f.where(a, s.db.Dialect, userID)
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
