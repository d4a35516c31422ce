package store

import (
	"context"
	"database/sql"
	"fmt"
	"hash/fnv"
)

// LockTx takes a lock named key that tx holds until it ends, so that
// transactions which count something and then write within a bound (at most
// so many messages an hour) take turns and keep the bound when they run at
// once. On PostgreSQL it is a transaction-level advisory lock keyed by a
// 64-bit hash of key (a collision only makes two keys wait for each other);
// on SQLite it is nothing, as Tx holds the database's write lock from BEGIN.
// Take several locks in one order (sorted keys) to avoid deadlocks.
func (d Dialect) LockTx(ctx context.Context, tx *sql.Tx, key string) error {
	if d != Postgres {
		return nil
	}
	h := fnv.New64a()
	h.Write([]byte(key))
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(h.Sum64())); err != nil {
		return fmt.Errorf("lock %s: %w", key, err)
	}
	return nil
}
