package account_test

import (
	"archive/zip"
	"bufio"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"testing"
	"time"

	"callboard/internal/apitest"
	"callboard/internal/store"
	"callboard/internal/storetest"
)

// seedCalls inserts n calls of userID straight into the table with one
// statement, external ids prefix-1 … prefix-n.
func seedCalls(t *testing.T, db *store.DB, userID int64, prefix string, n int) {
	t.Helper()
	cols := `user_id, external_id, direction, from_number, to_number, status, started_at, duration_seconds, satisfaction, created_at, updated_at, summary`
	values := fmt.Sprintf(`%d, '%s-' || i, 'inbound', '+923001234567', '+92300' || (1000000 + i), 'completed', %d - i * 60000, 60, 4, 1, 1,
		'Caller asked about the opening hours and booked an appointment for next week'`, userID, prefix, time.Now().UnixMilli())
	q := `WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < $1)
		INSERT INTO calls (` + cols + `) SELECT ` + values + ` FROM seq`
	if db.Dialect == store.Postgres {
		q = `INSERT INTO calls (` + cols + `) SELECT ` + values + ` FROM generate_series(1::bigint, $1::bigint) AS i`
	}
	if _, err := db.Write().Exec(q, n); err != nil {
		t.Fatal(err)
	}
}

// TestExportDataLarge exports a user with 100,000 calls through a real
// HTTP server: the answer is streamed (chunked, no length known up front),
// the heap stays far below the size of the data, and the archive holds
// exactly that user's calls.
func TestExportDataLarge(t *testing.T) {
	const n = 100_000
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := apitest.New(t, db)
		me := s.SignUp(t)
		other := s.SignUp(t)
		seedCalls(t, db, me.UserID, "mine", n)
		seedCalls(t, db, other.UserID, "theirs", 500)
		srv := httptest.NewServer(s.Handler)
		defer srv.Close()

		// The live heap (as of each collection, so garbage not yet
		// collected does not count), collected often so its peak shows.
		defer debug.SetGCPercent(debug.SetGCPercent(10))
		runtime.GC()
		sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		live := func() uint64 { metrics.Read(sample); return sample[0].Value.Uint64() }
		base, peak := live(), live()
		done, sampled := make(chan struct{}), make(chan struct{})
		go func() {
			defer close(sampled)
			for {
				select {
				case <-done:
					return
				case <-time.After(2 * time.Millisecond):
					peak = max(peak, live())
				}
			}
		}()
		req, _ := http.NewRequest("GET", srv.URL+"/api/dashboard/user/export-data/", nil)
		req.Header.Set("Authorization", "Bearer "+me.Access)
		start := time.Now()
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		if res.StatusCode != 200 || res.ContentLength != -1 {
			t.Fatalf("export: %d, length %d (a streamed answer has none)", res.StatusCode, res.ContentLength)
		}
		path := filepath.Join(t.TempDir(), "export.zip")
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		size, err := io.Copy(f, res.Body)
		f.Close()
		close(done)
		<-sampled
		if err != nil {
			t.Fatal(err)
		}
		elapsed := time.Since(start)

		zr, err := zip.OpenReader(path)
		if err != nil {
			t.Fatal(err)
		}
		defer zr.Close()
		var csvSize uint64
		lines := 0
		for _, zf := range zr.File {
			if zf.Name != "calls.csv" {
				continue
			}
			csvSize = zf.UncompressedSize64
			r, err := zf.Open()
			if err != nil {
				t.Fatal(err)
			}
			sc := bufio.NewScanner(r)
			for sc.Scan() {
				lines++
				if lines > 1 && !strings.Contains(sc.Text(), ",mine-") {
					t.Fatalf("calls.csv line %d is not this user's: %s", lines, sc.Text())
				}
			}
			r.Close()
		}
		growth := int64(peak) - int64(base)
		t.Logf("exported %d calls: %.1f MB zip (calls.csv %.1f MB) in %v; live heap %.1f MB before, peak growth %.1f MB",
			n, float64(size)/1e6, float64(csvSize)/1e6, elapsed.Round(time.Millisecond), float64(base)/1e6, float64(growth)/1e6)
		if lines != n+1 {
			t.Fatalf("calls.csv has %d lines, want %d", lines, n+1)
		}
		// Holding the CSV (or the archive) anywhere would grow the heap by
		// about its size; streaming holds a batch of rows and the
		// compressor's window.
		if growth > int64(csvSize)/4 {
			t.Fatalf("heap grew by %.1f MB for a %.1f MB CSV: the export is not streamed", float64(growth)/1e6, float64(csvSize)/1e6)
		}
	})
}
