package calls

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"callboard/internal/apperr"
	"callboard/internal/searchtext"
	"callboard/internal/store"
)

// Ingest creates or updates calls by external id, in one transaction, by
// the merge rules (merge.go, mergeRulesDoc):
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
// A call that fails its checks is reported by index, its problems named by
// field within the call ("status"), and skipped; the others are stored.
// Errors: Invalid at "calls" for an empty or oversized batch; otherwise only
// internal ones (the batch is then not stored).
func (s *Service) Ingest(ctx context.Context, batch []IngestCall) (IngestSummary, error) {
	if len(batch) == 0 || len(batch) > MaxBatch {
		return IngestSummary{}, apperr.Invalid("calls", fmt.Sprintf("must hold 1 to %d calls", MaxBatch))
	}
	now := s.now()
	in := make([]parsedCall, len(batch))
	var words searchtext.Reducer
	for i := range batch {
		in[i] = parseIngest(i, &batch[i], &words)
	}
	sum := IngestSummary{Results: make([]IngestResult, len(batch))}
	var events []CallEvent
	// The transaction is run again when it loses a deadlock or a conflict
	// to a concurrent one (store.TxRetry), so it starts from scratch each
	// time: only the checks of the report itself are kept.
	err := s.db.TxRetry(ctx, func(tx *sql.Tx) error {
		events = events[:0]
		for i := range in {
			in[i].problems = in[i].problems[:in[i].parsed]
		}
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
		if err := b.search.flush(ctx, b); err != nil {
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

// errUnverifiedEmail is why a call for an account that has not verified
// its address is refused: routing by an address nobody proved would hand a
// customer's calls to whoever registered the address first.
const errUnverifiedEmail = "the account with this email address has not verified it yet: calls are routed by email " +
	"only to verified addresses (route by user_id, or report the call again once the address is verified)"

// batch is the state of one ingest transaction: the users, calls and agents
// the batch names, loaded with one query each, and prepared statements.
type batch struct {
	s            *Service
	tx           *sql.Tx
	now          time.Time
	usersByID    map[int64]bool
	usersByEmail map[string]int64 // verified addresses only
	unverified   map[string]bool  // addresses of accounts that have not verified them
	calls        map[string]*Call // by external id; updated as the batch goes
	agents       map[agentKey]*agentRow
	stmts        map[string]*sql.Stmt
	search       searchBatch
	changes      []CallChange // for a TxBatchObserver
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
	b := &batch{s: s, tx: tx, now: now, calls: map[string]*Call{}, agents: map[agentKey]*agentRow{}, stmts: map[string]*sql.Stmt{}, search: s.search.batch()}
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
	if b.usersByID, b.usersByEmail, b.unverified, err = s.accounts.ResolveUsersTx(ctx, tx, ids, emails); err != nil {
		return nil, err
	}
	if len(externals) > 0 {
		in, arg := store.InList(s.db.Dialect, 1, externals)
		// Locked until commit, in one order for every batch: a concurrent
		// report of the same call waits and then merges into this one's.
		rows, err := tx.QueryContext(ctx, `SELECT `+callColumns+` FROM calls c WHERE c.external_id `+in+
			` ORDER BY c.external_id`+s.db.Dialect.ForUpdate(), arg)
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
		// Not locked: every report names its agent, so a lock would queue
		// all of an agent's concurrent reports. An UPDATE of a changed name
		// waits for a concurrent one and then applies, as in serial order.
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
			} else if b.unverified[p.userEmail] {
				p.fail("user_email", errUnverifiedEmail)
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
	checkMerged(old, p, &next)
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
	if err := b.write(ctx, p, old, &next); errors.Is(err, errCallExists) {
		// Another transaction created the call after this batch looked for
		// it: the report merges into that one, as if sent after it.
		if err := b.reload(ctx, p.externalID); err != nil {
			return res, nil, err
		}
		return b.apply(ctx, p)
	} else if err != nil {
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
		st, err := b.stmt(ctx, `INSERT INTO agents (user_id, external_id, name, voice, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)
			ON CONFLICT (user_id, external_id) DO NOTHING`+b.s.db.Dialect.ReturningID())
		if err != nil {
			return 0, err
		}
		id, inserted, err := b.s.db.Dialect.InsertIDIfNew(ctx, st, userID, in.ExternalID, a.name, a.voice, store.Millis(b.now))
		if err != nil {
			return 0, fmt.Errorf("insert agent: %w", err)
		}
		if inserted {
			a.id = id
			b.agents[k] = a
			return a.id, nil
		}
		// Another transaction created the agent meanwhile: update that one.
		a = &agentRow{}
		err = b.tx.QueryRowContext(ctx, `SELECT id, name, voice FROM agents WHERE user_id = $1 AND external_id = $2`,
			userID, in.ExternalID).Scan(&a.id, &a.name, &a.voice)
		if err != nil {
			return 0, fmt.Errorf("load agent: %w", err)
		}
		b.agents[k] = a
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

// callColumns21 are the columns of a call that ingest writes, in the order
// of write's arguments $1…$21.
const writeColumns = `user_id, agent_id, external_id, direction, from_number, to_number, status,
	started_at, answered_at, ended_at, duration_seconds, satisfaction, sentiment, end_reason, cost_amount,
	cost_currency, recording_url, created_at, updated_at, summary, transcript`

// insertCall is the statement that inserts a call, with the search
// index's own columns, returning its id; nothing when another transaction
// stored the call first (write then answers errCallExists).
func (s *Service) insertCall() string {
	cols, exprs := s.search.insertColumns(22)
	return `INSERT INTO calls (` + writeColumns + cols + `) VALUES (` + placeholders(1, 21) + exprs + `)
		ON CONFLICT (external_id) DO NOTHING` + s.db.Dialect.ReturningID()
}

// errCallExists is write's answer when the call it was to create exists:
// another transaction committed it after the batch looked.
var errCallExists = errors.New("call created concurrently")

// reload loads the stored call with externalID into the batch, locked.
func (b *batch) reload(ctx context.Context, externalID string) error {
	row := b.tx.QueryRowContext(ctx, `SELECT `+callColumns+` FROM calls c WHERE c.external_id = $1`+b.s.db.Dialect.ForUpdate(), externalID)
	c, err := scanCall(row)
	if err != nil {
		return fmt.Errorf("reload call: %w", err)
	}
	b.calls[externalID] = c
	return nil
}

// write stores next, merged from report p: an insert when old is nil, else
// an update; the search index is told only when the searched text changed.
func (b *batch) write(ctx context.Context, p *parsedCall, old, next *Call) error {
	args := []any{next.UserID, nullInt(next.AgentID), next.ExternalID, next.Direction, next.FromNumber, next.ToNumber,
		string(next.Status), store.Millis(next.StartedAt), nullTime(next.AnsweredAt), nullTime(next.EndedAt),
		next.DurationSeconds, next.Satisfaction, nullString(next.Sentiment), nullString(next.EndReason),
		nullInt(next.CostAmount), nullString(next.CostCurrency), nullString(next.RecordingURL),
		store.Millis(next.CreatedAt), store.Millis(next.UpdatedAt), next.Summary, next.Transcript}
	textChanged := old == nil || old.FromNumber != next.FromNumber || old.ToNumber != next.ToNumber ||
		old.Summary != next.Summary || old.Transcript != next.Transcript
	if old == nil {
		st, err := b.stmt(ctx, b.s.insertSQL)
		if err != nil {
			return err
		}
		id, inserted, err := b.s.db.Dialect.InsertIDIfNew(ctx, st, append(args, b.s.search.insertArgs(next)...)...)
		if err != nil {
			return fmt.Errorf("insert call: %w", err)
		}
		if !inserted {
			return errCallExists
		}
		next.ID = id
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
	}
	if !textChanged {
		return nil
	}
	return b.search.changed(ctx, b, p, old, next)
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
