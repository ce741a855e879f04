// Package testenv finds the real services that tests need (PostgreSQL, an
// SMTP server, a browser). Outside CI a test whose service is missing is
// skipped with a one-line reason; with CI=true it fails, so a green CI run
// always means the service was there and the test ran.
package testenv

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the pgx database/sql driver
)

// InCI reports whether the tests run in CI (CI=true).
func InCI() bool { return os.Getenv("CI") == "true" }

// Missing skips t, or fails it in CI, because a service is not there.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if InCI() {
		t.Fatalf("CI=true but %s", msg)
	}
	t.Skip(msg)
}

// PostgresDSN returns OPSIAM_TEST_POSTGRES_DSN after checking that the
// server answers.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv("OPSIAM_TEST_POSTGRES_DSN")
	if dsn == "" {
		Missing(t, "OPSIAM_TEST_POSTGRES_DSN is not set (see .ci/run)")
	}
	db, err := sql.Open("pgx", dsn)
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = db.PingContext(ctx)
		cancel()
		db.Close()
	}
	if err != nil {
		Missing(t, "PostgreSQL at OPSIAM_TEST_POSTGRES_DSN does not answer: %v", err)
	}
	return dsn
}

// PostgresSchema creates an empty schema for one test and returns a DSN
// whose connections use it; the schema is dropped when the test ends.
func PostgresSchema(t testing.TB) string {
	t.Helper()
	dsn := PostgresDSN(t)
	name := fmt.Sprintf("t_%d_%d", time.Now().UnixNano(), os.Getpid())
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(`CREATE SCHEMA ` + name); err != nil {
		admin.Close()
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec(`DROP SCHEMA ` + name + ` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", name, err)
		}
		admin.Close()
	})
	out, err := WithSearchPath(dsn, name)
	if err != nil {
		t.Fatalf("OPSIAM_TEST_POSTGRES_DSN: %v", err)
	}
	return out
}

// WithSearchPath returns dsn with its connections' search_path set to
// schema.
func WithSearchPath(dsn, schema string) (string, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return "", err
	}
	qs := u.Query()
	qs.Set("search_path", schema)
	u.RawQuery = qs.Encode()
	return u.String(), nil
}
