package httpapi_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"slices"
	"testing"
	"time"

	"opsiam/internal/directory"
	"opsiam/internal/manage"
	"opsiam/internal/store"
	"opsiam/internal/store/sqlstore/sqltest"
)

// seedUsers inserts n users in one INSERT … SELECT FROM generate_series,
// each a member of global (U4). User names are the first 8 hex digits of
// md5(i), a dot and i, so a prefix of k hex digits selects about n/16^k
// users, spread over the whole table.
func seedUsers(tb testing.TB, dsn string, n int) {
	tb.Helper()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	now := time.Now().UnixMicro()
	stmts := []string{
		fmt.Sprintf(`INSERT INTO users (id, username, username_key, email, email_key, first_name, first_name_key,
 last_name, last_name_key, enabled, email_verified, otp_required, timezone, created_at, updated_at, version)
 SELECT lpad(to_hex(i), 32, '0'), substr(md5(i::text), 1, 8) || '.' || i, substr(md5(i::text), 1, 8) || '.' || i,
 'u' || i || '@example.com', 'u' || i || '@example.com', 'First' || (i %% 1000), 'first' || (i %% 1000),
 'Last' || (i %% 997), 'last' || (i %% 997), i %% 50 <> 0, true, false, 'Asia/Tokyo', %d + i, %d + i, 1
 FROM generate_series(1, %d) AS s(i)`, now, now, n),
		`INSERT INTO group_members (group_id, user_id) SELECT g.id, u.id FROM groups g, users u
 WHERE g.name_key = 'global' AND u.username_key <> 'admin'`,
		`ANALYZE`,
	}
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			tb.Fatalf("seed: %v", err)
		}
	}
}

func percentile(d []time.Duration, p float64) float64 {
	s := slices.Clone(d)
	slices.Sort(s)
	return float64(s[int(float64(len(s)-1)*p)].Microseconds()) / 1000
}

// BenchmarkUserSearch1M is acceptance 5: on PostgreSQL with 1,000,000
// users, search by user-name prefix, first page and next page, through
// the store (the SQL) and through the REST API (with authentication and
// the billed flag of every listed user). Reports p50/p95 in ms.
//
//	OPSIAM_TEST_POSTGRES_DSN=… go test -run x -bench UserSearch1M -benchtime 200x ./internal/httpapi
func BenchmarkUserSearch1M(b *testing.B) {
	dsn := sqltest.Postgres(b)
	e := newEnv(b, dsn, nil)
	start := time.Now()
	seedUsers(b, dsn, 1_000_000)
	b.Logf("seeded 1,000,000 users in %v", time.Since(start).Round(time.Second))
	ctx := context.Background()
	prefixes := []string{"a", "3f", "c0d", "e5a9"} // about 62,500, 3,900, 240 and 15 matches
	for _, p := range prefixes {
		q := store.UserQuery{UserFilter: store.UserFilter{Q: p}, Limit: 50}
		if n, err := e.db.CountUsers(ctx, directory.Scope{}, q.UserFilter); err == nil {
			b.Logf("prefix %q: %d users", p, n)
		}
		b.Run("store/q="+p, func(b *testing.B) {
			var first, next []time.Duration
			for b.Loop() {
				t0 := time.Now()
				page, err := e.svc.ListUsers(ctx, manage.SystemCaller("bench", "bench"), q)
				if err != nil {
					b.Fatal(err)
				}
				first = append(first, time.Since(t0))
				if page.Next == "" {
					continue
				}
				q2 := q
				q2.Cursor = page.Next
				t1 := time.Now()
				if _, err := e.svc.ListUsers(ctx, manage.SystemCaller("bench", "bench"), q2); err != nil {
					b.Fatal(err)
				}
				next = append(next, time.Since(t1))
			}
			report(b, first, next)
		})
		b.Run("api/q="+p, func(b *testing.B) {
			var first, next []time.Duration
			for b.Loop() {
				t0 := time.Now()
				r := e.do(req{method: "GET", path: "/users?limit=50&q=" + url.QueryEscape(p), token: e.admin})
				first = append(first, time.Since(t0))
				if r.status != 200 {
					b.Fatalf("status %d", r.status)
				}
				if r.str("next_cursor") == "" {
					continue
				}
				t1 := time.Now()
				r = e.do(req{method: "GET", path: "/users?limit=50&q=" + url.QueryEscape(p) + "&cursor=" + url.QueryEscape(r.str("next_cursor")), token: e.admin})
				next = append(next, time.Since(t1))
				if r.status != 200 {
					b.Fatalf("status %d", r.status)
				}
			}
			report(b, first, next)
		})
	}
}

func report(b *testing.B, first, next []time.Duration) {
	b.ReportMetric(percentile(first, 0.5), "first-p50-ms")
	b.ReportMetric(percentile(first, 0.95), "first-p95-ms")
	if len(next) > 0 {
		b.ReportMetric(percentile(next, 0.5), "next-p50-ms")
		b.ReportMetric(percentile(next, 0.95), "next-p95-ms")
	}
	b.ReportMetric(0, "ns/op")
}
