package stats_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"testing"
	"time"

	"callboard/internal/apitest"
	"callboard/internal/calls"
	"callboard/internal/demo"
	"callboard/internal/stats"
	"callboard/internal/store"
	"callboard/internal/storetest"
)

// seedCalls inserts n calls for userID straight into the calls table (spread
// over 180 days, 6 agents, a realistic status mix), then rebuilds the user's
// rollups. Ingest is measured elsewhere; this is only fast setup.
func seedCalls(b *testing.B, db *store.DB, userID int64, n int, now time.Time) {
	b.Helper()
	ctx := context.Background()
	nowMs := store.Millis(now)
	err := db.Tx(ctx, func(tx *sql.Tx) error {
		for a := 1; a <= 6; a++ {
			if _, err := tx.ExecContext(ctx, `INSERT INTO agents (user_id, external_id, name, voice, created_at, updated_at) VALUES ($1, $2, $3, 'alloy', $4, $4)`,
				userID, fmt.Sprintf("agent-%d", a), fmt.Sprintf("Agent %d", a), nowMs); err != nil {
				return err
			}
		}
		var firstAgent int64
		if err := tx.QueryRowContext(ctx, `SELECT MIN(id) FROM agents WHERE user_id = $1`, userID).Scan(&firstAgent); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i < $1)
			INSERT INTO calls (user_id, agent_id, external_id, direction, from_number, to_number, status, started_at,
				duration_seconds, satisfaction, created_at, updated_at)
			SELECT $2, $3 + i % 6, 'seed-' || $4 || '-' || i,
				CASE WHEN i % 3 = 0 THEN 'inbound' ELSE 'outbound' END, '+923001234567', '+923217654321',
				CASE i % 10 WHEN 0 THEN 'busy' WHEN 1 THEN 'no-answer' WHEN 2 THEN 'failed' WHEN 3 THEN 'canceled' ELSE 'completed' END,
				CAST($5 AS BIGINT) - i * CAST($6 AS BIGINT), CASE WHEN i % 10 >= 4 THEN 30 + i % 600 ELSE 0 END, i % 6, CAST($5 AS BIGINT), CAST($5 AS BIGINT)
			FROM seq`, int64(n-1), userID, firstAgent, fmt.Sprint(userID), nowMs, int64(180*24*time.Hour/time.Millisecond)/int64(n))
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	if err := stats.NewRollups(db, func() time.Time { return now }).Rebuild(ctx, userID, time.UTC); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkOverview is GET /api/dashboard/user/ for one user with 10,000
// and with 1,000,000 calls (the latter only with CALLBOARD_BENCH_LARGE=1:
// seeding takes a while). The two should cost the same.
func BenchmarkOverview(b *testing.B) {
	sizes := []int{10_000}
	if os.Getenv("CALLBOARD_BENCH_LARGE") != "" {
		sizes = append(sizes, 1_000_000)
	}
	for _, dialect := range []string{"sqlite", "postgres"} {
		for _, n := range sizes {
			b.Run(fmt.Sprintf("%s/calls=%d", dialect, n), func(b *testing.B) {
				var db *store.DB
				if dialect == "sqlite" {
					db = storetest.SQLite(b)
				} else {
					db = storetest.Postgres(b)
				}
				s := apitest.New(b, db)
				u := s.SignUp(b)
				seedCalls(b, db, u.UserID, n, s.Clock.Now())
				req := apitest.Request{Method: "GET", Path: "/api/dashboard/user/", Token: u.Access}
				if res := s.Do(b, req); res.Status != 200 {
					b.Fatalf("overview: %d %s", res.Status, res.Body)
				}
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					if res := s.Do(b, req); res.Status != 200 {
						b.Fatalf("overview: %d", res.Status)
					}
				}
			})
		}
	}
}

// BenchmarkIngestRollupCost is 1000-call ingest batches with and without
// the rollup observer: what keeping statistics exact costs ingest.
func BenchmarkIngestRollupCost(b *testing.B) {
	for _, withRollups := range []bool{false, true} {
		b.Run(fmt.Sprintf("sqlite/rollups=%v", withRollups), func(b *testing.B) {
			db := storetest.SQLite(b)
			s := apitest.New(b, db)
			u := s.SignUp(b)
			cfg := calls.Config{DB: db, Accounts: s.Auth, Now: s.Clock.Now}
			if withRollups {
				cfg.Observer = stats.NewRollups(db, s.Clock.Now)
			}
			svc := calls.NewService(cfg)
			g := demo.NewGenerator(1, "bench")
			start := s.Clock.Now().Add(-180 * 24 * time.Hour)
			b.ResetTimer()
			n := 0
			for b.Loop() {
				b.StopTimer()
				batch := make([]calls.IngestCall, 1000)
				for i := range batch {
					batch[i] = g.Call(u.UserID, 6, start.Add(time.Duration(n)*time.Minute))
					n++
				}
				b.StartTimer()
				if _, err := svc.Ingest(context.Background(), batch); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "calls/s")
		})
	}
}
