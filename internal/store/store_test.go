package store_test

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"testing"

	"callboard/internal/store"
	"callboard/internal/storetest"
)

func TestStore(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		// Migrating again is a no-op at the same version.
		v1, err := db.MigrationVersion(ctx)
		if err != nil || v1 < 4 {
			t.Fatalf("version %d, %v", v1, err)
		}
		if err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		if v2, _ := db.MigrationVersion(ctx); v2 != v1 {
			t.Fatalf("version moved from %d to %d", v1, v2)
		}
		if err := db.Ping(ctx); err != nil {
			t.Fatal(err)
		}
		if err := db.Optimize(ctx); err != nil {
			t.Fatal(err)
		}

		insert := func(tx *sql.Tx, email string) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO users (email, password_hash, first_name, last_name, is_verified, created_at, updated_at)
				VALUES ($1, 'x', 'A', 'B', $2, $3, $3)`, email, false, int64(1))
			return err
		}
		// A failed transaction leaves nothing behind.
		boom := errors.New("boom")
		err = db.Tx(ctx, func(tx *sql.Tx) error {
			if err := insert(tx, "a@example.com"); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Tx returned %v", err)
		}
		var n int
		_ = db.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&n)
		if n != 0 {
			t.Fatalf("%d rows after a rolled-back transaction", n)
		}
		// Unique violations are recognised on both databases.
		if err := db.Tx(ctx, func(tx *sql.Tx) error { return insert(tx, "a@example.com") }); err != nil {
			t.Fatal(err)
		}
		err = db.Tx(ctx, func(tx *sql.Tx) error { return insert(tx, "a@example.com") })
		if !store.IsUniqueViolation(err) {
			t.Fatalf("duplicate email: %v is not a unique violation", err)
		}
		if store.IsUniqueViolation(boom) || store.IsUniqueViolation(nil) {
			t.Fatal("false positive")
		}
		// Times round-trip as Unix milliseconds in UTC.
		var ms int64
		_ = db.Read().QueryRowContext(ctx, `SELECT created_at FROM users`).Scan(&ms)
		if got := store.Time(ms); got.UnixMilli() != 1 || got.Location().String() != "UTC" {
			t.Fatalf("time %v", got)
		}
	})
}

// PRAGMA optimize analyzes the full-text index's page table while it is
// nearly empty; FTS5's range deletes must still seek, not scan the table.
func TestOptimizeKeepsFullTextRangesSeeking(t *testing.T) {
	db := storetest.SQLite(t)
	ctx := context.Background()
	for round := range 2 {
		if err := db.Optimize(ctx); err != nil {
			t.Fatal(err)
		}
		var id, parent, unused int
		var detail string
		err := db.Write().QueryRowContext(ctx, `EXPLAIN QUERY PLAN DELETE FROM calls_fts_data WHERE id >= $1 AND id <= $2`, 1, 2).
			Scan(&id, &parent, &unused, &detail)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(detail, "SEARCH") {
			t.Fatalf("after optimize round %d the plan is %q", round+1, detail)
		}
	}
}

func TestEachRow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		const q = `SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3`
		stop := errors.New("stop")
		for _, tc := range []struct {
			name    string
			query   string
			stopAt  int
			wantSum int
			wantErr bool
		}{
			{"every row", q, 0, 6, false},
			{"scan error ends the loop", q, 2, 1, true},
			{"query error is returned", `SELECT no_such_column FROM users`, 0, 0, true},
		} {
			t.Run(tc.name, func(t *testing.T) {
				sum := 0
				rows, err := db.Read().QueryContext(ctx, tc.query)
				err = store.EachRow(rows, err, func(r *sql.Rows) error {
					var n int
					if err := r.Scan(&n); err != nil {
						return err
					}
					if n == tc.stopAt {
						return stop
					}
					sum += n
					return nil
				})
				if (err != nil) != tc.wantErr || sum != tc.wantSum {
					t.Fatalf("sum %d, err %v", sum, err)
				}
				if tc.stopAt != 0 && !errors.Is(err, stop) {
					t.Fatalf("err %v, want the scan's own error", err)
				}
			})
		}
	})
}

func TestIDs(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		ids, err := store.IDs(db.Read().QueryContext(ctx, `SELECT 3 UNION ALL SELECT 1`))
		if err != nil || !slices.Equal(ids, []int64{3, 1}) {
			t.Fatalf("ids %v, %v", ids, err)
		}
		if ids, err := store.IDs(db.Read().QueryContext(ctx, `SELECT id FROM users WHERE id < 0`)); err != nil || ids == nil || len(ids) != 0 {
			t.Fatalf("no rows: %v (nil %v), %v", ids, ids == nil, err)
		}
		if _, err := store.IDs(db.Read().QueryContext(ctx, `SELECT no_such_column FROM users`)); err == nil {
			t.Fatal("a query error is not returned")
		}
	})
}
