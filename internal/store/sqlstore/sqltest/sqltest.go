// Package sqltest opens fresh, migrated sqlstore databases for the tests of
// other packages: a new SQLite file in the test's temporary directory, and
// a PostgreSQL schema of the test's own, migrated (Postgres: reused from
// the process's earlier tests after a reset; skipped outside CI when
// PostgreSQL is missing). It is imported only by tests.
package sqltest

import (
	"context"
	"path/filepath"
	"testing"

	"opsiam/internal/store/sqlstore"
)

// SQLiteDSN is a new SQLite file in the test's temporary directory.
func SQLiteDSN(t testing.TB) string { return filepath.Join(t.TempDir(), "opsiam.db") }

// Open opens and migrates the database that dsn names and closes it when
// the test ends.
func Open(t testing.TB, dsn string) *sqlstore.DB {
	t.Helper()
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return db
}

// Each runs fn as the sub-tests SQLite and Postgres, each on a fresh,
// migrated database; fn also gets the DSN, for a second connection.
func Each(t *testing.T, fn func(t *testing.T, db *sqlstore.DB, dsn string)) {
	for _, c := range []struct {
		name string
		dsn  func(t testing.TB) string
	}{{"SQLite", SQLiteDSN}, {"Postgres", Postgres}} {
		t.Run(c.name, func(t *testing.T) {
			dsn := c.dsn(t)
			fn(t, Open(t, dsn), dsn)
		})
	}
}
