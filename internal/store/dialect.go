package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
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
func (d Dialect) ForUpdate() string {
	if d == Postgres {
		return " FOR UPDATE"
	}
	return ""
}

// SkipLocked is the clause that makes a SELECT in a subquery of an UPDATE
// pass over rows another transaction has locked, so several instances claim
// different rows of a queue: " FOR UPDATE SKIP LOCKED" on PostgreSQL,
// nothing on SQLite (one writer at a time).
func (d Dialect) SkipLocked() string {
	if d == Postgres {
		return " FOR UPDATE SKIP LOCKED"
	}
	return ""
}

// ForShare is the clause that keeps the rows a SELECT reads from changing
// (but lets others read and share-lock them) until the transaction ends:
// " FOR SHARE" on PostgreSQL, nothing on SQLite (see ForUpdate).
func (d Dialect) ForShare() string {
	if d == Postgres {
		return " FOR SHARE"
	}
	return ""
}

// ReturningID is the clause an INSERT prepared for InsertID ends with:
// " RETURNING id" on PostgreSQL; nothing on SQLite, where Exec and
// LastInsertId cost less per row.
func (d Dialect) ReturningID() string {
	if d == Postgres {
		return " RETURNING id"
	}
	return ""
}

// InsertID runs st, an INSERT ending with ReturningID, and returns the new
// row's id.
func (d Dialect) InsertID(ctx context.Context, st *sql.Stmt, args ...any) (int64, error) {
	var id int64
	if d == Postgres {
		if err := st.QueryRowContext(ctx, args...).Scan(&id); err != nil {
			return 0, err
		}
		return id, nil
	}
	res, err := st.ExecContext(ctx, args...)
	if err != nil {
		return 0, err
	}
	if id, err = res.LastInsertId(); err != nil {
		return 0, fmt.Errorf("last insert id: %w", err)
	}
	return id, nil
}

// NoIndex is column as an expression SQLite's planner will not use an index
// for (a unary plus, SQLite's documented way): without statistics it would
// rather read every row a filter's index finds and sort them than walk the
// ordering's index and stop after a page. PostgreSQL has statistics and
// decides for itself: the column is left as it is.
func (d Dialect) NoIndex(column string) string {
	if d == SQLite {
		return "+" + column
	}
	return column
}

// SmallCache shrinks the page cache of conn (one connection of the read
// pool) for a long front-to-back read such as an export, where a big cache
// buys nothing and would hold tens of MB afterwards. restore puts the size
// back; it uses a fresh context, as the request's may be gone by then.
// PostgreSQL's caches are the server's: nothing to do there.
func (d Dialect) SmallCache(ctx context.Context, conn *sql.Conn) (restore func(), err error) {
	if d != SQLite {
		return func() {}, nil
	}
	var size int64
	if err := conn.QueryRowContext(ctx, "PRAGMA cache_size").Scan(&size); err != nil {
		return nil, fmt.Errorf("cache size: %w", err)
	}
	if _, err := conn.ExecContext(ctx, "PRAGMA cache_size = -2000"); err != nil {
		return nil, fmt.Errorf("cache size: %w", err)
	}
	return func() {
		_, _ = conn.ExecContext(context.Background(), "PRAGMA cache_size = "+strconv.FormatInt(size, 10))
	}, nil
}

// InsertIDIfNew runs st, an INSERT … ON CONFLICT … DO NOTHING ending with
// ReturningID, and returns the new row's id; inserted is false when a
// conflicting row exists instead (on PostgreSQL, one another transaction
// committed meanwhile: the INSERT waited for it).
func (d Dialect) InsertIDIfNew(ctx context.Context, st *sql.Stmt, args ...any) (id int64, inserted bool, err error) {
	if d == Postgres {
		err := st.QueryRowContext(ctx, args...).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return 0, false, nil
		}
		if err != nil {
			return 0, false, err
		}
		return id, true, nil
	}
	res, err := st.ExecContext(ctx, args...)
	if err != nil {
		return 0, false, err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return 0, false, err
	}
	if id, err = res.LastInsertId(); err != nil {
		return 0, false, fmt.Errorf("last insert id: %w", err)
	}
	return id, true, nil
}
