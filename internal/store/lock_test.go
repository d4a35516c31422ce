package store_test

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"callboard/internal/store"
	"callboard/internal/storetest"
)

// Transactions that lock the same key never run their locked parts at once,
// on either database.
func TestLockTxTakesTurns(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		var inside, overlaps atomic.Int32
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				err := db.Tx(context.Background(), func(tx *sql.Tx) error {
					if err := db.Dialect.LockTx(context.Background(), tx, "test-key"); err != nil {
						return err
					}
					if inside.Add(1) > 1 {
						overlaps.Add(1)
					}
					time.Sleep(30 * time.Millisecond)
					inside.Add(-1)
					return nil
				})
				if err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if overlaps.Load() != 0 {
			t.Fatalf("%d transactions held the lock at once", overlaps.Load())
		}
	})
}
