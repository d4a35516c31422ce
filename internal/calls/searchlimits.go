package calls

import (
	"context"
	"errors"
	"time"

	"callboard/internal/apperr"
)

// Bounds on the work one search can do.
const (
	// maxSearchesPerUser caps one user's concurrent searches of the
	// history: a search costs more than a page, and a script firing many
	// at once must not take everybody's share of the database.
	maxSearchesPerUser = 2
	// SearchTimeout bounds the time one search's queries may take.
	SearchTimeout = 5 * time.Second
)

var (
	errTooManySearches = apperr.RateLimited("too many searches at once; wait for one to finish", time.Second)
	errSearchTooLong   = apperr.Unavailable("the search took too long; add words or filters to narrow it", 5*time.Second)
)

// boundSearch runs list (one history page) under the search bounds when p
// searches: one of the user's search slots and SearchTimeout. Errors: those
// of list; RateLimited past the slots; Unavailable past the timeout.
func (s *Service) boundSearch(ctx context.Context, userID int64, p ListParams, list func(context.Context) (ListPage, error)) (ListPage, error) {
	if p.Search == "" {
		return list(ctx)
	}
	release, err := s.searches.acquire(userID)
	if err != nil {
		return ListPage{}, err
	}
	defer release()
	sctx, cancel := context.WithTimeout(ctx, s.searchTimeout)
	defer cancel()
	page, err := list(sctx)
	if err != nil && errors.Is(sctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil {
		return ListPage{}, errSearchTooLong
	}
	return page, err
}
