package calls

// CursorAfter is the history cursor (newest first) that continues after the
// call with the given started_at (Unix ms) and id: benchmarks use it to
// start deep in a history without paging there.
func CursorAfter(startedAt, id int64) string {
	return cursor{order: "-started_at", value: startedAt, id: id}.encode()
}

// SetSearchListMax changes how many full-text matches a SQLite search reads
// up front, so tests reach both search paths.
// (PostgreSQL reads nothing up front: there it changes nothing.)
func SetSearchListMax(s *Service, n int) {
	if sq, ok := s.search.(*sqliteSearch); ok {
		sq.listMax = n
	}
}

// DistinctWords exposes the full-text index's text reduction to tests.
var DistinctWords = distinctWords

// SetMaxExports changes how many exports may run at once over all users.
func SetMaxExports(s *Service, n int) { s.exports.max = n }
