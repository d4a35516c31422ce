// Package billingbench measures what billing costs: GET /api/dashboard/user/ with billing's cards
// (subscription and billing_summary) filled in, next to the figure
// without them in bench/README.md.
package billingbench

import (
	"context"
	"fmt"
	"testing"
	"time"

	"callboard/internal/apitest"
	"callboard/internal/calls"
	"callboard/internal/demo"
	"callboard/internal/store"
	"callboard/internal/storetest"
)

// setup makes a user with 10,000 calls over 180 days (through ingest, so
// rollups and metering are real) on Pro with 24 months of invoices.
func setup(b *testing.B, dialect string) (*apitest.Server, apitest.Session) {
	var db *store.DB
	if dialect == "sqlite" {
		db = storetest.SQLite(b)
	} else {
		db = storetest.Postgres(b)
	}
	s := apitest.New(b, db)
	u := s.SignUp(b)
	ctx := context.Background()
	g := demo.NewGenerator(1, "bench")
	start := s.Clock.Now().Add(-180 * 24 * time.Hour)
	for n := 0; n < 10_000; {
		batch := make([]calls.IngestCall, 1000)
		for i := range batch {
			batch[i] = g.Call(u.UserID, 6, start.Add(time.Duration(n)*25*time.Minute))
			n++
		}
		if _, err := s.Calls.Ingest(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	periodStart := s.Clock.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -10)
	if err := s.Billing.SeedDemo(ctx, u.UserID, "pro", periodStart, 23, func(from, to time.Time) (int64, int64) { return 2100 * 60, 700 }); err != nil {
		b.Fatal(err)
	}
	return s, u
}

// BenchmarkOverviewWithBilling is the whole overview through the router.
func BenchmarkOverviewWithBilling(b *testing.B) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		b.Run(fmt.Sprintf("%s/calls=10000/invoices=24", dialect), func(b *testing.B) {
			s, u := setup(b, dialect)
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

// BenchmarkBillingCards is what billing adds to the overview: its two
// cards, without HTTP.
func BenchmarkBillingCards(b *testing.B) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		b.Run(dialect, func(b *testing.B) {
			s, u := setup(b, dialect)
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := s.Billing.SubscriptionSummary(ctx, u.UserID); err != nil {
					b.Fatal(err)
				}
				if _, err := s.Billing.BillingSummary(ctx, u.UserID); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkIngestMeteringCost is 1000-call ingest batches (one user) with
// the statistics rollups alone and with billing's metering beside them:
// what metering usage in the ingest transaction costs.
func BenchmarkIngestMeteringCost(b *testing.B) {
	for _, metering := range []bool{false, true} {
		b.Run(fmt.Sprintf("sqlite/metering=%v", metering), func(b *testing.B) {
			db := storetest.SQLite(b)
			s := apitest.New(b, db)
			u := s.SignUp(b)
			observers := calls.Observers{s.Stats}
			if metering {
				observers = append(observers, s.Billing)
			}
			svc := calls.NewService(calls.Config{DB: db, Accounts: s.Auth, Now: s.Clock.Now, Observer: observers})
			g := demo.NewGenerator(1, "bench")
			start := s.Clock.Now().Add(-180 * 24 * time.Hour)
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
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "calls/s")
		})
	}
}
