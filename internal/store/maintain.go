package store

import (
	"context"
	"log/slog"
	"time"
)

// optimizeEvery is how often Run refreshes the planner's statistics.
const optimizeEvery = 10 * time.Minute

// Run keeps the query planner's statistics fresh (Optimize) every ten
// minutes until ctx ends; open-time callers refresh them at start, so the
// first round waits a period. A failed round is logged and retried at the
// next.
func (db *DB) Run(ctx context.Context, logger *slog.Logger) error {
	t := time.NewTicker(optimizeEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if err := db.Optimize(ctx); err != nil && ctx.Err() == nil {
			logger.Warn("optimize database", "err", err)
		}
	}
}
