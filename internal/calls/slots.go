package calls

import (
	"sync"

	"callboard/internal/apperr"
)

// slots counts running costly operations of one kind (exports, searches),
// per user and in all, so one user or a few stalled clients cannot take
// everybody's share.
type slots struct {
	perUser int           // a user's operations at once
	max     int           // operations at once over all users; 0 for no cap
	busy    *apperr.Error // the answer past a cap

	mu     sync.Mutex
	total  int
	byUser map[int64]int
}

func newSlots(perUser, max int, busy *apperr.Error) *slots {
	return &slots{perUser: perUser, max: max, busy: busy, byUser: map[int64]int{}}
}

// acquire takes a slot for userID until release is called (release may be
// called more than once). Errors: busy when the user or the server is at
// its cap.
func (g *slots) acquire(userID int64) (release func(), err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.max > 0 && g.total >= g.max || g.byUser[userID] >= g.perUser {
		return nil, g.busy
	}
	g.total++
	g.byUser[userID]++
	var once sync.Once
	return func() {
		once.Do(func() {
			g.mu.Lock()
			defer g.mu.Unlock()
			g.total--
			if g.byUser[userID]--; g.byUser[userID] == 0 {
				delete(g.byUser, userID)
			}
		})
	}, nil
}
