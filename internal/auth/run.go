package auth

import (
	"context"
	"time"
)

// purgeEvery is how often Run drops what can no longer matter.
const purgeEvery = 10 * time.Minute

// Run is auth's background work: it drops expired sessions and rate-limit
// windows at once and then every ten minutes, until ctx ends. A failed
// round is logged by the caller's logger through the returned error only
// when ctx is still live; the next round tries again.
func (s *Service) Run(ctx context.Context) error {
	t := time.NewTicker(purgeEvery)
	defer t.Stop()
	for {
		if err := s.PurgeExpired(ctx); err != nil && ctx.Err() == nil {
			s.cfg.Logger.Warn("purge expired sessions", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
