package manage_test

import (
	"context"
	"database/sql"
	"testing"

	"opsiam/internal/manage"
	"opsiam/internal/store/sqlstore"
	"opsiam/internal/store/sqlstore/sqltest"

	_ "modernc.org/sqlite" // the raw connection's driver
)

// eachBootstrapped runs fn on a fresh SQLite file and on a fresh
// PostgreSQL schema, each migrated and bootstrapped (catalogue, global,
// admin), with a second plain connection that reads tables the way the
// provisioning worker will.
func eachBootstrapped(t *testing.T, fn func(t *testing.T, st *sqlstore.DB, raw *sql.DB)) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.DB, dsn string) {
		if _, err := manage.Bootstrap(context.Background(), st, fastHasher, "admin password 1"); err != nil {
			t.Fatal(err)
		}
		driver := "sqlite"
		if st.Dialect() == sqlstore.Postgres {
			driver = "pgx"
		}
		raw, err := sql.Open(driver, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { raw.Close() })
		fn(t, st, raw)
	})
}
