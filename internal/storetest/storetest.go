// Package storetest runs tests against both databases: SQLite in a
// temporary directory and PostgreSQL in a schema of its own that is dropped
// afterwards.
//
// PostgreSQL is found at CALLBOARD_TEST_DATABASE_URL (default
// postgres://postgres@127.0.0.1:5432/callboard_test?sslmode=disable; the
// database is created when missing). When it cannot be reached the
// PostgreSQL half is skipped, except under CI=true, where that fails.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"

	"callboard/internal/store"
)

const defaultPostgresURL = "postgres://postgres@127.0.0.1:5432/callboard_test?sslmode=disable"

// Each runs fn as two subtests, "sqlite" and "postgres", each with a fresh,
// migrated database.
func Each(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, Postgres(t)) })
}

// SQLite returns a fresh, migrated SQLite database in t.TempDir().
func SQLite(t testing.TB) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), "", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db
}

var (
	adminOnce sync.Once
	adminDB   *sql.DB
	adminURL  string
	adminErr  error
)

// PostgresURL is the base URL tests use.
func PostgresURL() string {
	if u := os.Getenv("CALLBOARD_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return defaultPostgresURL
}

func admin() (*sql.DB, string, error) {
	adminOnce.Do(func() {
		adminURL = PostgresURL()
		ctx := context.Background()
		adminDB, adminErr = sql.Open("pgx", adminURL)
		if adminErr != nil {
			return
		}
		if adminErr = adminDB.PingContext(ctx); adminErr == nil {
			return
		}
		if !strings.Contains(adminErr.Error(), "does not exist") {
			return
		}
		// Create the test database through the maintenance database.
		u, err := url.Parse(adminURL)
		if err != nil {
			adminErr = err
			return
		}
		name := strings.TrimPrefix(u.Path, "/")
		u.Path = "/postgres"
		maint, err := sql.Open("pgx", u.String())
		if err != nil {
			adminErr = err
			return
		}
		defer maint.Close()
		if _, err := maint.ExecContext(ctx, `CREATE DATABASE "`+strings.ReplaceAll(name, `"`, ``)+`"`); err != nil && !strings.Contains(err.Error(), "already exists") {
			adminErr = err
			return
		}
		adminErr = adminDB.PingContext(ctx)
	})
	return adminDB, adminURL, adminErr
}

// Postgres returns a fresh, migrated PostgreSQL database confined to a new
// schema.
func Postgres(t testing.TB) *store.DB {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, PostgresSchemaURL(t), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return db
}

// PostgresSchemaURL returns a connection URL confined to a new, empty schema
// (dropped after the test), for tests that open the database themselves.
func PostgresSchemaURL(t testing.TB) string {
	t.Helper()
	adm, base, err := admin()
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("postgres unavailable under CI: %v", err)
		}
		t.Skipf("postgres unavailable (%v); set CALLBOARD_TEST_DATABASE_URL", err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	if _, err := adm.ExecContext(context.Background(), "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = adm.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE") })
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
