package calls

import "time"

// CursorAfter is the history cursor (newest first) that continues after the
// call with the given started_at (Unix ms) and id: benchmarks use it to
// start deep in a history without paging there.
func CursorAfter(startedAt, id int64) string {
	return cursor{order: "-started_at", value: startedAt, id: id}.encode()
}

// SetSearchListMax changes how many full-text matches a SQLite search reads
// up front, so tests reach both search paths.
func SetSearchListMax(s *Service, n int) {
	switch idx := s.search.(type) {
	case *sqliteSearch:
		idx.listMax = n
	case *postgresSearch:
		idx.listMax = n
	}
}

// SetMaxExports changes how many exports may run at once over all users.
func SetMaxExports(s *Service, n int) { s.exports.max = n }

// HoldSearchSlots takes n of userID's search slots until release.
func HoldSearchSlots(s *Service, userID int64, n int) (release func()) {
	var releases []func()
	for range n {
		r, err := s.searches.acquire(userID)
		if err != nil {
			panic(err)
		}
		releases = append(releases, r)
	}
	return func() {
		for _, r := range releases {
			r()
		}
	}
}

// SetSearchTimeout changes how long a search's queries may take.
func SetSearchTimeout(s *Service, d time.Duration) { s.searchTimeout = d }

// SetWalkBound changes how many calls a search walks before it asks the
// index (PostgreSQL).
func SetWalkBound(s *Service, n int) { s.walkBound = n }
