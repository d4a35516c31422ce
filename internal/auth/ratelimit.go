package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"callboard/internal/store"
)

// limiter counts events per key in fixed windows kept in the database, so
// every instance behind a load balancer shares the same counts.
type limiter struct {
	db  *store.DB
	now func() time.Time
}

// blocked returns how long to wait when key has reached limit in the
// current window, or 0.
func (l limiter) blocked(ctx context.Context, key string, limit int, window time.Duration) (time.Duration, error) {
	var start, hits int64
	err := l.db.Read().QueryRowContext(ctx, `SELECT window_start, hits FROM rate_limits WHERE key = $1`, key).Scan(&start, &hits)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read rate limit: %w", err)
	}
	end := store.Time(start).Add(window)
	now := l.now()
	if hits < int64(limit) || !now.Before(end) {
		return 0, nil
	}
	return end.Sub(now), nil
}

// hit counts one event for key, starting a new window when the last one ended.
func (l limiter) hit(ctx context.Context, tx *sql.Tx, key string, window time.Duration) error {
	now := l.now()
	_, err := tx.ExecContext(ctx, `INSERT INTO rate_limits (key, window_start, hits) VALUES ($1, $2, 1)
		ON CONFLICT (key) DO UPDATE SET
			hits = CASE WHEN rate_limits.window_start <= $3 THEN 1 ELSE rate_limits.hits + 1 END,
			window_start = CASE WHEN rate_limits.window_start <= $3 THEN $2 ELSE rate_limits.window_start END`,
		key, store.Millis(now), store.Millis(now.Add(-window)))
	if err != nil {
		return fmt.Errorf("count rate limit: %w", err)
	}
	return nil
}

// reset forgets key's count (after a successful sign-in).
func (l limiter) reset(ctx context.Context, key string) error {
	_, err := l.db.Write().ExecContext(ctx, `DELETE FROM rate_limits WHERE key = $1`, key)
	if err != nil {
		return fmt.Errorf("reset rate limit: %w", err)
	}
	return nil
}

// PurgeExpired deletes rate-limit windows and sessions that can no longer
// matter. It is run periodically.
func (s *Service) PurgeExpired(ctx context.Context) error {
	now := s.cfg.Now()
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM rate_limits WHERE window_start <= $1`, store.Millis(now.Add(-s.cfg.LoginWindow))); err != nil {
			return fmt.Errorf("purge rate limits: %w", err)
		}
		// Ended sessions are kept a while for the security log, then dropped
		// (their retired tokens go with them).
		cutoff := store.Millis(now.Add(-s.cfg.SessionLifetime))
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= $1 OR revoked_at <= $1`, cutoff); err != nil {
			return fmt.Errorf("purge sessions: %w", err)
		}
		return nil
	})
}
