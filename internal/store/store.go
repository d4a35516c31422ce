// Package store opens Callboard's database (embedded SQLite or PostgreSQL),
// applies the embedded migrations and runs transactions. Capabilities write
// their own SQL against it; times are stored as Unix milliseconds (UTC) in
// both dialects so that the SQL and its indexes are the same everywhere.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib" // also registers the "pgx" driver
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Dialect names the database engine behind a DB.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

//go:embed migrations
var migrations embed.FS

// DB is the application's database. SQLite gets a pool of read-only
// connections and a single writer connection (SQLite allows one writer at a
// time; queueing writers in Go beats spinning on SQLITE_BUSY). PostgreSQL uses
// one pool for both.
type DB struct {
	Dialect Dialect
	read    *sql.DB
	write   *sql.DB
	ckpt    *checkpointer // SQLite only
	probe   *sql.DB       // PostgreSQL only: the prober's own connection
	health  *health       // PostgreSQL only
}

// Open connects to the database named by url: "postgres://…" or
// "postgresql://…" selects PostgreSQL; "sqlite://PATH", a plain file path,
// or "" (a file named callboard.db in dataDir) selects SQLite.
func Open(ctx context.Context, url, dataDir string) (*DB, error) {
	if strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://") {
		return openPostgres(ctx, url)
	}
	path := strings.TrimPrefix(url, "sqlite://")
	if path == "" {
		if err := os.MkdirAll(dataDir, 0o700); err != nil {
			return nil, fmt.Errorf("create data dir: %w", err)
		}
		path = filepath.Join(dataDir, "callboard.db")
	}
	return openSQLite(ctx, path)
}

// openPostgres connects with a bounded connect time and a server-side
// statement timeout (each unless url sets its own), connections that are
// checked before reuse, and a prober that notices an outage (see health).
func openPostgres(ctx context.Context, url string) (*DB, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	if !strings.Contains(url, "connect_timeout=") {
		cfg.ConnectTimeout = connectTimeout
	}
	if _, ok := cfg.RuntimeParams["statement_timeout"]; !ok {
		cfg.RuntimeParams["statement_timeout"] = statementTimeout
	}
	open := func() *sql.DB { return sql.OpenDB(validatingConnector{stdlib.GetConnector(*cfg)}) }
	pool := open()
	pool.SetMaxOpenConns(max(8, 4*runtime.NumCPU()))
	pool.SetMaxIdleConns(max(8, 4*runtime.NumCPU()))
	pool.SetConnMaxIdleTime(5 * time.Minute)
	if err := pool.PingContext(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect postgres: %w", err)
	}
	probe := open()
	probe.SetMaxOpenConns(1)
	probe.SetMaxIdleConns(1)
	db := &DB{Dialect: Postgres, read: pool, write: pool, probe: probe, health: newHealth()}
	db.health.watch(probe)
	return db, nil
}

func openSQLite(ctx context.Context, path string) (*DB, error) {
	if err := registerFunctions(); err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	// busy_timeout matters for other processes (callboard migrate, demo)
	// touching the same file; within this process the writer pool serialises.
	common := []string{"journal_mode(WAL)", "synchronous(NORMAL)", "foreign_keys(1)", "temp_store(MEMORY)",
		// Reads through a memory map share the OS page cache instead of a
		// read(2) per page: as the database outgrows SQLite's own cache this
		// keeps ingest and deep pages from turning into system calls.
		"mmap_size(4294967296)"}
	// The writer never checkpoints (the checkpointer does, beside it) and
	// keeps up to 32 MB of pages.
	write, err := sql.Open("sqlite", sqliteDSN(path, slices.Concat(common, []string{"busy_timeout(10000)", "cache_size(-32000)",
		"wal_autocheckpoint(0)"}))+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)
	// Ping the writer first so the file and WAL mode exist before readers open.
	if err := write.PingContext(ctx); err != nil {
		write.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	read, err := sql.Open("sqlite", sqliteDSN(path, slices.Concat(common, []string{"busy_timeout(10000)", "cache_size(-32000)", "query_only(1)"})))
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("open sqlite reader: %w", err)
	}
	readers := max(4, 2*runtime.NumCPU())
	read.SetMaxOpenConns(readers)
	read.SetMaxIdleConns(readers)
	read.SetConnMaxIdleTime(0)
	ckpt, err := sql.Open("sqlite", sqliteDSN(path, slices.Concat(common, []string{
		fmt.Sprintf("busy_timeout(%d)", checkpointBusyTimeout.Milliseconds()), "wal_autocheckpoint(0)"})))
	if err != nil {
		write.Close()
		read.Close()
		return nil, fmt.Errorf("open sqlite checkpointer: %w", err)
	}
	ckpt.SetMaxOpenConns(1)
	ckpt.SetMaxIdleConns(1)
	ckpt.SetConnMaxIdleTime(0)
	return &DB{Dialect: SQLite, read: read, write: write, ckpt: startCheckpointer(ckpt, write.Conn)}, nil
}

// sqliteDSN names the database file with pragmas for each new connection.
// The driver runs them sorted by name, so a pragma must appear once.
func sqliteDSN(path string, pragmas []string) string {
	var sb strings.Builder
	sb.WriteString("file:" + path + "?")
	for i, p := range pragmas {
		if i > 0 {
			sb.WriteByte('&')
		}
		sb.WriteString("_pragma=" + p)
	}
	return sb.String()
}

// Close closes every connection.
func (db *DB) Close() error {
	if db.ckpt != nil {
		db.ckpt.stop() // no checkpoint may reach for the writer while it closes
	}
	if db.health != nil {
		db.health.close()
		db.probe.Close()
	}
	err := db.write.Close()
	if db.read != db.write {
		err = errors.Join(err, db.read.Close())
	}
	if db.ckpt != nil {
		err = errors.Join(err, db.ckpt.close())
	}
	return err
}

// Read is the pool for queries that change nothing. On SQLite its
// connections are read-only and see every committed write.
func (db *DB) Read() *sql.DB { return db.read }

// Write is the pool for statements outside a transaction that change data.
// On SQLite it has a single connection: never hold a transaction and call it.
func (db *DB) Write() *sql.DB { return db.write }

// Ping checks that the database answers a query.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	return db.read.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

// Tx runs fn in one transaction on the writer, committing when fn returns
// nil and rolling back otherwise. On SQLite the transaction takes the write
// lock at BEGIN (BEGIN IMMEDIATE), so it never fails half-way on a busy lock.
func (db *DB) Tx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	if db.ckpt != nil {
		db.ckpt.nudge()
	}
	return nil
}

// Optimize refreshes the query planner's statistics where they are stale
// (SQLite's PRAGMA optimize; PostgreSQL's autovacuum does this itself). Run
// it at start and now and then: without statistics SQLite may pick a plan
// that reads a user's whole history.
func (db *DB) Optimize(ctx context.Context) error {
	if db.Dialect != SQLite {
		return nil
	}
	// 0x10002: also analyze tables never analyzed, with a bounded effort.
	if _, err := db.write.ExecContext(ctx, "PRAGMA optimize=0x10002"); err != nil {
		return fmt.Errorf("optimize: %w", err)
	}
	return db.settleShadowStatistics(ctx)
}

// settleShadowStatistics fixes the planner's row estimate of virtual tables'
// shadow tables (the full-text index's pages) at a million rows. FTS5 reads
// and deletes its pages by rowid range and relies on the planner to seek;
// PRAGMA optimize analyzes a shadow table while it is nearly empty ("2 rows")
// and then not again until it is 25 times larger, and with that estimate
// the planner scans the whole table for every range instead: each ingest
// commit read the entire index, a third of ingest time at a million calls.
// The estimate only needs to be large; seeking is right at any size.
func (db *DB) settleShadowStatistics(ctx context.Context) error {
	res, err := db.write.ExecContext(ctx, `UPDATE sqlite_stat1 SET stat = '1000000'
		WHERE idx IS NULL AND CAST(stat AS INTEGER) < 1000000
		AND tbl IN (SELECT name FROM pragma_table_list WHERE type = 'shadow')`)
	if err != nil {
		return fmt.Errorf("shadow table statistics: %w", err)
	}
	if n, _ := res.RowsAffected(); n > 0 {
		// Load the new estimate into this connection's planner.
		if _, err := db.write.ExecContext(ctx, `ANALYZE sqlite_schema`); err != nil {
			return fmt.Errorf("reload statistics: %w", err)
		}
	}
	return nil
}

// Migrate applies every embedded migration not yet applied. On PostgreSQL an
// advisory lock keeps several instances starting together from racing.
func (db *DB) Migrate(ctx context.Context) error {
	provider, err := db.migrator()
	if err != nil {
		return err
	}
	if _, err := provider.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// MigrationVersion reports the newest applied migration.
func (db *DB) MigrationVersion(ctx context.Context) (int64, error) {
	provider, err := db.migrator()
	if err != nil {
		return 0, err
	}
	return provider.GetDBVersion(ctx)
}

func (db *DB) migrator() (*goose.Provider, error) {
	sub, err := fs.Sub(migrations, "migrations/"+string(db.Dialect))
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	dialect := goose.DialectSQLite3
	var opts []goose.ProviderOption
	if db.Dialect == Postgres {
		dialect = goose.DialectPostgres
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return nil, fmt.Errorf("migration lock: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	opts = append(opts, goose.WithDisableGlobalRegistry(true))
	provider, err := goose.NewProvider(dialect, db.write, sub, opts...)
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	return provider, nil
}

// EachRow runs scan on every row of a query's result and closes it. It takes
// the query's error too and returns it untouched, so a query and its loop
// share one error check:
//
//	rows, err := db.QueryContext(ctx, q, args...)
//	if err := store.EachRow(rows, err, func(r *sql.Rows) error { … }); err != nil {
func EachRow(rows *sql.Rows, err error, scan func(*sql.Rows) error) error {
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return errors.Join(rows.Err(), rows.Close())
}

// IDs reads a query of one integer column (ids) into a slice, empty rather
// than nil when there are none.
func IDs(rows *sql.Rows, err error) ([]int64, error) {
	ids := []int64{}
	err = EachRow(rows, err, func(r *sql.Rows) error {
		var id int64
		err := r.Scan(&id)
		ids = append(ids, id)
		return err
	})
	return ids, err
}

// IsUniqueViolation reports whether err is a unique-constraint violation.
func IsUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23505"
	}
	var liteErr *sqlite.Error
	if errors.As(err, &liteErr) {
		return liteErr.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || liteErr.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// Millis converts a time to the stored form: Unix milliseconds.
func Millis(t time.Time) int64 { return t.UnixMilli() }

// Time converts a stored Unix-millisecond value back to a UTC time.
func Time(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// NullTime converts a nullable stored value; nil when NULL.
func NullTime(ms sql.NullInt64) *time.Time {
	if !ms.Valid {
		return nil
	}
	t := Time(ms.Int64)
	return &t
}
