package store

import (
	"context"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"
)

// columns returns table → sorted column names of a migrated database.
func columns(t *testing.T, db *DB) map[string]string {
	t.Helper()
	ctx := context.Background()
	var rows []struct {
		Table  string `db:"t"`
		Column string `db:"c"`
	}
	q := `SELECT m.name AS t, p.name AS c FROM sqlite_master m, pragma_table_info(m.name) p
		WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'`
	if db.Dialect() == Postgres {
		q = `SELECT table_name AS t, column_name AS c FROM information_schema.columns
			WHERE table_schema = current_schema()`
	}
	mustNoErr(t, db.x.SelectContext(ctx, &rows, q))
	cols := map[string][]string{}
	for _, r := range rows {
		cols[r.Table] = append(cols[r.Table], r.Column)
	}
	out := map[string]string{}
	for table, cs := range cols {
		slices.Sort(cs)
		out[table] = strings.Join(cs, ",")
	}
	return out
}

// TestSchemasMatchAcrossDialects checks the two migration folders build the
// same tables with the same columns.
func TestSchemasMatchAcrossDialects(t *testing.T) {
	base := os.Getenv("TEST_DATABASE_URL")
	if base == "" {
		t.Skip("TEST_DATABASE_URL not set")
	}
	lite := openTest(t, "sqlite://:memory:")
	pg := openTest(t, pgSchemaURL(t, base))
	for _, db := range []*DB{lite, pg} {
		_, err := db.Migrate(context.Background())
		mustNoErr(t, err)
	}
	a, b := columns(t, lite), columns(t, pg)
	if len(a) < 9 {
		t.Fatalf("only %d tables: %v", len(a), slices.Sorted(maps.Keys(a)))
	}
	for table, cols := range a {
		if b[table] != cols {
			t.Errorf("table %s:\n  sqlite:   %s\n  postgres: %s", table, cols, b[table])
		}
	}
	for table := range b {
		if _, ok := a[table]; !ok {
			t.Errorf("table %s only on postgres", table)
		}
	}
}
