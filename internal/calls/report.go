package calls

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"callboard/internal/phone"
	"callboard/internal/plaintext"
	"callboard/internal/searchtext"
)

// MaxBatch is the most calls one ingest request may carry.
const MaxBatch = 1000

// Field limits of an ingested call.
const (
	maxExternalIDLen   = 128
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
	// noAmount is set when a decoded report's cost has no amount (which
	// int64 alone cannot tell from 0): such a cost is refused.
	noAmount bool
}

// UnmarshalJSON decodes a cost strictly (unknown fields are refused) and
// notes a missing amount.
func (m *Money) UnmarshalJSON(b []byte) error {
	var in struct {
		Amount   *int64 `json:"amount"`
		Currency string `json:"currency"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return err
	}
	*m = Money{Currency: in.Currency, noAmount: in.Amount == nil}
	if in.Amount != nil {
		m.Amount = *in.Amount
	}
	return nil
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
	UserEmail       *string      `json:"user_email,omitempty" nullable:"true" doc:"The customer, by email: only an account that verified this address receives the call; for one that has not, the call is refused with that reason (user_id routing is unaffected)."`
	Agent           *IngestAgent `json:"agent,omitempty" doc:"null is the same as leaving it out: the stored agent stays."`
	Direction       *string      `json:"direction,omitempty" nullable:"true" doc:"inbound or outbound; required when the call is new."`
	FromNumber      *string      `json:"from_number,omitempty" nullable:"true" doc:"Required when the call is new. A phone number, stored in E.164: international (+92 300 1234567; spaces, dashes, dots, brackets and a leading 00 are fine) or national, read as Pakistani; or, when there is no number, anonymous, unknown or a SIP URI (sip:alice@example.com). Anything else is refused for this call."`
	ToNumber        *string      `json:"to_number,omitempty" nullable:"true" doc:"Required when the call is new. Same forms as from_number."`
	Status          string       `json:"status,omitempty" doc:"Required: queued, ringing, in-progress, completed, busy, failed, no-answer or canceled. Statuses only move forward; finished ones are final."`
	StartedAt       *string      `json:"started_at,omitempty" nullable:"true" doc:"RFC 3339 time; required when the call is new."`
	AnsweredAt      *string      `json:"answered_at,omitempty" nullable:"true" doc:"RFC 3339 time, not before started_at."`
	EndedAt         *string      `json:"ended_at,omitempty" nullable:"true" doc:"RFC 3339 time, not before started_at or answered_at."`
	DurationSeconds *int         `json:"duration_seconds,omitempty" nullable:"true" doc:"Not negative."`
	Satisfaction    *int         `json:"satisfaction,omitempty" nullable:"true" doc:"1–5."`
	Sentiment       *string      `json:"sentiment,omitempty" nullable:"true" doc:"positive, neutral or negative."`
	EndReason       *string      `json:"end_reason,omitempty" nullable:"true" doc:"Why the call ended: customer-ended, agent-ended, no-answer, busy, voicemail, error, transferred, timeout; others are kept as given."`
	Cost            *Money       `json:"cost,omitempty" doc:"Both amount and currency. null is the same as leaving it out: the stored cost stays."`
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
	// Location is the field within its call ("status", "cost.amount");
	// the HTTP answer gives it in full, like body.calls[3].status.
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
	// parsed is how many problems parseIngest found: those found later,
	// against the stored call, are dropped when the transaction is retried.
	parsed int
	// The summary and transcript reduced to their distinct words for
	// SQLite's full-text index (searchtext.Distinct), before the write
	// transaction.
	searchSummary, searchTranscript string
}

func (p *parsedCall) fail(field, message string) {
	p.problems = append(p.problems, FieldProblem{Location: field, Message: message})
}

// parseIngest checks each field of one call on its own; the checks that
// need the stored call come later, in apply.
func parseIngest(i int, c *IngestCall, words *searchtext.Reducer) parsedCall {
	p := parsedCall{index: i, status: Status(c.Status)}
	p.externalID = p.line("external_id", c.ExternalID, 1, maxExternalIDLen, fmt.Sprintf("is required, 1 to %d characters", maxExternalIDLen))
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
		} else {
			p.checkText("user_email", p.userEmail)
		}
	default:
		p.fail("user_id", "give user_id or user_email")
	}
	if !p.status.Valid() {
		p.fail("status", "must be one of "+joinStatuses(statuses))
	}
	if c.Agent != nil {
		a := *c.Agent
		a.ExternalID = p.line("agent.external_id", a.ExternalID, 1, maxExternalIDLen, fmt.Sprintf("is required, 1 to %d characters", maxExternalIDLen))
		if a.Name != nil {
			name := p.line("agent.name", *a.Name, 1, maxAgentNameLen, fmt.Sprintf("must be 1 to %d characters", maxAgentNameLen))
			a.Name = &name
		}
		if a.Voice != nil {
			voice := p.line("agent.voice", *a.Voice, 0, maxVoiceLen, fmt.Sprintf("must be at most %d characters", maxVoiceLen))
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
		r := p.line("end_reason", *c.EndReason, 1, maxEndReasonLen, fmt.Sprintf("must be 1 to %d characters", maxEndReasonLen))
		p.endReason = &r
	}
	if c.Cost != nil {
		if c.Cost.noAmount {
			p.fail("cost.amount", "is required with a cost")
		} else if c.Cost.Amount < 0 {
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
		p.searchSummary = words.Distinct(*p.summary)
	}
	if p.transcript != nil {
		p.searchTranscript = words.Distinct(*p.transcript)
	}
	if c.RecordingURL != nil {
		u, err := url.Parse(*c.RecordingURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(*c.RecordingURL) > maxRecordingURLLen {
			p.fail("recording_url", "must be an absolute http(s) URL")
		} else {
			p.checkText("recording_url", *c.RecordingURL)
		}
		p.recording = c.RecordingURL
	}
	p.parsed = len(p.problems)
	return p
}

// number checks a caller or callee (phone.CallParty) and keeps its
// canonical form.
func (p *parsedCall) number(field string, v *string) *string {
	if v == nil {
		return nil
	}
	n, ok := phone.CallParty(*v)
	if !ok {
		p.fail(field, "must be a phone number (like +923001234567), anonymous, unknown or a SIP URI (like sip:alice@example.com)")
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

// text checks a summary or transcript: lines of valid text, at most limit
// characters.
func (p *parsedCall) text(field string, v *string, limit int) *string {
	if v == nil {
		return nil
	}
	if msg := plaintext.ProblemMultiline(*v); msg != "" {
		p.fail(field, msg)
	} else if utf8.RuneCountInString(*v) > limit {
		p.fail(field, fmt.Sprintf("must be at most %d characters", limit))
	}
	return v
}

// line checks a one-line value and returns it trimmed: min to max
// characters (lengthProblem says so otherwise) of storable text (checkText).
func (p *parsedCall) line(field, v string, min, max int, lengthProblem string) string {
	v = strings.TrimSpace(v)
	if n := utf8.RuneCountInString(v); n < min || n > max {
		p.fail(field, lengthProblem)
	} else {
		p.checkText(field, v)
	}
	return v
}

// checkText refuses a one-line value that is not storable text: bytes that
// are not UTF-8 (the JSON decoder turned them into U+FFFD) or control
// characters such as NUL, which PostgreSQL cannot store.
func (p *parsedCall) checkText(field, v string) {
	if msg := plaintext.Problem(v); msg != "" {
		p.fail(field, msg)
	}
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
