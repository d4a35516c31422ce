package calls_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"callboard/internal/apitest"
	"callboard/internal/apperr"
	"callboard/internal/calls"
	"callboard/internal/store"
	"callboard/internal/storetest"
)

// stalledClient is a download whose reader stopped: writes wait until
// resume.
type stalledClient struct{ resume chan struct{} }

func (c stalledClient) Write(b []byte) (int, error) { <-c.resume; return len(b), nil }

// Stalled downloads hold no database connection, and exports are capped
// per user and overall, so a few slow clients cannot starve other users.
func TestStalledExportsDoNotStarveOthers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := apitest.New(t, db)
		const stalled = 8 // at least the read pool (4 on SQLite here, 8 on PostgreSQL)
		calls.SetMaxExports(s.Calls, stalled)
		resume := make(chan struct{})
		var wg sync.WaitGroup
		defer func() { close(resume); wg.Wait() }()
		// Bounded waits: a regression fails the test instead of hanging it.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		var users []apitest.Session
		for i := range stalled / 2 {
			u := s.SignUp(t)
			users = append(users, u)
			seed(t, s, u.UserID, "s"+string(rune('a'+i)), 30)
			for range 2 {
				exp, err := s.Calls.NewExport(ctx, u.UserID, calls.ListFilter{})
				if err != nil {
					t.Fatal(err)
				}
				wg.Go(func() { _ = exp.WriteCSV(context.Background(), stalledClient{resume}, nil) })
			}
		}
		time.Sleep(100 * time.Millisecond) // every export is now waiting on its client

		// Another user still reads: the pool is free.
		other := s.SignUp(t)
		var rwg sync.WaitGroup
		errs := make(chan error, stalled)
		for range stalled {
			rwg.Go(func() {
				var n int
				errs <- db.Read().QueryRowContext(ctx, "SELECT COUNT(*) FROM calls").Scan(&n)
			})
		}
		rwg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("a read while %d downloads stall: %v", stalled, err)
			}
		}
		if res := s.Do(t, apitest.Request{Method: "GET", Path: "/api/dashboard/user/profile/", Token: other.Access}); res.Status != 200 {
			t.Fatalf("profile while downloads stall: %d", res.Status)
		}

		// Caps: a user's third export, and anyone's past the overall cap.
		res := s.Do(t, apitest.Request{Method: "GET", Path: "/api/dashboard/user/calls/export/", Token: users[0].Access})
		if res.Status != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" {
			t.Fatalf("third export of one user: %d %s", res.Status, res.Body)
		}
		_, err := s.Calls.NewExport(context.Background(), other.UserID, calls.ListFilter{})
		if e, ok := apperr.As(err); !ok || e.Kind != apperr.KindRateLimited {
			t.Fatalf("export past the overall cap: %v", err)
		}
		close(resume)
		wg.Wait()
		resume = make(chan struct{}) // for the deferred close
		if res := s.Do(t, apitest.Request{Method: "GET", Path: "/api/dashboard/user/calls/export/", Token: users[0].Access}); res.Status != 200 {
			t.Fatalf("export once the others ended: %d %s", res.Status, res.Body)
		}
	})
}
