package store_test

import (
	"context"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"callboard/internal/store"
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

// Every PostgreSQL session runs with a statement timeout unless the URL
// sets one, so a runaway query cannot hold a connection for ever.
func TestPostgresStatementTimeout(t *testing.T) {
	db := storetest.Postgres(t)
	var timeout string
	if err := db.Read().QueryRowContext(context.Background(), "SHOW statement_timeout").Scan(&timeout); err != nil {
		t.Fatal(err)
	}
	if timeout != "30s" {
		t.Fatalf("statement_timeout %q, want 30s", timeout)
	}
	own, err := store.Open(context.Background(), storetest.PostgresSchemaURL(t)+"&statement_timeout=5000", "")
	if err != nil {
		t.Fatal(err)
	}
	defer own.Close()
	if err := own.Read().QueryRowContext(context.Background(), "SHOW statement_timeout").Scan(&timeout); err != nil {
		t.Fatal(err)
	}
	if timeout != "5s" {
		t.Fatalf("statement_timeout from the URL %q, want 5s", timeout)
	}
}
