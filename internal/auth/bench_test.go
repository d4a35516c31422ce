package auth_test

import (
	"slices"
	"testing"
	"time"

	"callboard/internal/apitest"
	"callboard/internal/auth"
	"callboard/internal/store"
	"callboard/internal/storetest"
)

// eachDB runs a benchmark on SQLite and PostgreSQL.
func eachDB(b *testing.B, fn func(b *testing.B, db *store.DB)) {
	b.Run("sqlite", func(b *testing.B) { fn(b, storetest.SQLite(b)) })
	b.Run("postgres", func(b *testing.B) { fn(b, storetest.Postgres(b)) })
}

// BenchmarkLogin is a full sign-in through the router with the production
// argon2id cost (m=19 MiB, t=2, p=1): hashing dominates, by design.
func BenchmarkLogin(b *testing.B) {
	eachDB(b, func(b *testing.B, db *store.DB) {
		s := apitest.New(b, db, apitest.WithAuth(func(c *auth.Config) { c.Argon2 = auth.DefaultArgon2 }))
		u := s.SignUp(b)
		body := map[string]string{"email": u.Email, "password": apitest.StrongPassword}
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			if res := s.Do(b, apitest.Request{Method: "POST", Path: "/api/auth/login/", Body: body}); res.Status != 200 {
				b.Fatalf("login: %d", res.Status)
			}
		}
	})
}

// BenchmarkAuthenticatedGET is GET /api/dashboard/user/profile/ with a bearer
// token: JWT verification, the session check and the profile query.
func BenchmarkAuthenticatedGET(b *testing.B) {
	eachDB(b, func(b *testing.B, db *store.DB) {
		s := apitest.New(b, db)
		u := s.SignUp(b)
		req := apitest.Request{Method: "GET", Path: "/api/dashboard/user/profile/", Token: u.Access}
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			if res := s.Do(b, req); res.Status != 200 {
				b.Fatalf("profile: %d", res.Status)
			}
		}
	})
}

// BenchmarkPasswordResetRequest times POST /api/auth/password-reset/ for an
// address with an account and one without, each after the worker had time
// to handle the previous request (as a prober would wait). The order
// known, known, unknown, unknown gives each kind as many predecessors of
// either kind: on SQLite a request right after a delivered mail is faster
// (background state, not the request's own work), which this balances
// out. Both answers cost a rate-limit transaction and a queue hand-off, so
// their medians should match. Reported as known-µs and unknown-µs.
func BenchmarkPasswordResetRequest(b *testing.B) {
	eachDB(b, func(b *testing.B, db *store.DB) {
		s := apitest.New(b, db, apitest.WithAuth(func(c *auth.Config) { c.ResetRequestsPerEmail, c.ResetRequestsPerAddress = 1<<30, 1<<30 }))
		u := s.SignUp(b)
		var known, unknown []time.Duration
		timed := func(email string) time.Duration {
			start := time.Now()
			if res := s.Do(b, apitest.Request{Method: "POST", Path: "/api/auth/password-reset/", Body: map[string]string{"email": email}}); res.Status != 202 {
				b.Fatalf("reset request: %d %s", res.Status, res.Body)
			}
			d := time.Since(start)
			b.StopTimer()
			time.Sleep(200 * time.Millisecond)
			b.StartTimer()
			return d
		}
		for b.Loop() {
			known = append(known, timed(u.Email), timed(u.Email))
			unknown = append(unknown, timed("nobody-"+u.Email), timed("nobody-"+u.Email))
		}
		median := func(ds []time.Duration) float64 {
			slices.Sort(ds)
			return float64(ds[len(ds)/2].Microseconds())
		}
		b.ReportMetric(median(known), "known-µs")
		b.ReportMetric(median(unknown), "unknown-µs")
	})
}
