package store

import (
	"encoding/json"
	"strconv"
)

// The small SQL differences between the two dialects, so that capabilities
// write one query and never branch on the dialect themselves.

// InList returns "IN (…)" over values as one parameter, numbered n ("$n"),
// and that parameter's value: a JSON array on SQLite (binding a thousand
// numbered parameters one by one is slow there), an array on PostgreSQL.
// The values are plain strings or numbers, so encoding cannot fail.
func InList[T string | int64](d Dialect, n int, values []T) (string, any) {
	p := "$" + strconv.Itoa(n)
	if d == Postgres {
		return "= ANY(" + p + ")", values
	}
	raw, _ := json.Marshal(values)
	return "IN (SELECT value FROM json_each(" + p + "))", string(raw)
}

// ForUpdate is the clause that locks the rows a SELECT reads until the
// transaction ends: " FOR UPDATE" on PostgreSQL, nothing on SQLite, whose
// transactions (Tx) hold the database's write lock from BEGIN.
func (db *DB) ForUpdate() string {
	if db.Dialect == Postgres {
		return " FOR UPDATE"
	}
	return ""
}
