package calls

import (
	"strconv"
	"strings"

	"callboard/internal/store"
)

// sqlArgs numbers query arguments as $1, $2, … in both dialects.
type sqlArgs struct{ args []any }

func (a *sqlArgs) add(v any) string {
	a.args = append(a.args, v)
	return "$" + strconv.Itoa(len(a.args))
}

// in is "IN (ids)" as one argument (store.InList).
func (a *sqlArgs) in(d store.Dialect, ids []int64) string {
	clause, arg := store.InList(d, len(a.args)+1, ids)
	a.args = append(a.args, arg)
	return clause
}

// where is the WHERE clause of the user's calls matching f.
//
// Filters whose index would fight the ordering are kept off their index
// (store.Dialect.NoIndex): without statistics SQLite would rather read every
// call in a duration range, or every call of several statuses, and sort
// them than walk the ordering's index and stop after one page.
func (s *Service) where(a *sqlArgs, f *filter, userID int64) string {
	noIndex := s.db.Dialect.NoIndex
	owner := "c.user_id"
	if f.plan.hits != nil && len(f.agentHits) == 0 {
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
		text := s.search.match(a, userID, f.searchWords, f.plan)
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

// rowsQuery is the history query: the calls matching f after (or before)
// cur in f's order, limit rows from offset.
func (s *Service) rowsQuery(f *filter, userID int64, cur *cursor, limit, offset int) (string, []any) {
	return s.orderedQuery("SELECT "+viewColumns+", a.name, a.voice FROM calls c LEFT JOIN agents a ON a.id = c.agent_id",
		f, userID, cur, limit, offset)
}

// keysQuery is rowsQuery reading only each call's sort value and id (as id),
// which the ordering's index holds: without other filters it reads no call.
func (s *Service) keysQuery(f *filter, userID int64, cur *cursor, limit, offset int) (string, []any) {
	return s.orderedQuery("SELECT c."+f.order.column+", c.id AS id FROM calls c", f, userID, cur, limit, offset)
}

// orderedQuery is selectFrom (a SELECT … FROM over calls c) with rowsQuery's
// conditions, order and limits.
func (s *Service) orderedQuery(selectFrom string, f *filter, userID int64, cur *cursor, limit, offset int) (string, []any) {
	a := &sqlArgs{}
	where := s.where(a, f, userID)
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
	if f.bound != nil {
		op := "<="
		if desc {
			op = ">="
		}
		where += " AND (c." + f.order.column + ", c.id) " + op + " (" + a.add(f.bound.value) + ", " + a.add(f.bound.id) + ")"
	}
	dir := " ASC"
	if desc {
		dir = " DESC"
	}
	q := selectFrom + " WHERE " + where +
		" ORDER BY c." + f.order.column + dir + ", c.id" + dir + " LIMIT " + a.add(limit)
	if offset > 0 {
		q += " OFFSET " + a.add(offset)
	}
	return q, a.args
}
