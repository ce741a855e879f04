package manage_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"opsiam/internal/manage"
	"opsiam/internal/store/sqlstore"
	"opsiam/internal/testenv"

	_ "modernc.org/sqlite" // the raw connection's driver
)

// eachBootstrapped runs fn on a fresh SQLite file and on a fresh
// PostgreSQL schema, each migrated and bootstrapped (catalogue, global,
// admin), with a second plain connection that reads tables the way the
// provisioning worker will.
func eachBootstrapped(t *testing.T, fn func(t *testing.T, st *sqlstore.DB, raw *sql.DB)) {
	for _, tc := range []struct {
		name, driver string
		dsn          func(t *testing.T) string
	}{
		{"SQLite", "sqlite", func(t *testing.T) string { return filepath.Join(t.TempDir(), "db") }},
		{"Postgres", "pgx", func(t *testing.T) string { return testenv.PostgresSchema(t) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			dsn := tc.dsn(t)
			st, err := sqlstore.Open(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			if _, err := st.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := manage.Bootstrap(ctx, st, fastHasher, "admin password 1"); err != nil {
				t.Fatal(err)
			}
			raw, err := sql.Open(tc.driver, dsn)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { raw.Close() })
			fn(t, st, raw)
		})
	}
}
