package store

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestWriteJSONArray(t *testing.T) {
	type row struct{ ID int64 }
	rows := func(n int) []row {
		out := make([]row, n)
		for i := range out {
			out[i] = row{int64(i + 1)}
		}
		return out
	}
	for _, tt := range []struct {
		name        string
		rows, limit int
		wantBatches int
	}{
		{"empty", 0, 3, 1},
		{"less than a batch", 2, 3, 1},
		{"exactly a batch", 3, 3, 2},
		{"several batches", 7, 3, 3},
	} {
		t.Run(tt.name, func(t *testing.T) {
			all := rows(tt.rows)
			batches := 0
			var b strings.Builder
			err := WriteJSONArray(&b, tt.limit, func(r row) int64 { return r.ID }, func(after int64, limit int) ([]row, error) {
				batches++
				rest := all[after:]
				return rest[:min(limit, len(rest))], nil
			})
			if err != nil {
				t.Fatal(err)
			}
			var got []row
			if err := json.Unmarshal([]byte(b.String()), &got); err != nil {
				t.Fatalf("not a JSON array: %v: %s", err, b.String())
			}
			if len(got) != tt.rows || batches != tt.wantBatches {
				t.Fatalf("%d rows in %d batches, want %d in %d", len(got), batches, tt.rows, tt.wantBatches)
			}
			for i, r := range got {
				if r.ID != int64(i+1) {
					t.Fatalf("row %d is %d: out of order", i, r.ID)
				}
			}
		})
	}
	boom := errors.New("boom")
	if err := WriteJSONArray(&strings.Builder{}, 2, func(r row) int64 { return r.ID },
		func(int64, int) ([]row, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Fatalf("a batch's error is not returned: %v", err)
	}
}
