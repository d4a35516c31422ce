package calls

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"time"

	"callboard/internal/apperr"
)

// exportBatch is how many rows the export reads per query: each batch is
// a keyset query, so memory stays constant and no read transaction is held
// open for the whole download.
const exportBatch = 1000

// maxExportsPerUser caps one user's concurrent exports; the cap over all
// users is twice the CPUs (at least 4): an export is a long, costly answer,
// so one user (or a few stalled clients) cannot take them all.
const maxExportsPerUser = 2

func newExportSlots() *slots {
	return newSlots(maxExportsPerUser, max(4, 2*runtime.NumCPU()), errTooManyExports)
}

var errTooManyExports = apperr.RateLimited("too many exports are running; wait for one to finish", 5*time.Second)

// exportHeader is the CSV's first row.
var exportHeader = []string{"id", "external_id", "started_at", "answered_at", "ended_at", "direction",
	"from_number", "to_number", "status", "duration_seconds", "agent_id", "agent_name", "agent_voice",
	"satisfaction", "sentiment", "end_reason", "cost_minor_units", "cost_currency", "summary"}

// Export is a checked export of a user's calls, ready to stream.
type Export struct {
	s        *Service
	f        filter
	userID   int64
	loc      *time.Location
	release  func()
	Filename string // calls-YYYYMMDD.csv, the date in the user's timezone
}

// NewExport checks p's filters for an export of the user's matching calls,
// and takes one of the user's export slots until WriteCSV ends (or Close).
// Errors: Invalid naming the bad parameter; RateLimited when the user, or
// the server, already runs as many exports as it may.
func (s *Service) NewExport(ctx context.Context, userID int64, p ListFilter) (*Export, error) {
	f, err := s.parseFilter(ctx, userID, p)
	if err != nil {
		return nil, err
	}
	if err := s.planSearch(ctx, userID, &f); err != nil {
		return nil, err
	}
	loc, err := s.zones.Location(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("user timezone: %w", err)
	}
	release, err := s.exports.acquire(userID)
	if err != nil {
		return nil, err
	}
	return &Export{s: s, f: f, userID: userID, loc: loc, release: release,
		Filename: "calls-" + s.now().In(loc).Format("20060102") + ".csv"}, nil
}

// Close gives the export's slot back; WriteCSV does so when it ends.
func (e *Export) Close() { e.release() }

// WriteCSV streams the export to w row by row in the list's order, calling
// flush after each batch, and closes the export. Memory use does not grow
// with the number of rows. A batch is read into memory with a connection
// from the read pool, which goes back to the pool before the batch is
// written: a client that reads slowly, or stops, holds no connection while
// it keeps the writes waiting. Cells that a spreadsheet would run as a
// formula (starting with = + - @, tab or carriage return) are prefixed with
// a single quote (OWASP CSV injection).
func (e *Export) WriteCSV(ctx context.Context, w io.Writer, flush func()) error {
	defer e.Close()
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	if err := cw.Write(exportHeader); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	record := make([]string, len(exportHeader))
	var cur *cursor
	for {
		n, last, err := e.readBatch(ctx, cw, record, cur)
		if err != nil {
			return err
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return fmt.Errorf("write csv: %w", err)
		}
		if _, err := w.Write(buf.Bytes()); err != nil {
			return fmt.Errorf("write csv: %w", err)
		}
		buf.Reset()
		if flush != nil {
			flush()
		}
		if n < exportBatch {
			return nil
		}
		cur = &cursor{order: e.f.order.name, value: e.f.order.sortValue(&last), id: last.ID}
	}
}

// readBatch writes the batch of rows after cur to cw (in memory) and
// returns how many there were and the last one.
func (e *Export) readBatch(ctx context.Context, cw *csv.Writer, record []string, cur *cursor) (int, Call, error) {
	conn, err := e.s.db.Read().Conn(ctx)
	if err != nil {
		return 0, Call{}, fmt.Errorf("export connection: %w", err)
	}
	defer conn.Close()
	// An export reads the history once, front to back: a big page cache
	// buys nothing, and on this connection it would hold tens of MB once
	// the export is done. Shrink it for the batch, then restore.
	restore, err := e.s.db.Dialect.SmallCache(ctx, conn)
	if err != nil {
		return 0, Call{}, fmt.Errorf("export: %w", err)
	}
	defer restore()
	n := 0
	var last Call
	q, args := e.s.rowsQuery(&e.f, e.userID, cur, exportBatch, 0)
	var werr error
	err = queryViewsOn(ctx, conn, q, args, func(c *Call, v CallView) {
		n++
		last = *c
		if werr == nil {
			e.fill(record, &v)
			werr = cw.Write(record)
		}
	})
	if err != nil {
		return 0, Call{}, err
	}
	if werr != nil {
		return 0, Call{}, fmt.Errorf("write csv: %w", werr)
	}
	return n, last, nil
}

func (e *Export) fill(r []string, v *CallView) {
	optTime := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.In(e.loc).Format(time.RFC3339)
	}
	optString := func(s *string) string {
		if s == nil {
			return ""
		}
		return safeCell(*s)
	}
	r[0] = strconv.FormatInt(v.ID, 10)
	r[1] = safeCell(v.ExternalID)
	r[2] = v.StartedAt.In(e.loc).Format(time.RFC3339)
	r[3] = optTime(v.AnsweredAt)
	r[4] = optTime(v.EndedAt)
	r[5] = v.Direction
	r[6] = safeCell(v.FromNumber)
	r[7] = safeCell(v.ToNumber)
	r[8] = string(v.Status)
	r[9] = strconv.Itoa(v.DurationSeconds)
	r[10], r[11], r[12] = "", "", ""
	if v.Agent != nil {
		r[10], r[11], r[12] = strconv.FormatInt(v.Agent.ID, 10), safeCell(v.Agent.Name), safeCell(v.Agent.Voice)
	}
	r[13] = ""
	if v.Satisfaction != nil {
		r[13] = strconv.Itoa(*v.Satisfaction)
	}
	r[14] = optString(v.Sentiment)
	r[15] = optString(v.EndReason)
	r[16], r[17] = "", ""
	if v.Cost != nil {
		r[16], r[17] = strconv.FormatInt(v.Cost.Amount, 10), v.Cost.Currency
	}
	r[18] = safeCell(v.Summary)
}
