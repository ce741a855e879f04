package sqlstore_test

import (
	"context"
	"strings"
	"testing"

	"opsiam/internal/store/sqlstore"
)

// schemaOf lists tables, columns and indexes of the database, for comparing
// it before and after a migration run.
func schemaOf(t *testing.T, db *sqlstore.DB) string {
	t.Helper()
	q := `SELECT type || ' ' || name || ' ' || coalesce(sql, '') FROM sqlite_master ORDER BY name`
	if db.Dialect() == sqlstore.Postgres {
		q = `SELECT table_name || '.' || column_name || ' ' || data_type FROM information_schema.columns
 WHERE table_schema = current_schema() UNION ALL
 SELECT indexname || ' ' || indexdef FROM pg_indexes WHERE schemaname = current_schema() ORDER BY 1`
	}
	rows, err := db.Query(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(rows, "\n")
}
