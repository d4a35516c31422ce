package calls_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"callboard/internal/apitest"
	"callboard/internal/calls"
	"callboard/internal/store"
	"callboard/internal/storetest"
)

// The large benchmarks (1,000,000 calls of one user) run only with
// CALLBOARD_BENCH_LARGE=1; they take a minute or two to seed.
func large(tb testing.TB) {
	if os.Getenv("CALLBOARD_BENCH_LARGE") == "" {
		tb.Skip("set CALLBOARD_BENCH_LARGE=1 to run the 1M-call benchmarks")
	}
}

// benchUser inserts a user directly and returns its id.
func benchUser(tb testing.TB, db *store.DB, email string) int64 {
	tb.Helper()
	var id int64
	err := db.Write().QueryRow(`INSERT INTO users (email, password_hash, first_name, last_name, created_at, updated_at)
		VALUES ($1, 'x', 'Bench', 'User', 1, 1) RETURNING id`, email).Scan(&id)
	if err != nil {
		tb.Fatal(err)
	}
	return id
}

// bulkSeed inserts n calls for user straight into the tables with one
// statement (no search rows: the list benchmarks do not search). One call a
// minute going back from base; statuses, durations and satisfaction vary.
func bulkSeed(tb testing.TB, db *store.DB, userID int64, n int) {
	tb.Helper()
	start := time.Now()
	var agents [3]int64
	for i := range agents {
		if err := db.Write().QueryRow(`INSERT INTO agents (user_id, external_id, name, voice, created_at, updated_at)
			VALUES ($1, $2, $3, 'alloy', 1, 1) RETURNING id`, userID, fmt.Sprintf("u%d-agent-%d", userID, i), fmt.Sprintf("Agent %d", i)).Scan(&agents[i]); err != nil {
			tb.Fatal(err)
		}
	}
	// i runs 1..n; every column is a function of i.
	cols := `user_id, agent_id, external_id, direction, from_number, to_number, status, started_at, answered_at,
		ended_at, duration_seconds, satisfaction, sentiment, end_reason, cost_amount, cost_currency, created_at, updated_at, summary`
	values := fmt.Sprintf(`%d, CASE i %% 3 WHEN 0 THEN %d WHEN 1 THEN %d ELSE %d END, 'u%d-' || i,
		CASE i %% 2 WHEN 0 THEN 'inbound' ELSE 'outbound' END, '+923001234567', '+92300' || (1000000 + i %% 9000000),
		CASE i %% 10 WHEN 0 THEN 'failed' WHEN 1 THEN 'no-answer' WHEN 2 THEN 'busy' WHEN 3 THEN 'canceled' ELSE 'completed' END,
		%d - i * 60000, NULL, NULL, (i * 37) %% 900, i %% 6,
		CASE i %% 3 WHEN 0 THEN 'positive' WHEN 1 THEN 'neutral' ELSE 'negative' END, 'customer-ended', i %% 500, 'USD', 1, 1,
		'Call about an appointment'`,
		userID, agents[0], agents[1], agents[2], userID, store.Millis(base))
	var q string
	if db.Dialect == store.Postgres {
		q = `INSERT INTO calls (` + cols + `) SELECT ` + values + ` FROM generate_series(1::bigint, $1::bigint) AS i`
	} else {
		q = `WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < $1)
			INSERT INTO calls (` + cols + `) SELECT ` + values + ` FROM seq`
	}
	if _, err := db.Write().Exec(q, n); err != nil {
		tb.Fatal(err)
	}
	if _, err := db.Write().Exec(`ANALYZE`); err != nil {
		tb.Fatal(err)
	}
	tb.Logf("seeded %d calls in %v", n, time.Since(start).Round(time.Millisecond))
}

// BenchmarkList measures the history query (the service, no HTTP) for one
// user with 10,000 and 1,000,000 calls: page 1 (with its capped count), a
// cursor page deep in the history, and a filtered page.
func BenchmarkList(b *testing.B) {
	for _, size := range []int{10_000, 1_000_000} {
		for _, dialect := range []string{"sqlite", "postgres"} {
			b.Run(fmt.Sprintf("%s/%d", dialect, size), func(b *testing.B) {
				if size > 10_000 {
					large(b)
				}
				var db *store.DB
				if dialect == "sqlite" {
					db = storetest.SQLite(b)
				} else {
					db = storetest.Postgres(b)
				}
				userID := benchUser(b, db, "heavy@example.com")
				bulkSeed(b, db, userID, size)
				other := benchUser(b, db, "other@example.com")
				bulkSeed(b, db, other, 1000)
				svc := calls.NewService(calls.Config{DB: db, Accounts: apitest.Accounts(b, db)})
				ctx := context.Background()
				deep := deepCursor(b, db, userID, size/2)
				for _, bc := range []struct {
					name string
					p    calls.ListParams
				}{
					{"page1", calls.ListParams{}},
					{"page1-nocount-cursor-at-top", calls.ListParams{Cursor: topCursor(b, svc, userID)}},
					{fmt.Sprintf("cursor-after-%d", size/2), calls.ListParams{Cursor: deep}},
					{"filtered-status-direction", calls.ListParams{ListFilter: calls.ListFilter{Statuses: []calls.Status{calls.StatusFailed}, Direction: "inbound"}}},
					{"filtered-several-statuses", calls.ListParams{ListFilter: calls.ListFilter{Statuses: []calls.Status{calls.StatusBusy, calls.StatusCanceled}}}},
					{"ordering-duration", calls.ListParams{ListFilter: calls.ListFilter{Ordering: "-duration"}}},
				} {
					b.Run(bc.name, func(b *testing.B) {
						for b.Loop() {
							page, err := svc.List(ctx, userID, bc.p)
							if err != nil {
								b.Fatal(err)
							}
							if len(page.Results) != calls.DefaultPageSize {
								b.Fatalf("%d results", len(page.Results))
							}
						}
					})
				}
			})
		}
	}
}

// topCursor is a cursor just before the newest call: a page-1 equivalent
// without the count.
func topCursor(tb testing.TB, svc *calls.Service, userID int64) string {
	page, err := svc.List(context.Background(), userID, calls.ListParams{PageSize: 1})
	if err != nil {
		tb.Fatal(err)
	}
	return page.NextCursor
}

// deepCursor returns the cursor after the first depth calls of the history,
// found with one query rather than by paging there.
func deepCursor(tb testing.TB, db *store.DB, userID int64, depth int) string {
	tb.Helper()
	var started, id int64
	err := db.Read().QueryRow(`SELECT started_at, id FROM calls WHERE user_id = $1 ORDER BY started_at DESC, id DESC LIMIT 1 OFFSET $2`,
		userID, depth-1).Scan(&started, &id)
	if err != nil {
		tb.Fatal(err)
	}
	return calls.CursorAfter(started, id)
}

// BenchmarkIngest measures the ingest service (no HTTP) with 1000-call
// batches of new calls with transcripts, on SQLite.
func BenchmarkIngest(b *testing.B) {
	db := storetest.SQLite(b)
	userID := benchUser(b, db, "ingest@example.com")
	svc := calls.NewService(calls.Config{DB: db, Accounts: apitest.Accounts(b, db)})
	rng := rand.New(rand.NewPCG(1, 2))
	n := 0
	b.ResetTimer()
	for b.Loop() {
		batch := make([]calls.IngestCall, 1000)
		for i := range batch {
			batch[i] = benchCall(rng, userID, n)
			n++
		}
		sum, err := svc.Ingest(context.Background(), batch)
		if err != nil || sum.Created != len(batch) {
			b.Fatalf("%v %+v", err, sum.Results[0])
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "calls/s")
}

var words = strings.Fields(`appointment billing delivery refund order payment schedule friday monday address
	confirm cancel reschedule invoice account package courier doctor clinic reminder booking`)

func benchCall(rng *rand.Rand, userID int64, n int) calls.IngestCall {
	str := func(s string) *string { return &s }
	num := func(v int) *int { return &v }
	started := base.Add(-time.Duration(n) * time.Minute)
	var transcript strings.Builder
	for range 6 {
		transcript.WriteString("Agent: ")
		for range 8 {
			transcript.WriteString(words[rng.IntN(len(words))])
			transcript.WriteByte(' ')
		}
		transcript.WriteString("\n")
	}
	return calls.IngestCall{
		ExternalID: "bench-" + strconv.Itoa(n), UserID: &userID, Status: "completed",
		Direction: str("outbound"), FromNumber: str("+923001234567"), ToNumber: str(fmt.Sprintf("+92300%07d", rng.IntN(10_000_000))),
		StartedAt: str(started.Format(time.RFC3339)), EndedAt: str(started.Add(3 * time.Minute).Format(time.RFC3339)),
		DurationSeconds: num(180), Satisfaction: num(1 + rng.IntN(5)), Sentiment: str("positive"),
		Agent:      &calls.IngestAgent{ExternalID: "agent-" + strconv.Itoa(rng.IntN(4)), Name: str("Sara")},
		Summary:    str("Customer asked about " + words[rng.IntN(len(words))] + "."),
		Transcript: str(transcript.String()),
	}
}

// TestExportMemory exports 1,000,000 calls and reports the Go heap and the
// process's resident memory while doing it (CALLBOARD_BENCH_LARGE=1 only).
// The seed runs in this process too (its SQLite page cache stays resident),
// so the export's own figure is the growth of the high-water mark; bench/
// measures a real server's peak with curl.
func TestExportMemory(t *testing.T) {
	large(t)
	db := storetest.SQLite(t)
	userID := benchUser(t, db, "export@example.com")
	bulkSeed(t, db, userID, 1_000_000)
	svc := calls.NewService(calls.Config{DB: db, Accounts: apitest.Accounts(t, db)})
	runtime.GC()
	resetPeakRSS()
	before := peakRSS()
	var peakHeap uint64
	done := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var ms runtime.MemStats
		for {
			select {
			case <-done:
				return
			case <-time.After(20 * time.Millisecond):
				runtime.ReadMemStats(&ms)
				peakHeap = max(peakHeap, ms.HeapInuse)
			}
		}
	}()
	exp, err := svc.NewExport(context.Background(), userID, calls.ListFilter{})
	if err != nil {
		t.Fatal(err)
	}
	cw := &countingWriter{}
	start := time.Now()
	if err := exp.WriteCSV(context.Background(), cw, nil); err != nil {
		t.Fatal(err)
	}
	close(done)
	<-sampled
	elapsed := time.Since(start)
	hwm := peakRSS()
	t.Logf("exported 1,000,000 calls: %d lines, %.1f MB of CSV in %v; peak Go heap in use %.1f MB; resident %.1f MB before, peak %.1f MB during (+%.1f MB)",
		cw.lines, float64(cw.n)/1e6, elapsed.Round(time.Millisecond), float64(peakHeap)/1e6,
		float64(before)/1e6, float64(hwm)/1e6, float64(hwm-before)/1e6)
	if cw.lines != 1_000_001 {
		t.Fatalf("%d lines", cw.lines)
	}
	if peakHeap > 50e6 || hwm-before > 100e6 {
		t.Fatal("the export's memory grew with its size")
	}
}

type countingWriter struct {
	n     int64
	lines int
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	w.lines += strings.Count(string(p), "\n")
	return len(p), nil
}

var _ io.Writer = (*countingWriter)(nil)

// resetPeakRSS resets the kernel's high-water mark of this process's
// resident memory (Linux); peakRSS reads it in bytes.
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

func peakRSS() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024
		}
	}
	return 0
}

// BenchmarkIngestHTTP is BenchmarkIngest through the router: JSON decoding,
// validation and the platform key included.
func BenchmarkIngestHTTP(b *testing.B) {
	db := storetest.SQLite(b)
	s := apitest.New(b, db)
	userID := benchUser(b, db, "ingest-http@example.com")
	rng := rand.New(rand.NewPCG(1, 2))
	n := 0
	for b.Loop() {
		b.StopTimer()
		batch := make([]calls.IngestCall, 1000)
		for i := range batch {
			batch[i] = benchCall(rng, userID, n)
			n++
		}
		body, err := json.Marshal(map[string]any{"calls": batch})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		res := s.Do(b, apitest.Request{Method: "POST", Path: "/api/platform/calls/", Body: body,
			Header: map[string]string{calls.PlatformHeader: apitest.PlatformKey}})
		if res.Status != 200 {
			b.Fatalf("%d %s", res.Status, res.Body)
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "calls/s")
}
