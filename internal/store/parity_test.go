package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"testing"

	"callboard/internal/store"
	"callboard/internal/storetest"
)

// The twin migration sets must describe the same schema. Differences that
// are by design are listed here, and only these are allowed:
var (
	// Full-text search is a virtual table (and its shadow tables) on SQLite
	// and a column with a GIN index on PostgreSQL.
	postgresOnlyColumns = []string{"calls.search_vector"}
	postgresOnlyIndexes = []string{"calls:calls_search:index:search_vector"}
	// Goose's own bookkeeping is created by goose, per dialect.
	ignoredTables = []string{"goose_db_version"}
)

// schema is a database's tables, columns with their nullability, and
// indexes, as comparable strings.
type schema struct {
	tables  []string // "users"
	columns []string // "users.email NOT NULL"
	indexes []string // "users:users_email:unique:email", "users:pk:id", "agents:unique:user_id,external_id"
}

// TestMigrationParity applies both dialects' migrations and compares the
// resulting tables, columns, nullability, primary keys and indexes.
func TestMigrationParity(t *testing.T) {
	ctx := context.Background()
	lite, err := sqliteSchema(ctx, storetest.SQLite(t))
	if err != nil {
		t.Fatal(err)
	}
	pg, err := postgresSchema(ctx, storetest.Postgres(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(lite.tables) < 10 || len(lite.columns) < 50 || len(lite.indexes) < 15 {
		t.Fatalf("the SQLite schema looks empty: %d tables, %d columns, %d indexes", len(lite.tables), len(lite.columns), len(lite.indexes))
	}
	pg.columns = slices.DeleteFunc(pg.columns, func(c string) bool {
		return slices.ContainsFunc(postgresOnlyColumns, func(p string) bool { return strings.HasPrefix(c, p+" ") })
	})
	pg.indexes = slices.DeleteFunc(pg.indexes, func(i string) bool { return slices.Contains(postgresOnlyIndexes, i) })
	for _, part := range []struct {
		name       string
		lite, post []string
	}{{"tables", lite.tables, pg.tables}, {"columns", lite.columns, pg.columns}, {"indexes", lite.indexes, pg.indexes}} {
		if onlyLite, onlyPG := diff(part.lite, part.post); len(onlyLite)+len(onlyPG) > 0 {
			t.Errorf("%s differ between the dialects' migrations:\n only on SQLite:     %v\n only on PostgreSQL: %v", part.name, onlyLite, onlyPG)
		}
	}
}

// TestParityNoticesDrift: the comparison is not blind. A column made
// nullable on one side only, or an index added on one side only, shows.
func TestParityNoticesDrift(t *testing.T) {
	ctx := context.Background()
	lite, pgDB := storetest.SQLite(t), storetest.Postgres(t)
	if _, err := pgDB.Write().ExecContext(ctx, `ALTER TABLE agents ALTER COLUMN voice DROP NOT NULL`); err != nil {
		t.Fatal(err)
	}
	if _, err := lite.Write().ExecContext(ctx, `CREATE INDEX agents_name ON agents (name)`); err != nil {
		t.Fatal(err)
	}
	l, err := sqliteSchema(ctx, lite)
	if err != nil {
		t.Fatal(err)
	}
	p, err := postgresSchema(ctx, pgDB)
	if err != nil {
		t.Fatal(err)
	}
	_, onlyPG := diff(l.columns, p.columns)
	if !slices.Contains(onlyPG, "agents.voice NULL") {
		t.Fatalf("a nullability drift went unnoticed: %v", onlyPG)
	}
	onlyLite, _ := diff(l.indexes, p.indexes)
	if !slices.Contains(onlyLite, "agents:agents_name:index:name") {
		t.Fatalf("an index drift went unnoticed: %v", onlyLite)
	}
}

func diff(a, b []string) (onlyA, onlyB []string) {
	for _, x := range a {
		if !slices.Contains(b, x) {
			onlyA = append(onlyA, x)
		}
	}
	for _, x := range b {
		if !slices.Contains(a, x) {
			onlyB = append(onlyB, x)
		}
	}
	return onlyA, onlyB
}

func nullability(notNull bool) string {
	if notNull {
		return "NOT NULL"
	}
	return "NULL"
}

func kind(unique bool) string {
	if unique {
		return "unique"
	}
	return "index"
}

func strings1(rows *sql.Rows, err error) ([]string, error) {
	var out []string
	err = store.EachRow(rows, err, func(r *sql.Rows) error {
		var s string
		if err := r.Scan(&s); err != nil {
			return err
		}
		out = append(out, s)
		return nil
	})
	return out, err
}

func sqliteSchema(ctx context.Context, db *store.DB) (schema, error) {
	var s schema
	q := db.Read()
	// Virtual tables and their shadow tables (full-text search) are
	// SQLite's own kind of table; see postgresOnlyColumns.
	tables, err := strings1(q.QueryContext(ctx, `SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'table'
		AND name NOT LIKE 'sqlite_%' ORDER BY name`))
	if err != nil {
		return s, err
	}
	for _, table := range tables {
		if slices.Contains(ignoredTables, table) {
			continue
		}
		s.tables = append(s.tables, table)
		var pk []string
		rows, err := q.QueryContext(ctx, `SELECT name, "notnull", pk FROM pragma_table_info($1) ORDER BY pk, cid`, table)
		if err := store.EachRow(rows, err, func(r *sql.Rows) error {
			var name string
			var notNull bool
			var pkPos int
			if err := r.Scan(&name, &notNull, &pkPos); err != nil {
				return err
			}
			if pkPos > 0 {
				// SQLite lets some primary key columns hold NULL (a
				// historical quirk); the schema means them NOT NULL.
				notNull = true
				pk = append(pk, name)
			}
			s.columns = append(s.columns, table+"."+name+" "+nullability(notNull))
			return nil
		}); err != nil {
			return s, fmt.Errorf("columns of %s: %w", table, err)
		}
		if len(pk) > 0 {
			s.indexes = append(s.indexes, table+":pk:"+strings.Join(pk, ","))
		}
		type index struct {
			name, origin string
			unique       bool
		}
		var idx []index
		rows, err = q.QueryContext(ctx, `SELECT name, "unique", origin FROM pragma_index_list($1)`, table)
		if err := store.EachRow(rows, err, func(r *sql.Rows) error {
			var i index
			if err := r.Scan(&i.name, &i.unique, &i.origin); err != nil {
				return err
			}
			idx = append(idx, i)
			return nil
		}); err != nil {
			return s, fmt.Errorf("indexes of %s: %w", table, err)
		}
		for _, i := range idx {
			if i.origin == "pk" {
				continue // listed above, from the columns
			}
			cols, err := strings1(q.QueryContext(ctx, `SELECT name FROM pragma_index_info($1) ORDER BY seqno`, i.name))
			if err != nil {
				return s, err
			}
			if i.origin == "u" { // a UNIQUE constraint: its index's name is SQLite's
				s.indexes = append(s.indexes, table+":unique:"+strings.Join(cols, ","))
			} else {
				s.indexes = append(s.indexes, table+":"+i.name+":"+kind(i.unique)+":"+strings.Join(cols, ","))
			}
		}
	}
	return s, nil
}

func postgresSchema(ctx context.Context, db *store.DB) (schema, error) {
	var s schema
	q := db.Read()
	tables, err := strings1(q.QueryContext(ctx, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`))
	if err != nil {
		return s, err
	}
	for _, table := range tables {
		if !slices.Contains(ignoredTables, table) {
			s.tables = append(s.tables, table)
		}
	}
	rows, err := q.QueryContext(ctx, `SELECT table_name, column_name, is_nullable = 'NO' FROM information_schema.columns
		WHERE table_schema = current_schema()`)
	if err := store.EachRow(rows, err, func(r *sql.Rows) error {
		var table, name string
		var notNull bool
		if err := r.Scan(&table, &name, &notNull); err != nil {
			return err
		}
		if !slices.Contains(ignoredTables, table) {
			s.columns = append(s.columns, table+"."+name+" "+nullability(notNull))
		}
		return nil
	}); err != nil {
		return s, fmt.Errorf("columns: %w", err)
	}
	rows, err = q.QueryContext(ctx, `SELECT t.relname, i.relname, ix.indisunique, ix.indisprimary,
			EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = ix.indexrelid AND c.contype = 'u'),
			array_to_string(ARRAY(SELECT a.attname FROM unnest(ix.indkey) WITH ORDINALITY AS k(attnum, ord)
				JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum ORDER BY k.ord), ',')
		FROM pg_index ix
		JOIN pg_class t ON t.oid = ix.indrelid
		JOIN pg_class i ON i.oid = ix.indexrelid
		JOIN pg_namespace n ON n.oid = t.relnamespace
		WHERE n.nspname = current_schema()`)
	if err := store.EachRow(rows, err, func(r *sql.Rows) error {
		var table, name, cols string
		var unique, primary, constraint bool
		if err := r.Scan(&table, &name, &unique, &primary, &constraint, &cols); err != nil {
			return err
		}
		switch {
		case slices.Contains(ignoredTables, table):
		case primary:
			s.indexes = append(s.indexes, table+":pk:"+cols)
		case constraint:
			s.indexes = append(s.indexes, table+":unique:"+cols)
		default:
			s.indexes = append(s.indexes, table+":"+name+":"+kind(unique)+":"+cols)
		}
		return nil
	}); err != nil {
		return s, fmt.Errorf("indexes: %w", err)
	}
	return s, nil
}
