package calls_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"callboard/internal/apitest"
	"callboard/internal/calls"
	"callboard/internal/store"
	"callboard/internal/storetest"
)

// searchSeed inserts n calls of userID straight into the tables, with their
// full-text entries as ingest writes them: summaries hold "refund" in one
// call of 16 (a common word) and "zanzibar" in one of 50,000 (a rare one).
func searchSeed(tb testing.TB, db *store.DB, userID int64, n int, base time.Time) {
	tb.Helper()
	summary := `'Call about ' || CASE WHEN i % 16 = 0 THEN 'a refund for order ' ELSE 'an appointment on day ' END || (i % 31) ||
		CASE WHEN i % 50000 = 7 THEN ' in zanzibar' ELSE '' END`
	cols := `user_id, external_id, direction, from_number, to_number, status, started_at, duration_seconds, satisfaction,
		created_at, updated_at, summary`
	values := fmt.Sprintf(`%d, 's%d-' || i, 'inbound', '+923001234567', '+92300' || (1000000 + i %% 9000000), 'completed',
		%d - i * 60000, 60, 0, 1, 1, `, userID, userID, store.Millis(base)) + summary
	var q string
	if db.Dialect == store.Postgres {
		q = `INSERT INTO calls (` + cols + `, search_vector) SELECT ` + values + `, to_tsvector('simple', 'cbowner' || ` + strconv.FormatInt(userID, 10) + ` || ' 923001234567 3001234567 1234567 4567 ' ||
			(1000000 + i % 9000000) || ' ' || ` + summary + `) FROM generate_series(1::bigint, $1::bigint) AS i`
	} else {
		q = `WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < $1)
			INSERT INTO calls (` + cols + `) SELECT ` + values + ` FROM seq`
	}
	if _, err := db.Write().Exec(q, n); err != nil {
		tb.Fatal(err)
	}
	if db.Dialect == store.SQLite {
		if _, err := db.Write().Exec(`INSERT INTO calls_fts (rowid, terms)
			SELECT id, search_owner_terms(user_id, '923001234567 3001234567 1234567 4567 ' || substr(to_number, 2), summary)
			FROM calls WHERE user_id = $1`, userID); err != nil {
			tb.Fatal(err)
		}
	}
}

// BenchmarkSearch is the history's search at a realistic size: 1,000,000
// calls (CALLBOARD_BENCH_SEARCH_CALLS sets another number), a heavy user
// with a fifth of them and nine others sharing the rest, on both
// databases. Each case reports its p50 (ms): page 1 without a search, the
// newest page of a common word ("refund", 1 call in 16) and of a rare one
// ("zanzibar", 1 in 50,000) for the heavy user, and the rare word for a
// light user. Only with CALLBOARD_BENCH_LARGE=1: seeding takes minutes.
func BenchmarkSearch(b *testing.B) {
	large(b)
	total := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("CALLBOARD_BENCH_SEARCH_CALLS")); err == nil && v > 0 {
		total = v
	}
	for _, dialect := range []string{"sqlite", "postgres"} {
		b.Run(dialect, func(b *testing.B) {
			var db *store.DB
			if dialect == "sqlite" {
				db = storetest.SQLite(b)
			} else {
				db = storetest.Postgres(b)
			}
			start := time.Now()
			base := time.Now().UTC()
			heavy := benchUser(b, db, "heavy@example.com")
			searchSeed(b, db, heavy, total/5, base)
			var light int64
			for i := range 9 {
				id := benchUser(b, db, fmt.Sprintf("light%d@example.com", i))
				searchSeed(b, db, id, total*4/5/9, base)
				if i == 0 {
					light = id
				}
			}
			if _, err := db.Write().Exec(`ANALYZE`); err != nil {
				b.Fatal(err)
			}
			if err := db.Optimize(context.Background()); err != nil {
				b.Fatal(err)
			}
			b.Logf("seeded %d calls in %v", total, time.Since(start).Round(time.Second))
			svc := calls.NewService(calls.Config{DB: db, Accounts: apitest.Accounts(b, db)})
			for _, bc := range []struct {
				name   string
				user   int64
				search string
			}{
				{"page1", heavy, ""},
				{"common-word", heavy, "refund"},
				{"rare-word", heavy, "zanzibar"},
				{"rare-word-light-user", light, "zanzibar"},
			} {
				b.Run(bc.name, func(b *testing.B) {
					p := calls.ListParams{ListFilter: calls.ListFilter{Search: bc.search}}
					var took []time.Duration
					for b.Loop() {
						t0 := time.Now()
						page, err := svc.List(context.Background(), bc.user, p)
						if err != nil {
							b.Fatal(err)
						}
						took = append(took, time.Since(t0))
						if len(page.Results) == 0 {
							b.Fatal("nothing found")
						}
					}
					slices.Sort(took)
					b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
				})
			}
		})
	}
}
