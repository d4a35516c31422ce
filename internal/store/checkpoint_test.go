package store

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
	info, err := os.Stat(path + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	written := int64(commits * rowsPerCommit * 4096)
	if info.Size() > written/4 {
		t.Fatalf("log file is %d bytes after %d bytes of pages were committed: it was not restarted", info.Size(), written)
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
