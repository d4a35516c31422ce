package store_test

import (
	"context"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"callboard/internal/storetest"
)

// Requests cancelled by their clients in the middle of a query must not
// leave a broken connection behind for the next request: bursts of
// cancelled queries and queries that run to the end share a small pool.
func TestCancelledQueriesLeaveNoBrokenConnections(t *testing.T) {
	db := storetest.Postgres(t)
	var wg sync.WaitGroup
	var failures atomic.Int64
	var firstErr atomic.Value
	deadline := time.Now().Add(3 * time.Second)
	for w := range 24 {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				if w%2 == 0 {
					// A client that gives up part-way.
					ctx, cancel := context.WithTimeout(context.Background(), time.Duration(rand.IntN(3000))*time.Microsecond)
					var one int
					_ = db.Read().QueryRowContext(ctx, "SELECT 1 FROM pg_sleep(0.002)").Scan(&one)
					cancel()
					continue
				}
				var one int
				if err := db.Read().QueryRowContext(context.Background(), "SELECT 1").Scan(&one); err != nil {
					failures.Add(1)
					firstErr.CompareAndSwap(nil, err)
				}
			}
		})
	}
	wg.Wait()
	if n := failures.Load(); n > 0 {
		err, _ := firstErr.Load().(error)
		t.Fatalf("%d queries of patient clients failed after cancelled ones, first: %v", n, err)
	}
}
