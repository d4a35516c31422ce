package calls

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"callboard/internal/store"
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

// queryViews runs a history query and scans its rows.
func (s *Service) queryViews(ctx context.Context, q string, args []any, withCalls func(*Call, CallView)) error {
	return queryViewsOn(ctx, s.db.Read(), q, args, withCalls)
}

func queryViewsOn(ctx context.Context, db Querier, q string, args []any, withCalls func(*Call, CallView)) error {
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
