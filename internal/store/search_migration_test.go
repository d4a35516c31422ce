package store_test

import (
	"context"
	"database/sql"
	"slices"
	"strconv"
	"strings"
	"testing"

	"callboard/internal/searchtext"
	"callboard/internal/store"
)

// TestSearchIndexRebuiltWithOwnerTerms: migration 00009 rebuilds SQLite's
// full-text index from the calls already stored (under 00008 the rows held
// the owner's term and the raw text): every call's row then holds exactly
// the terms ingest writes for it, behind its owner's prefix, and no term of
// the old rows is left. Undoing it rebuilds the old index, from the calls
// too.
func TestSearchIndexRebuiltWithOwnerTerms(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, "", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.MigrateTo(ctx, 8); err != nil {
		t.Fatal(err)
	}
	var users [2]int64
	for i := range users {
		if err := db.Write().QueryRowContext(ctx, `INSERT INTO users (email, password_hash, first_name, last_name, created_at, updated_at)
			VALUES ($1, 'x', 'A', 'B', 1, 1) RETURNING id`, []string{"a@example.com", "b@example.com"}[i]).Scan(&users[i]); err != nil {
			t.Fatal(err)
		}
	}
	type call struct {
		id                            int64
		user                          int64
		from, to, summary, transcript string
	}
	stored := []call{
		{user: users[0], from: "+923001234567", to: "+442071230042", summary: "Refund for order #4521", transcript: "Agent: Café, naïve refund?"},
		{user: users[1], from: "+923001234567", to: "+15550000042", summary: "refund request", transcript: "Customer wants a REFUND. Ærø"},
		{user: users[0], from: "anonymous", to: "sip:desk@example.com", summary: "", transcript: ""},
		{user: users[1], from: "+12025550123", to: "+923331112222", summary: "Appointment booked", transcript: "آپ کا آرڈر"},
	}
	for i := range stored {
		c := &stored[i]
		if err := db.Write().QueryRowContext(ctx, `INSERT INTO calls (user_id, external_id, direction, from_number, to_number, status,
			started_at, created_at, updated_at, summary, transcript)
			VALUES ($1, $2, 'inbound', $3, $4, 'completed', 1, 1, 1, $5, $6) RETURNING id`,
			c.user, "ext-"+string(rune('a'+i)), c.from, c.to, c.summary, c.transcript).Scan(&c.id); err != nil {
			t.Fatal(err)
		}
		// The row as ingest wrote it under 00007.
		if _, err := db.Write().ExecContext(ctx, `INSERT INTO calls_fts (rowid, numbers, summary, transcript) VALUES ($1, $2, $3, $4)`,
			c.id, "cbowner"+itoa(c.user)+" "+searchtext.NumberTerms(c.from, c.to), c.summary, c.transcript); err != nil {
			t.Fatal(err)
		}
	}
	matches := func(q string) []int64 {
		t.Helper()
		rows, err := db.Read().QueryContext(ctx, `SELECT rowid FROM calls_fts WHERE calls_fts MATCH $1 ORDER BY rowid`, q)
		ids, err := store.IDs(rows, err)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return ids
	}
	if got := matches(`"refund"* AND "cbowner` + itoa(users[0]) + `"`); !slices.Equal(got, []int64{stored[0].id}) {
		t.Fatalf("before the migration: %v", got)
	}

	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	for _, c := range stored {
		rows, err := db.Read().QueryContext(ctx, `SELECT term FROM calls_fts_terms WHERE doc = $1 ORDER BY term`, c.id)
		var got []string
		if err := store.EachRow(rows, err, func(r *sql.Rows) error {
			var term string
			if err := r.Scan(&term); err != nil {
				return err
			}
			got = append(got, term)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		want := strings.Fields(searchtext.Owned(c.user, searchtext.NumberTerms(c.from, c.to),
			searchtext.Distinct(c.summary), searchtext.Distinct(c.transcript)))
		slices.Sort(want)
		want = slices.Compact(want)
		if !slices.Equal(got, want) {
			t.Errorf("call %d holds %q, want %q", c.id, got, want)
		}
	}
	p0, p1 := searchtext.Prefix(users[0]), searchtext.Prefix(users[1])
	for _, tc := range []struct {
		query string
		want  []int64
	}{
		{`"` + p0 + `refund"`, []int64{stored[0].id}},
		{`"` + p1 + `refund"`, []int64{stored[1].id}},
		{`"` + p0 + `ref"*`, []int64{stored[0].id}},
		{`"` + p0 + `cafe" AND "` + p0 + `naive"`, []int64{stored[0].id}},
		{`"` + p1 + `ærø"`, []int64{stored[1].id}},
		{`"` + p1 + `ارڈر"`, []int64{stored[3].id}},
		{`"` + p0 + `0042"`, []int64{stored[0].id}},
		{`"` + p1 + `4567"`, []int64{stored[1].id}},
		{`"` + p1 + `0123"`, []int64{stored[3].id}},
		{`"refund"*`, nil},
		{`"cbowner` + itoa(users[0]) + `"`, nil},
	} {
		if got := matches(tc.query); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.query, got, tc.want)
		}
	}

	if err := db.MigrateDownTo(ctx, 8); err != nil {
		t.Fatal(err)
	}
	if got := matches(`"refund"* AND "cbowner` + itoa(users[1]) + `"`); !slices.Equal(got, []int64{stored[1].id}) {
		t.Fatalf("after undoing the migration: %v", got)
	}
	if got := matches(`"0042"* AND "cbowner` + itoa(users[0]) + `"`); !slices.Equal(got, []int64{stored[0].id}) {
		t.Fatalf("numbers after undoing the migration: %v", got)
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if got := matches(`"` + p1 + `refund"`); !slices.Equal(got, []int64{stored[1].id}) {
		t.Fatalf("migrated again: %v", got)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
