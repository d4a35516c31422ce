package auth

import (
	"context"
	"time"
)

// purgeEvery is how often Run drops what can no longer matter.
const purgeEvery = 10 * time.Minute

// Run is auth's background work until ctx ends: it drops expired
// sessions, rate-limit windows and email tokens at once and then every ten
// minutes, and handles accepted password-reset requests (reset.go). A
// failed purge is logged; the next round tries again. It returns once the
// reset request in hand is done.
func (s *Service) Run(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.runResets(ctx)
	}()
	defer func() { <-done }()
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
