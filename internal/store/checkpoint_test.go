package store

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func openTestSQLite(t *testing.T) (*DB, string) {
	t.Helper()
	dir := t.TempDir()
	db, err := Open(context.Background(), "", dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Write().Exec(`CREATE TABLE filler (id INTEGER PRIMARY KEY, body TEXT)`); err != nil {
		t.Fatal(err)
	}
	return db, filepath.Join(dir, "callboard.db")
}

// Under writes that never pause, the log is restarted once it is long, so
// its file stays bounded; left to passive checkpoints it grows with every
// commit (6 GB after a million ingested calls).
func TestCheckpointerBoundsTheLog(t *testing.T) {
	db, path := openTestSQLite(t)
	db.ckpt.restartFrames = 200
	ctx := context.Background()
	body := strings.Repeat("x", 3000) // about one page a row
	const commits, rowsPerCommit = 400, 20
	for range commits {
		err := db.Tx(ctx, func(tx *sql.Tx) error {
			for range rowsPerCommit {
				if _, err := tx.ExecContext(ctx, `INSERT INTO filler (body) VALUES ($1)`, body); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	// The checkpointer works beside the writer, so on a busy machine it may
	// still be catching up with the last commits: give it a few seconds.
	// Without restarts the log never shrinks, however long one waits.
	written := int64(commits * rowsPerCommit * 4096)
	var size int64
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		info, err := os.Stat(path + "-wal")
		if err != nil {
			t.Fatal(err)
		}
		if size = info.Size(); size <= written/4 || time.Now().After(deadline) {
			break
		}
	}
	if size > written/4 {
		t.Fatalf("log file is %d bytes after %d bytes of pages were committed: it was not restarted", size, written)
	}
	var n int
	if err := db.Read().QueryRow(`SELECT count(*) FROM filler`).Scan(&n); err != nil || n != commits*rowsPerCommit {
		t.Fatalf("%d rows, %v", n, err)
	}
}

// A closed database is one file: the log has been copied back and removed.
func TestCloseLeavesNoLog(t *testing.T) {
	db, path := openTestSQLite(t)
	if _, err := db.Write().Exec(`INSERT INTO filler (body) VALUES ('x')`); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path + "-wal"); !os.IsNotExist(err) {
		t.Fatalf("log file left behind: %v", err)
	}
	again, err := Open(context.Background(), "", filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	var n int
	if err := again.Read().QueryRow(`SELECT count(*) FROM filler`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("%d rows after reopening, %v", n, err)
	}
}

// A long read (an export streams for seconds) holds old pages in the log, so
// the log cannot restart under it. The checkpointer then gives up quickly
// and tries again later, instead of holding the writer until the read ends.
func TestCheckpointerDoesNotStallWritesBehindLongReads(t *testing.T) {
	db, _ := openTestSQLite(t)
	db.ckpt.restartFrames = 50
	ctx := context.Background()
	if _, err := db.Write().Exec(`INSERT INTO filler (body) VALUES ('before')`); err != nil {
		t.Fatal(err)
	}
	reader, err := db.Read().BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Rollback()
	var n int
	if err := reader.QueryRow(`SELECT count(*) FROM filler`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("%d rows, %v", n, err)
	}
	body := strings.Repeat("x", 3000)
	var slowest time.Duration
	for range 100 {
		start := time.Now()
		err := db.Tx(ctx, func(tx *sql.Tx) error {
			for range 10 {
				if _, err := tx.ExecContext(ctx, `INSERT INTO filler (body) VALUES ($1)`, body); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		slowest = max(slowest, time.Since(start))
	}
	// The busy timeout is 10 s; a restart waiting that long would show.
	if slowest > 3*time.Second {
		t.Fatalf("a commit waited %v behind the checkpointer", slowest)
	}
	// The reader still sees its snapshot.
	if err := reader.QueryRow(`SELECT count(*) FROM filler`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("reader sees %d rows, %v", n, err)
	}
}

// The driver runs a DSN's pragmas sorted by name, not in order: each pool
// must get its own values, not whichever duplicate sorts last.
func TestSQLitePoolPragmas(t *testing.T) {
	db, _ := openTestSQLite(t)
	for _, tc := range []struct {
		pool   string
		conn   *sql.DB
		pragma string
		want   int
	}{
		{"writer", db.write, "busy_timeout", 10000},
		{"writer", db.write, "wal_autocheckpoint", 0},
		{"writer", db.write, "cache_size", -32000},
		{"reader", db.read, "query_only", 1},
		{"reader", db.read, "busy_timeout", 10000},
		{"checkpointer", db.ckpt.conn, "busy_timeout", int(checkpointBusyTimeout.Milliseconds())},
		{"checkpointer", db.ckpt.conn, "wal_autocheckpoint", 0},
	} {
		var got int
		if err := tc.conn.QueryRow("PRAGMA " + tc.pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("%s: %s = %d, want %d", tc.pool, tc.pragma, got, tc.want)
		}
	}
}
