package store_test

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"callboard/internal/store"
	"callboard/internal/storetest"
)

// TestTxRetryOutlivesADeadlock: two transactions that lock two rows in
// opposite orders deadlock on PostgreSQL; the one PostgreSQL aborts is run
// again by TxRetry, and both end up committed.
func TestTxRetryOutlivesADeadlock(t *testing.T) {
	db := storetest.Postgres(t)
	ctx := context.Background()
	if _, err := db.Write().ExecContext(ctx, `INSERT INTO rate_limits (key, window_start, hits) VALUES ('a', 1, 0), ('b', 1, 0)`); err != nil {
		t.Fatal(err)
	}
	var (
		runs    atomic.Int32
		barrier sync.WaitGroup
		once    [2]sync.Once
	)
	barrier.Add(2)
	txn := func(i int, first, second string) func(tx *sql.Tx) error {
		return func(tx *sql.Tx) error {
			runs.Add(1)
			if _, err := tx.ExecContext(ctx, `UPDATE rate_limits SET hits = hits + 1 WHERE key = $1`, first); err != nil {
				return err
			}
			// The first run of each waits for the other's first lock: a sure deadlock.
			once[i].Do(func() { barrier.Done(); barrier.Wait() })
			_, err := tx.ExecContext(ctx, `UPDATE rate_limits SET hits = hits + 1 WHERE key = $1`, second)
			return err
		}
	}
	errs := make(chan error, 2)
	go func() { errs <- db.TxRetry(ctx, txn(0, "a", "b")) }()
	go func() { errs <- db.TxRetry(ctx, txn(1, "b", "a")) }()
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatalf("TxRetry: %v", err)
		}
	}
	if runs.Load() < 3 {
		t.Fatalf("%d runs: the deadlock did not happen, so nothing was retried", runs.Load())
	}
	var a, b int
	if err := db.Read().QueryRowContext(ctx, `SELECT (SELECT hits FROM rate_limits WHERE key = 'a'), (SELECT hits FROM rate_limits WHERE key = 'b')`).Scan(&a, &b); err != nil {
		t.Fatal(err)
	}
	if a != 2 || b != 2 {
		t.Fatalf("hits a=%d b=%d, want 2 each: a retried transaction was applied twice or not at all", a, b)
	}
}

// TestTxRetryGivesUpOnOtherErrors: only concurrency failures are retried.
func TestTxRetryGivesUpOnOtherErrors(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		boom := errors.New("boom")
		runs := 0
		err := db.TxRetry(context.Background(), func(*sql.Tx) error { runs++; return boom })
		if !errors.Is(err, boom) || runs != 1 {
			t.Fatalf("err %v after %d runs", err, runs)
		}
		if store.IsRetryable(boom) {
			t.Fatal("a plain error is retryable")
		}
	})
}
