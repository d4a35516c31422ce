package calls

import (
	"context"
	"database/sql"
	"fmt"

	"callboard/internal/store"
)

// Querier is a transaction or a pool: what the read functions below run on.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// EachCallForStats calls fn with every call of userID, in no order, read
// through q (a rebuild reads in its own transaction). Only the fields
// statistics use are set: UserID, StartedAt, AgentID, Status,
// DurationSeconds, Satisfaction. fn must not keep the *Call.
func EachCallForStats(ctx context.Context, q Querier, userID int64, fn func(*Call) error) error {
	rows, err := q.QueryContext(ctx, `SELECT started_at, agent_id, status, duration_seconds, satisfaction FROM calls WHERE user_id = $1`, userID)
	var c Call
	if err := store.EachRow(rows, err, func(r *sql.Rows) error {
		var started int64
		var agent sql.NullInt64
		c = Call{UserID: userID}
		if err := r.Scan(&started, &agent, &c.Status, &c.DurationSeconds, &c.Satisfaction); err != nil {
			return err
		}
		c.StartedAt = store.Time(started)
		if agent.Valid {
			id := agent.Int64
			c.AgentID = &id
		}
		return fn(&c)
	}); err != nil {
		return fmt.Errorf("read calls: %w", err)
	}
	return nil
}

// AgentName is how an agent is shown.
type AgentName struct {
	Name  string
	Voice string
}

// AgentNames returns the names and voices of userID's agents by id.
func AgentNames(ctx context.Context, q Querier, userID int64) (map[int64]AgentName, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, name, voice FROM agents WHERE user_id = $1`, userID)
	out := map[int64]AgentName{}
	if err := store.EachRow(rows, err, func(r *sql.Rows) error {
		var id int64
		var a AgentName
		if err := r.Scan(&id, &a.Name, &a.Voice); err != nil {
			return err
		}
		out[id] = a
		return nil
	}); err != nil {
		return nil, fmt.Errorf("read agents: %w", err)
	}
	return out, nil
}
