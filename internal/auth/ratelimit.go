package auth

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"callboard/internal/store"
)

// limiter counts events per key in fixed windows kept in the database, so
// every instance behind a load balancer shares the same counts.
type limiter struct {
	db  *store.DB
	now func() time.Time
}

// rule is one limit: at most limit events per key in each window.
type rule struct {
	key    string
	limit  int
	window time.Duration
}

// take counts one event for each rule's key and reports how long to wait
// when any of them is now over its limit (0 when all are within). Counting
// and checking are one statement per key (an upsert returning the new
// count), so parallel attempts cannot all read a count below the limit
// before any of them is counted: at most limit events pass per window,
// however many arrive at once. Keys are taken in sorted order, so that
// PostgreSQL's row locks never deadlock.
func (l limiter) take(ctx context.Context, tx *sql.Tx, rules ...rule) (time.Duration, error) {
	now := l.now()
	var wait time.Duration
	rules = slices.SortedFunc(slices.Values(rules), func(a, b rule) int { return strings.Compare(a.key, b.key) })
	for _, r := range rules {
		var start, hits int64
		err := tx.QueryRowContext(ctx, `INSERT INTO rate_limits (key, window_start, hits) VALUES ($1, $2, 1)
			ON CONFLICT (key) DO UPDATE SET
				hits = CASE WHEN rate_limits.window_start <= $3 THEN 1 ELSE rate_limits.hits + 1 END,
				window_start = CASE WHEN rate_limits.window_start <= $3 THEN $2 ELSE rate_limits.window_start END
			RETURNING window_start, hits`,
			r.key, store.Millis(now), store.Millis(now.Add(-r.window))).Scan(&start, &hits)
		if err != nil {
			return 0, fmt.Errorf("count rate limit: %w", err)
		}
		if hits > int64(r.limit) {
			wait = max(wait, store.Time(start).Add(r.window).Sub(now))
		}
	}
	return wait, nil
}

// forgive takes back one event counted for each key (after a successful
// sign-in, so a user's own sign-ins never count against them).
func (l limiter) forgive(ctx context.Context, tx *sql.Tx, keys ...string) error {
	for _, key := range keys {
		if _, err := tx.ExecContext(ctx, `UPDATE rate_limits SET hits = hits - 1 WHERE key = $1 AND hits > 0`, key); err != nil {
			return fmt.Errorf("forgive rate limit: %w", err)
		}
	}
	return nil
}

// reset forgets key's count.
func (l limiter) reset(ctx context.Context, tx *sql.Tx, key string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM rate_limits WHERE key = $1`, key); err != nil {
		return fmt.Errorf("reset rate limit: %w", err)
	}
	return nil
}

// PurgeExpired deletes rate-limit windows, sessions and email tokens that
// can no longer matter. It is run periodically.
func (s *Service) PurgeExpired(ctx context.Context) error {
	now := s.cfg.Now()
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		longest := max(s.cfg.LoginWindow, s.cfg.RegistrationWindow, s.cfg.VerificationMailWindow, s.cfg.ResetWindow)
		if _, err := tx.ExecContext(ctx, `DELETE FROM rate_limits WHERE window_start <= $1`, store.Millis(now.Add(-longest))); err != nil {
			return fmt.Errorf("purge rate limits: %w", err)
		}
		// Ended sessions are kept a while for the security log, then dropped
		// (their retired tokens go with them).
		cutoff := store.Millis(now.Add(-s.cfg.SessionLifetime))
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= $1 OR revoked_at <= $1`, cutoff); err != nil {
			return fmt.Errorf("purge sessions: %w", err)
		}
		// A used or expired link answers like an unknown one: nothing to keep.
		if _, err := tx.ExecContext(ctx, `DELETE FROM email_tokens WHERE expires_at <= $1`, store.Millis(now)); err != nil {
			return fmt.Errorf("purge email tokens: %w", err)
		}
		return nil
	})
}

// limitSubject is how an email address appears in rate-limit keys: a hash,
// so the table never holds an address (attempts on a deleted account
// included) and an erasure can find the keys without it.
func limitSubject(email string) string {
	sum := sha256.Sum256([]byte(email))
	return hex.EncodeToString(sum[:16])
}
