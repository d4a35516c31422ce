package store

import (
	"context"
	"database/sql"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// txAttempts is how often TxRetry runs a transaction that keeps failing
// for concurrency alone.
const txAttempts = 6

// IsRetryable reports whether err is a transaction failing only because of
// concurrent ones, so that running it again can succeed: PostgreSQL's
// serialization failure (40001) and deadlock (40P01). SQLite's single
// writer never reports these.
func IsRetryable(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "40001" || pgErr.Code == "40P01")
}

// TxRetry is Tx, run again (up to six times in all, after a short random
// pause) while it fails with IsRetryable: a transaction that lost a
// deadlock or a serialization conflict to another is retried inside the
// server instead of failing the request. fn must be safe to run again: it
// starts from scratch each time (nothing it did in a failed run remains).
func (db *DB) TxRetry(ctx context.Context, fn func(tx *sql.Tx) error) error {
	var err error
	for attempt := range txAttempts {
		if err = db.Tx(ctx, fn); !IsRetryable(err) {
			return err
		}
		pause := time.Duration(1+rand.IntN(10<<attempt)) * time.Millisecond
		select {
		case <-ctx.Done():
			return err
		case <-time.After(pause):
		}
	}
	return err
}
