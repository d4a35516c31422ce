package calls

import "context"

// Recent returns the user's latest n calls (at most MaxPageSize), newest
// first, as the history shows them: one index range, no count.
func (s *Service) Recent(ctx context.Context, userID int64, n int) ([]CallView, error) {
	n = min(max(n, 1), MaxPageSize)
	f := filter{order: orderings["-started_at"]}
	q, args := s.rowsQuery(&f, userID, nil, n, 0)
	out := make([]CallView, 0, n)
	err := s.queryViews(ctx, q, args, func(_ *Call, v CallView) { out = append(out, v) })
	if err != nil {
		return nil, err
	}
	return out, nil
}
