package calls

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"callboard/internal/apperr"
	"callboard/internal/store"
)

// MaxBatch is the most calls one ingest request may carry.
const MaxBatch = 1000

// Field limits of an ingested call.
const (
	maxExternalIDLen   = 128
	maxNumberLen       = 64
	maxAgentNameLen    = 150
	maxVoiceLen        = 100
	maxEndReasonLen    = 64
	maxSummaryLen      = 10_000  // characters
	maxTranscriptLen   = 200_000 // characters
	maxRecordingURLLen = 2048
	maxDurationSeconds = 7 * 24 * 3600
)

// Money is an amount in integer minor units of an ISO 4217 currency.
type Money struct {
	Amount   int64  `json:"amount" doc:"Minor units (cents, paisa); not negative."`
	Currency string `json:"currency" doc:"ISO 4217 code, like USD or PKR."`
}

// IngestAgent names the agent that handled a call.
type IngestAgent struct {
	ExternalID string  `json:"external_id,omitempty" doc:"Required. The platform's agent id; agents are created per user on first sight."`
	Name       *string `json:"name,omitempty" nullable:"true" doc:"Display name; updates the agent when it differs."`
	Voice      *string `json:"voice,omitempty" nullable:"true" doc:"Voice name; updates the agent when it differs."`
}

// IngestCall is one call as the platform reports it. Field values are
// checked one call at a time (a bad call is reported by index and does not
// block the others), so the schema only fixes their types.
type IngestCall struct {
	ExternalID      string       `json:"external_id,omitempty" doc:"Required. The platform's call id (1–128 characters): calls are created or updated by it."`
	UserID          *int64       `json:"user_id,omitempty" nullable:"true" doc:"The customer, by id. Give user_id or user_email."`
	UserEmail       *string      `json:"user_email,omitempty" nullable:"true" doc:"The customer, by email."`
	Agent           *IngestAgent `json:"agent,omitempty"`
	Direction       *string      `json:"direction,omitempty" nullable:"true" doc:"inbound or outbound; required when the call is new."`
	FromNumber      *string      `json:"from_number,omitempty" nullable:"true" doc:"Required when the call is new."`
	ToNumber        *string      `json:"to_number,omitempty" nullable:"true" doc:"Required when the call is new."`
	Status          string       `json:"status,omitempty" doc:"Required: queued, ringing, in-progress, completed, busy, failed, no-answer or canceled. Statuses only move forward; finished ones are final."`
	StartedAt       *string      `json:"started_at,omitempty" nullable:"true" doc:"RFC 3339 time; required when the call is new."`
	AnsweredAt      *string      `json:"answered_at,omitempty" nullable:"true" doc:"RFC 3339 time, not before started_at."`
	EndedAt         *string      `json:"ended_at,omitempty" nullable:"true" doc:"RFC 3339 time, not before started_at or answered_at."`
	DurationSeconds *int         `json:"duration_seconds,omitempty" nullable:"true" doc:"Not negative."`
	Satisfaction    *int         `json:"satisfaction,omitempty" nullable:"true" doc:"1–5."`
	Sentiment       *string      `json:"sentiment,omitempty" nullable:"true" doc:"positive, neutral or negative."`
	EndReason       *string      `json:"end_reason,omitempty" nullable:"true" doc:"Why the call ended: customer-ended, agent-ended, no-answer, busy, voicemail, error, transferred, timeout; others are kept as given."`
	Cost            *Money       `json:"cost,omitempty"`
	Summary         *string      `json:"summary,omitempty" nullable:"true" doc:"At most 10,000 characters."`
	Transcript      *string      `json:"transcript,omitempty" nullable:"true" doc:"At most 200,000 characters."`
	RecordingURL    *string      `json:"recording_url,omitempty" nullable:"true" doc:"Absolute http(s) URL."`
}

// Ingest outcomes of one call.
const (
	ResultCreated   = "created"
	ResultUpdated   = "updated"
	ResultUnchanged = "unchanged"
	ResultError     = "error"
)

// FieldProblem is one bad field of one ingested call.
type FieldProblem struct {
	Location string `json:"location" doc:"Like body.calls[3].status."`
	Message  string `json:"message"`
}

// IngestResult is what happened to one call of a batch.
type IngestResult struct {
	Index      int            `json:"index" doc:"Position of the call in the request."`
	ExternalID string         `json:"external_id"`
	ID         *int64         `json:"id" doc:"Callboard's id of the call; null on error."`
	Status     string         `json:"status" enum:"created,updated,unchanged,error"`
	Errors     []FieldProblem `json:"errors,omitempty"`
}

// IngestSummary is the answer to a batch: counts and one result per call.
type IngestSummary struct {
	Created   int            `json:"created"`
	Updated   int            `json:"updated"`
	Unchanged int            `json:"unchanged"`
	Failed    int            `json:"failed"`
	Results   []IngestResult `json:"results"`
}

// Ingest creates or updates calls by external id, in one transaction. The
// merge rules:
//
//   - A call is new when its external_id is unknown; then user, direction,
//     both numbers, status and started_at are required.
//   - The status only moves forward (queued < ringing < in-progress <
//     finished); finished statuses are final.
//   - A report whose status is at least as far as the stored one (a higher
//     rank, or the same status) overwrites every field it carries. A stale
//     report (lower rank, or another finished status) only fills fields still
//     empty, so a late "ringing" never undoes anything but a summary sent
//     after completion still lands.
//   - Fields a report leaves out (or sends as null) are never erased.
//   - Sending the same report again changes nothing ("unchanged").
//
// A call that fails its checks is reported by index and skipped; the others
// are stored. Errors: only internal ones (the batch is then not stored).
func (s *Service) Ingest(ctx context.Context, batch []IngestCall) (IngestSummary, error) {
	if len(batch) == 0 || len(batch) > MaxBatch {
		return IngestSummary{}, apperr.Invalid("body.calls", fmt.Sprintf("must hold 1 to %d calls", MaxBatch))
	}
	now := s.now()
	in := make([]parsedCall, len(batch))
	var words wordSet
	for i := range batch {
		in[i] = parseIngest(i, &batch[i], &words)
	}
	sum := IngestSummary{Results: make([]IngestResult, len(batch))}
	var events []CallEvent
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		events = events[:0]
		b, err := s.newBatch(ctx, tx, in, now)
		if err != nil {
			return err
		}
		defer b.close()
		for i := range in {
			res, ev, err := b.apply(ctx, &in[i])
			if err != nil {
				return err
			}
			sum.Results[i] = res
			if ev != nil {
				events = append(events, *ev)
			}
		}
		if err := b.writeSearch(ctx); err != nil {
			return err
		}
		if bo, ok := s.observer.(TxBatchObserver); ok && len(b.changes) > 0 {
			if err := bo.CallsChangedTx(ctx, tx, b.changes); err != nil {
				return fmt.Errorf("calls observer: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return IngestSummary{}, err
	}
	for _, r := range sum.Results {
		switch r.Status {
		case ResultCreated:
			sum.Created++
		case ResultUpdated:
			sum.Updated++
		case ResultUnchanged:
			sum.Unchanged++
		default:
			sum.Failed++
		}
	}
	if s.publisher != nil && len(events) > 0 {
		s.publisher.CallsChanged(ctx, events)
	}
	return sum, nil
}

// parsedCall is an IngestCall with its values checked and typed. A nil
// pointer means "not given".
type parsedCall struct {
	index      int
	externalID string
	userID     int64
	userEmail  string
	agent      *IngestAgent
	direction  *string
	fromNumber *string
	toNumber   *string
	status     Status
	startedAt  *time.Time
	answeredAt *time.Time
	endedAt    *time.Time
	duration   *int
	satisfy    *int
	sentiment  *string
	endReason  *string
	cost       *Money
	summary    *string
	transcript *string
	recording  *string
	problems   []FieldProblem
	// The summary and transcript reduced for SQLite's full-text index,
	// computed before the write transaction (see distinctWords).
	searchSummary, searchTranscript string
}

func (p *parsedCall) fail(field, message string) {
	p.problems = append(p.problems, FieldProblem{
		Location: "body.calls[" + strconv.Itoa(p.index) + "]." + field, Message: message})
}

// parseIngest checks each field of one call on its own; the checks that
// need the stored call come later, in apply.
func parseIngest(i int, c *IngestCall, words *wordSet) parsedCall {
	p := parsedCall{index: i, externalID: strings.TrimSpace(c.ExternalID), status: Status(c.Status)}
	if n := utf8.RuneCountInString(p.externalID); n == 0 || n > maxExternalIDLen {
		p.fail("external_id", fmt.Sprintf("is required, 1 to %d characters", maxExternalIDLen))
	}
	switch {
	case c.UserID != nil && c.UserEmail != nil:
		p.fail("user_id", "give user_id or user_email, not both")
	case c.UserID != nil:
		if *c.UserID <= 0 {
			p.fail("user_id", "must be a positive user id")
		}
		p.userID = *c.UserID
	case c.UserEmail != nil:
		p.userEmail = strings.ToLower(strings.TrimSpace(*c.UserEmail))
		if p.userEmail == "" || len(p.userEmail) > 254 {
			p.fail("user_email", "must be the user's email address")
		}
	default:
		p.fail("user_id", "give user_id or user_email")
	}
	if !p.status.Valid() {
		p.fail("status", "must be one of "+joinStatuses(statuses))
	}
	if c.Agent != nil {
		a := *c.Agent
		a.ExternalID = strings.TrimSpace(a.ExternalID)
		if n := utf8.RuneCountInString(a.ExternalID); n == 0 || n > maxExternalIDLen {
			p.fail("agent.external_id", fmt.Sprintf("is required, 1 to %d characters", maxExternalIDLen))
		}
		if a.Name != nil {
			name := strings.TrimSpace(*a.Name)
			if n := utf8.RuneCountInString(name); n == 0 || n > maxAgentNameLen {
				p.fail("agent.name", fmt.Sprintf("must be 1 to %d characters", maxAgentNameLen))
			}
			a.Name = &name
		}
		if a.Voice != nil {
			voice := strings.TrimSpace(*a.Voice)
			if utf8.RuneCountInString(voice) > maxVoiceLen {
				p.fail("agent.voice", fmt.Sprintf("must be at most %d characters", maxVoiceLen))
			}
			a.Voice = &voice
		}
		p.agent = &a
	}
	if c.Direction != nil {
		if !slices.Contains(directions, *c.Direction) {
			p.fail("direction", "must be inbound or outbound")
		}
		p.direction = c.Direction
	}
	p.fromNumber = p.number("from_number", c.FromNumber)
	p.toNumber = p.number("to_number", c.ToNumber)
	p.startedAt = p.time("started_at", c.StartedAt)
	p.answeredAt = p.time("answered_at", c.AnsweredAt)
	p.endedAt = p.time("ended_at", c.EndedAt)
	if c.DurationSeconds != nil {
		if *c.DurationSeconds < 0 || *c.DurationSeconds > maxDurationSeconds {
			p.fail("duration_seconds", fmt.Sprintf("must be 0 to %d seconds", maxDurationSeconds))
		}
		p.duration = c.DurationSeconds
	}
	if c.Satisfaction != nil {
		if *c.Satisfaction < 1 || *c.Satisfaction > 5 {
			p.fail("satisfaction", "must be 1 to 5")
		}
		p.satisfy = c.Satisfaction
	}
	if c.Sentiment != nil {
		if !slices.Contains(sentiments, *c.Sentiment) {
			p.fail("sentiment", "must be positive, neutral or negative")
		}
		p.sentiment = c.Sentiment
	}
	if c.EndReason != nil {
		r := strings.TrimSpace(*c.EndReason)
		if n := utf8.RuneCountInString(r); n == 0 || n > maxEndReasonLen {
			p.fail("end_reason", fmt.Sprintf("must be 1 to %d characters", maxEndReasonLen))
		}
		p.endReason = &r
	}
	if c.Cost != nil {
		if c.Cost.Amount < 0 {
			p.fail("cost.amount", "must not be negative")
		}
		if !isCurrencyCode(c.Cost.Currency) {
			p.fail("cost.currency", "must be an ISO 4217 code like USD or PKR")
		}
		p.cost = c.Cost
	}
	p.summary = p.text("summary", c.Summary, maxSummaryLen)
	p.transcript = p.text("transcript", c.Transcript, maxTranscriptLen)
	if p.summary != nil {
		p.searchSummary = words.distinct(*p.summary)
	}
	if p.transcript != nil {
		p.searchTranscript = words.distinct(*p.transcript)
	}
	if c.RecordingURL != nil {
		u, err := url.Parse(*c.RecordingURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(*c.RecordingURL) > maxRecordingURLLen {
			p.fail("recording_url", "must be an absolute http(s) URL")
		}
		p.recording = c.RecordingURL
	}
	return p
}

func (p *parsedCall) number(field string, v *string) *string {
	if v == nil {
		return nil
	}
	n := strings.TrimSpace(*v)
	if l := utf8.RuneCountInString(n); l == 0 || l > maxNumberLen {
		p.fail(field, fmt.Sprintf("must be 1 to %d characters", maxNumberLen))
	}
	return &n
}

func (p *parsedCall) time(field string, v *string) *time.Time {
	if v == nil {
		return nil
	}
	t, err := time.Parse(time.RFC3339Nano, *v)
	if err != nil {
		p.fail(field, "must be an RFC 3339 time like 2025-01-31T14:05:00Z")
		return nil
	}
	t = t.UTC().Truncate(time.Millisecond)
	return &t
}

func (p *parsedCall) text(field string, v *string, limit int) *string {
	if v == nil {
		return nil
	}
	if !utf8.ValidString(*v) || utf8.RuneCountInString(*v) > limit {
		p.fail(field, fmt.Sprintf("must be valid text of at most %d characters", limit))
	}
	return v
}

func isCurrencyCode(s string) bool {
	if len(s) != 3 {
		return false
	}
	for _, c := range s {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}

func joinStatuses(list []Status) string {
	parts := make([]string, len(list))
	for i, s := range list {
		parts[i] = string(s)
	}
	return strings.Join(parts, ", ")
}

// batch is the state of one ingest transaction: the users, calls and agents
// the batch names, loaded with one query each, and prepared statements.
type batch struct {
	s            *Service
	tx           *sql.Tx
	now          time.Time
	usersByID    map[int64]bool
	usersByEmail map[string]int64
	calls        map[string]*Call // by external id; updated as the batch goes
	agents       map[agentKey]*agentRow
	stmts        map[string]*sql.Stmt
	// SQLite's search index changes, written at the end (see writeSearch).
	searchDeletes []int64
	searchRows    [][4]any      // rowid, numbers, summary, transcript
	searchPending map[int64]int // rowid → index in searchRows
	changes       []CallChange  // for a TxBatchObserver
}

type agentKey struct {
	userID     int64
	externalID string
}

type agentRow struct {
	id    int64
	name  string
	voice string
}

func (s *Service) newBatch(ctx context.Context, tx *sql.Tx, in []parsedCall, now time.Time) (*batch, error) {
	b := &batch{s: s, tx: tx, now: now, calls: map[string]*Call{}, agents: map[agentKey]*agentRow{}, stmts: map[string]*sql.Stmt{}, searchPending: map[int64]int{}}
	var ids []int64
	var emails, externals, agentExternals []string
	for i := range in {
		p := &in[i]
		if len(p.problems) > 0 {
			continue
		}
		if p.userID != 0 {
			ids = append(ids, p.userID)
		} else {
			emails = append(emails, p.userEmail)
		}
		externals = append(externals, p.externalID)
		if p.agent != nil {
			agentExternals = append(agentExternals, p.agent.ExternalID)
		}
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	slices.Sort(emails)
	emails = slices.Compact(emails)
	slices.Sort(agentExternals)
	agentExternals = slices.Compact(agentExternals)
	var err error
	if b.usersByID, b.usersByEmail, err = s.accounts.ResolveUsersTx(ctx, tx, ids, emails); err != nil {
		return nil, err
	}
	if len(externals) > 0 {
		in, arg := store.InList(s.db.Dialect, 1, externals)
		rows, err := tx.QueryContext(ctx, `SELECT `+callColumns+` FROM calls c WHERE c.external_id `+in, arg)
		if err := store.EachRow(rows, err, func(r *sql.Rows) error {
			c, err := scanCall(r)
			if err != nil {
				return err
			}
			b.calls[c.ExternalID] = c
			return nil
		}); err != nil {
			return nil, fmt.Errorf("load calls: %w", err)
		}
	}
	if len(agentExternals) > 0 {
		// The batch's agents by external id only (agents of other users with
		// the same external id come along and are told apart by user below).
		in, arg := store.InList(s.db.Dialect, 1, agentExternals)
		rows, err := tx.QueryContext(ctx, `SELECT id, user_id, external_id, name, voice FROM agents WHERE external_id `+in, arg)
		if err := store.EachRow(rows, err, func(r *sql.Rows) error {
			var k agentKey
			a := &agentRow{}
			if err := r.Scan(&a.id, &k.userID, &k.externalID, &a.name, &a.voice); err != nil {
				return err
			}
			b.agents[k] = a
			return nil
		}); err != nil {
			return nil, fmt.Errorf("load agents: %w", err)
		}
	}
	return b, nil
}

// stmt prepares query once per batch.
func (b *batch) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := b.stmts[query]; ok {
		return st, nil
	}
	st, err := b.tx.PrepareContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("prepare: %w", err)
	}
	b.stmts[query] = st
	return st, nil
}

func (b *batch) close() {
	for _, st := range b.stmts {
		st.Close()
	}
}

// apply checks and stores one call. The error is internal only; bad input
// is in the result.
func (b *batch) apply(ctx context.Context, p *parsedCall) (IngestResult, *CallEvent, error) {
	res := IngestResult{Index: p.index, ExternalID: p.externalID, Status: ResultError}
	userID := p.userID
	if len(p.problems) == 0 {
		if p.userID != 0 && !b.usersByID[p.userID] {
			p.fail("user_id", "no such user")
		} else if p.userID == 0 {
			if id, ok := b.usersByEmail[p.userEmail]; ok {
				userID = id
			} else {
				p.fail("user_email", "no such user")
			}
		}
	}
	if len(p.problems) > 0 {
		res.Errors = p.problems
		return res, nil, nil
	}
	old := b.calls[p.externalID]
	if old != nil && old.UserID != userID {
		p.fail("external_id", "belongs to a call of another user")
		res.Errors = p.problems
		return res, nil, nil
	}
	next, useAgent := merge(old, p, userID, b.now)
	if old == nil {
		if p.direction == nil {
			p.fail("direction", "is required for a new call")
		}
		if p.fromNumber == nil {
			p.fail("from_number", "is required for a new call")
		}
		if p.toNumber == nil {
			p.fail("to_number", "is required for a new call")
		}
		if p.startedAt == nil {
			p.fail("started_at", "is required for a new call")
		}
	}
	if len(p.problems) == 0 {
		if next.AnsweredAt != nil && next.AnsweredAt.Before(next.StartedAt) {
			p.fail("answered_at", "must not be before started_at")
		}
		if next.EndedAt != nil && next.EndedAt.Before(next.StartedAt) {
			p.fail("ended_at", "must not be before started_at")
		}
		if next.EndedAt != nil && next.AnsweredAt != nil && next.EndedAt.Before(*next.AnsweredAt) {
			p.fail("ended_at", "must not be before answered_at")
		}
	}
	if len(p.problems) > 0 {
		res.Errors = p.problems
		return res, nil, nil
	}
	if p.agent != nil {
		id, err := b.upsertAgent(ctx, userID, p.agent)
		if err != nil {
			return res, nil, err
		}
		if useAgent {
			next.AgentID = &id
		}
	}
	if old != nil && sameCall(old, &next) {
		res.Status, res.ID = ResultUnchanged, &old.ID
		return res, nil, nil
	}
	if err := b.write(ctx, p, old, &next); err != nil {
		return res, nil, err
	}
	stored := next
	if _, ok := b.s.observer.(TxBatchObserver); ok {
		b.changes = append(b.changes, CallChange{Before: old, After: &stored})
	} else if b.s.observer != nil {
		if err := b.s.observer.CallChanged(ctx, b.tx, old, &stored); err != nil {
			return res, nil, fmt.Errorf("call observer: %w", err)
		}
	}
	b.calls[p.externalID] = &stored
	ev := &CallEvent{CallID: next.ID, UserID: userID, ExternalID: next.ExternalID, Created: old == nil, Status: next.Status, At: b.now}
	res.Status, res.ID = ResultCreated, &stored.ID
	if old != nil {
		res.Status, ev.PreviousStatus = ResultUpdated, old.Status
	}
	return res, ev, nil
}

// merge applies report p to the stored call old (nil when new) by the rules
// in Ingest's contract. useAgent says whether the report's agent (if any)
// becomes the call's agent.
func merge(old *Call, p *parsedCall, userID int64, now time.Time) (next Call, useAgent bool) {
	fresh := true
	if old != nil {
		next = *old
		fresh = p.status.rank() > old.Status.rank() || p.status == old.Status
		if p.status.rank() > old.Status.rank() {
			next.Status = p.status
		}
	} else {
		next = Call{UserID: userID, ExternalID: p.externalID, Status: p.status, CreatedAt: now}
	}
	str := func(dst *string, v *string) {
		if v != nil && (fresh || *dst == "") {
			*dst = *v
		}
	}
	tm := func(dst **time.Time, v *time.Time) {
		if v != nil && (fresh || *dst == nil) {
			t := *v
			*dst = &t
		}
	}
	num := func(dst *int, v *int) {
		if v != nil && (fresh || *dst == 0) {
			*dst = *v
		}
	}
	str(&next.Direction, p.direction)
	str(&next.FromNumber, p.fromNumber)
	str(&next.ToNumber, p.toNumber)
	if p.startedAt != nil && (fresh || next.StartedAt.IsZero()) {
		next.StartedAt = *p.startedAt
	}
	tm(&next.AnsweredAt, p.answeredAt)
	tm(&next.EndedAt, p.endedAt)
	num(&next.DurationSeconds, p.duration)
	num(&next.Satisfaction, p.satisfy)
	str(&next.Sentiment, p.sentiment)
	str(&next.EndReason, p.endReason)
	if p.cost != nil && (fresh || next.CostAmount == nil) {
		amount := p.cost.Amount
		next.CostAmount, next.CostCurrency = &amount, p.cost.Currency
	}
	str(&next.Summary, p.summary)
	str(&next.Transcript, p.transcript)
	str(&next.RecordingURL, p.recording)
	useAgent = p.agent != nil && (fresh || next.AgentID == nil)
	next.UpdatedAt = now
	return next, useAgent
}

// sameCall reports whether a and b store the same values (ignoring when
// they were stored).
func sameCall(a, b *Call) bool {
	eqTime := func(x, y *time.Time) bool { return (x == nil) == (y == nil) && (x == nil || x.Equal(*y)) }
	eqInt := func(x, y *int64) bool { return (x == nil) == (y == nil) && (x == nil || *x == *y) }
	return eqInt(a.AgentID, b.AgentID) && a.Direction == b.Direction && a.FromNumber == b.FromNumber &&
		a.ToNumber == b.ToNumber && a.Status == b.Status && a.StartedAt.Equal(b.StartedAt) &&
		eqTime(a.AnsweredAt, b.AnsweredAt) && eqTime(a.EndedAt, b.EndedAt) &&
		a.DurationSeconds == b.DurationSeconds && a.Satisfaction == b.Satisfaction &&
		a.Sentiment == b.Sentiment && a.EndReason == b.EndReason && eqInt(a.CostAmount, b.CostAmount) &&
		a.CostCurrency == b.CostCurrency && a.RecordingURL == b.RecordingURL &&
		a.Summary == b.Summary && a.Transcript == b.Transcript
}

func (b *batch) upsertAgent(ctx context.Context, userID int64, in *IngestAgent) (int64, error) {
	k := agentKey{userID, in.ExternalID}
	a, ok := b.agents[k]
	if !ok {
		a = &agentRow{name: in.ExternalID}
		if in.Name != nil {
			a.name = *in.Name
		}
		if in.Voice != nil {
			a.voice = *in.Voice
		}
		st, err := b.stmt(ctx, `INSERT INTO agents (user_id, external_id, name, voice, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5) RETURNING id`)
		if err != nil {
			return 0, err
		}
		if err := st.QueryRowContext(ctx, userID, in.ExternalID, a.name, a.voice, store.Millis(b.now)).Scan(&a.id); err != nil {
			return 0, fmt.Errorf("insert agent: %w", err)
		}
		b.agents[k] = a
		return a.id, nil
	}
	name, voice := a.name, a.voice
	if in.Name != nil {
		name = *in.Name
	}
	if in.Voice != nil {
		voice = *in.Voice
	}
	if name == a.name && voice == a.voice {
		return a.id, nil
	}
	st, err := b.stmt(ctx, `UPDATE agents SET name = $2, voice = $3, updated_at = $4 WHERE id = $1`)
	if err != nil {
		return 0, err
	}
	if _, err := st.ExecContext(ctx, a.id, name, voice, store.Millis(b.now)); err != nil {
		return 0, fmt.Errorf("update agent: %w", err)
	}
	a.name, a.voice = name, voice
	return a.id, nil
}

// The statements that insert a call. PostgreSQL also stores the search
// vector; SQLite goes without RETURNING, as Exec and LastInsertId cost less
// per row there.
var (
	insertCallSQLite = `INSERT INTO calls (user_id, agent_id, external_id, direction, from_number, to_number, status,
		started_at, answered_at, ended_at, duration_seconds, satisfaction, sentiment, end_reason, cost_amount,
		cost_currency, recording_url, created_at, updated_at, summary, transcript) VALUES (` + placeholders(1, 21) + `)`
	insertCallPostgres = `INSERT INTO calls (user_id, agent_id, external_id, direction, from_number, to_number, status,
		started_at, answered_at, ended_at, duration_seconds, satisfaction, sentiment, end_reason, cost_amount,
		cost_currency, recording_url, created_at, updated_at, summary, transcript, search_vector)
		VALUES (` + placeholders(1, 21) + `, to_tsvector('simple', $22)) RETURNING id`
)

// write stores next, merged from report p: an insert when old is nil, else
// an update; the search index is rewritten only when the searched text
// changed.
func (b *batch) write(ctx context.Context, p *parsedCall, old, next *Call) error {
	pg := b.s.db.Dialect == store.Postgres
	args := []any{next.UserID, nullInt(next.AgentID), next.ExternalID, next.Direction, next.FromNumber, next.ToNumber,
		string(next.Status), store.Millis(next.StartedAt), nullTime(next.AnsweredAt), nullTime(next.EndedAt),
		next.DurationSeconds, next.Satisfaction, nullString(next.Sentiment), nullString(next.EndReason),
		nullInt(next.CostAmount), nullString(next.CostCurrency), nullString(next.RecordingURL),
		store.Millis(next.CreatedAt), store.Millis(next.UpdatedAt), next.Summary, next.Transcript}
	textChanged := old == nil || old.FromNumber != next.FromNumber || old.ToNumber != next.ToNumber ||
		old.Summary != next.Summary || old.Transcript != next.Transcript
	if old == nil {
		q := insertCallSQLite
		if pg {
			q = insertCallPostgres
			args = append(args, searchText(next))
		}
		st, err := b.stmt(ctx, q)
		if err != nil {
			return err
		}
		if pg {
			if err := st.QueryRowContext(ctx, args...).Scan(&next.ID); err != nil {
				return fmt.Errorf("insert call: %w", err)
			}
		} else {
			res, err := st.ExecContext(ctx, args...)
			if err != nil {
				return fmt.Errorf("insert call: %w", err)
			}
			if next.ID, err = res.LastInsertId(); err != nil {
				return fmt.Errorf("insert call: %w", err)
			}
		}
	} else {
		next.ID = old.ID
		// Every argument of the insert is used, so both statements share
		// one argument list (PostgreSQL must see each parameter to type it);
		// the extra conditions hold for the stored row anyway.
		st, err := b.stmt(ctx, `UPDATE calls SET agent_id = $2, direction = $4, from_number = $5, to_number = $6,
			status = $7, started_at = $8, answered_at = $9, ended_at = $10, duration_seconds = $11, satisfaction = $12,
			sentiment = $13, end_reason = $14, cost_amount = $15, cost_currency = $16, recording_url = $17,
			updated_at = $19, summary = $20, transcript = $21 WHERE id = $22 AND user_id = $1 AND external_id = $3 AND created_at = $18`)
		if err != nil {
			return err
		}
		if _, err := st.ExecContext(ctx, append(args, next.ID)...); err != nil {
			return fmt.Errorf("update call: %w", err)
		}
		if pg && textChanged {
			st, err := b.stmt(ctx, `UPDATE calls SET search_vector = to_tsvector('simple', $2) WHERE id = $1`)
			if err != nil {
				return err
			}
			if _, err := st.ExecContext(ctx, next.ID, searchText(next)); err != nil {
				return fmt.Errorf("update search vector: %w", err)
			}
		}
	}
	if pg || !textChanged {
		return nil
	}
	row := [4]any{next.ID, ownerTerm(next.UserID) + " " + numberTerms(next.FromNumber, next.ToNumber),
		searchableText(next.Summary, p.summary, p.searchSummary), searchableText(next.Transcript, p.transcript, p.searchTranscript)}
	if i, ok := b.searchPending[next.ID]; ok {
		// Changed again in this batch: the pending row is replaced (and, if
		// the call was indexed before the batch, its delete is queued).
		b.searchRows[i] = row
		return nil
	}
	if old != nil {
		b.searchDeletes = append(b.searchDeletes, next.ID)
	}
	b.searchPending[next.ID] = len(b.searchRows)
	b.searchRows = append(b.searchRows, row)
	return nil
}

// writeSearch updates SQLite's full-text index for the batch with two
// statements at its end. FTS5 flushes its pending terms into a new segment
// whenever another statement opens a savepoint, so writing the index row by
// row, between the calls' own statements, would make one tiny segment per
// call and spend most of the batch merging them.
func (b *batch) writeSearch(ctx context.Context) error {
	if len(b.searchDeletes) > 0 {
		ids := make([]any, len(b.searchDeletes))
		for i, id := range b.searchDeletes {
			ids[i] = id
		}
		if _, err := b.tx.ExecContext(ctx, `DELETE FROM calls_fts WHERE rowid IN (`+placeholders(1, len(ids))+`)`, ids...); err != nil {
			return fmt.Errorf("delete search rows: %w", err)
		}
	}
	if len(b.searchRows) == 0 {
		return nil
	}
	rows, err := json.Marshal(b.searchRows)
	if err != nil {
		return fmt.Errorf("encode search rows: %w", err)
	}
	_, err = b.tx.ExecContext(ctx, `INSERT INTO calls_fts (rowid, numbers, summary, transcript)
		SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3 FROM json_each($1)`, string(rows))
	if err != nil {
		return fmt.Errorf("insert search rows: %w", err)
	}
	return nil
}

// ownerTerm is the search term that SQLite's full-text index holds for the
// owner of every call, so a search is narrowed to the user's calls inside
// the index (the words AND the owner) instead of after it.
func ownerTerm(userID int64) string { return "cbowner" + strconv.FormatInt(userID, 10) }

// searchText is what PostgreSQL's search vector is made from.
func searchText(c *Call) string {
	return numberTerms(c.FromNumber, c.ToNumber) + "\n" + c.Summary + "\n" + c.Transcript
}

// numberTerms makes search terms of each number's digits: all of them and
// the last 10, 7 and 4, so a prefix query finds a number by its start, its
// national part (without country code), its local part or its last four
// digits: "4567" and "300123" both find +92 300 1234567. (Every suffix
// would find any part of it, but costs a term per digit in the index.)
func numberTerms(numbers ...string) string {
	var sb strings.Builder
	for _, n := range numbers {
		digits := onlyDigits(n)
		last := ""
		for _, keep := range []int{len(digits), 10, 7, 4} {
			if keep > len(digits) || keep <= 0 {
				continue
			}
			term := digits[len(digits)-keep:]
			if term == last {
				continue
			}
			sb.WriteString(term)
			sb.WriteByte(' ')
			last = term
		}
	}
	return sb.String()
}

// distinctWords is text for SQLite's full-text index with each word once.
// The index is built with detail=none: it records which calls hold a term,
// never how often or where, so a transcript's repeated words only cost
// tokenizing (a third of an ingest batch's full-text work). It splits only
// where the index's tokenizer (unicode61) splits too, at ASCII characters
// other than letters and digits, and folds only ASCII case, which the
// tokenizer folds the same way: the index ends up with the same terms.
func distinctWords(text string) string {
	var w wordSet
	return w.distinct(text)
}

// wordSet is distinctWords' memory, reused across the calls of a batch so
// that a transcript costs one allocation (its result), not a map each.
type wordSet struct {
	seen map[string]struct{}
}

func (w *wordSet) distinct(text string) string {
	if w.seen == nil {
		w.seen = make(map[string]struct{}, 256)
	}
	clear(w.seen)
	var out []byte
	start, lower := -1, false
	add := func(end int) {
		word := text[start:end] // a substring: no copy
		if lower {
			word = asciiLower(word)
		}
		if _, ok := w.seen[word]; ok {
			return
		}
		w.seen[word] = struct{}{}
		if out == nil {
			out = make([]byte, 0, len(text)/2)
		} else {
			out = append(out, ' ')
		}
		out = append(out, word...)
	}
	for i := 0; i < len(text); i++ {
		c := text[i]
		isWord := c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c >= 0x80 || c >= 'A' && c <= 'Z'
		switch {
		case isWord && start < 0:
			start, lower = i, c >= 'A' && c <= 'Z'
		case isWord:
			lower = lower || c >= 'A' && c <= 'Z'
		case start >= 0:
			add(i)
			start = -1
		}
	}
	if start >= 0 {
		add(len(text))
	}
	return string(out)
}

// asciiLower folds A-Z only: other letters are left for the tokenizer,
// whose case folding may differ from Go's.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + ('a' - 'A')
		}
	}
	return string(b)
}

// searchableText is distinctWords(stored), taken from the report's own
// reduced text when the stored text is the report's (the usual case).
func searchableText(stored string, reported *string, reduced string) string {
	if reported != nil && *reported == stored {
		return reduced
	}
	return distinctWords(stored)
}

func onlyDigits(s string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			b = append(b, s[i])
		}
	}
	return string(b)
}

// placeholders returns "$from, …, $(from+n-1)".
func placeholders(from, n int) string {
	var sb strings.Builder
	for i := range n {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteByte('$')
		sb.WriteString(strconv.Itoa(from + i))
	}
	return sb.String()
}

func nullInt(v *int64) any {
	if v == nil {
		return nil
	}
	return *v
}

func nullTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return store.Millis(*t)
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}
