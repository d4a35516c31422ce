package store_test

import (
	"context"
	"database/sql"
	"slices"
	"testing"

	"callboard/internal/store"
	"callboard/internal/storetest"
)

// TestDialectHelpers runs each helper's SQL on both databases: the same
// query text, written once, works on either.
func TestDialectHelpers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		d := db.Dialect
		var ids []int64
		err := db.Tx(ctx, func(tx *sql.Tx) error {
			st, err := tx.PrepareContext(ctx, `INSERT INTO rate_limits (key, window_start, hits) VALUES ($1, 1, $2)`)
			if err != nil {
				return err
			}
			defer st.Close()
			for _, k := range []string{"a", "b", "c"} {
				if _, err := st.ExecContext(ctx, k, len(k)); err != nil {
					return err
				}
			}
			ins, err := tx.PrepareContext(ctx, `INSERT INTO users (email, password_hash, first_name, last_name, created_at, updated_at)
				VALUES ($1, 'x', 'F', 'L', 1, 1)`+d.ReturningID())
			if err != nil {
				return err
			}
			defer ins.Close()
			for _, email := range []string{"one@example.com", "two@example.com"} {
				id, err := d.InsertID(ctx, ins, email)
				if err != nil {
					return err
				}
				ids = append(ids, id)
			}
			// Row locks parse and run inside a transaction on both.
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT key FROM rate_limits WHERE key = 'a'`+d.ForUpdate()+`) AS x`).Scan(&n); err != nil {
				return err
			}
			return tx.QueryRowContext(ctx, `SELECT hits FROM rate_limits WHERE key = 'b'`+d.ForShare()).Scan(&n)
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(ids) != 2 || ids[0] <= 0 || ids[1] <= ids[0] {
			t.Fatalf("InsertID gave %v", ids)
		}
		var email string
		if err := db.Read().QueryRowContext(ctx, `SELECT email FROM users WHERE id = $1`, ids[1]).Scan(&email); err != nil || email != "two@example.com" {
			t.Fatalf("the id InsertID gave is another row's: %q %v", email, err)
		}

		in, arg := store.InList(d, 1, []string{"a", "c", "zz"})
		keys, err := strings1(db.Read().QueryContext(ctx, `SELECT key FROM rate_limits WHERE key `+in+` ORDER BY key`, arg))
		if err != nil || !slices.Equal(keys, []string{"a", "c"}) {
			t.Fatalf("InList of strings: %v %v", keys, err)
		}
		in, arg = store.InList(d, 2, ids[:1])
		emails, err := strings1(db.Read().QueryContext(ctx, `SELECT email FROM users WHERE email <> $1 AND id `+in, "nobody", arg))
		if err != nil || !slices.Equal(emails, []string{"one@example.com"}) {
			t.Fatalf("InList of ids as $2: %v %v", emails, err)
		}
		var hits int
		if err := db.Read().QueryRowContext(ctx, `SELECT SUM(hits) FROM rate_limits WHERE `+d.NoIndex("key")+` >= 'b'`).Scan(&hits); err != nil || hits != 2 {
			t.Fatalf("NoIndex: %d %v", hits, err)
		}

		conn, err := db.Read().Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		restore, err := d.SmallCache(ctx, conn)
		if err != nil {
			t.Fatal(err)
		}
		restore()
	})
}
