package httpapi_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"opsiam/internal/directory"
	"opsiam/internal/store"
	"opsiam/internal/store/sqlstore/sqltest"
)

// BenchmarkMemberSearch1M measures the q filter of group members and role
// holders (the same semantics as /users, sqlstore unionSearch) on
// PostgreSQL with 1,000,000 users: members of global (every user), of a
// group of 1,000 (every 1000th user, so a common prefix matches many users
// but few members), and holders of a role given to every 10th user.
// First and next page of 50; p50/p95 in ms.
//
//	OPSIAM_TEST_POSTGRES_DSN=… go test -run x -bench MemberSearch1M -benchtime 200x ./internal/httpapi
func BenchmarkMemberSearch1M(b *testing.B) {
	dsn := sqltest.Postgres(b)
	e := newEnv(b, dsn, nil)
	seedUsers(b, dsn, 1_000_000)
	ctx := context.Background()
	small, err := e.db.CreateGroup(ctx, directory.Group{Name: "bench-small"})
	if err != nil {
		b.Fatal(err)
	}
	role, err := e.db.CreateRole(ctx, directory.Role{Name: "bench-role", Type: directory.RoleCustom})
	if err != nil {
		b.Fatal(err)
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	for _, s := range []string{
		`INSERT INTO group_members (group_id, user_id) SELECT '` + string(small.ID) + `', id FROM users
 WHERE id ~ '^[0-9a-f]+$' AND ('x' || right(id, 8))::bit(32)::int % 1000 = 0`,
		`INSERT INTO user_roles (user_id, role_id) SELECT id, '` + string(role.ID) + `' FROM users
 WHERE id ~ '^[0-9a-f]+$' AND ('x' || right(id, 8))::bit(32)::int % 10 = 0`,
		`ANALYZE`,
	} {
		if _, err := db.Exec(s); err != nil {
			b.Fatal(err)
		}
	}
	global, err := e.db.GetGroupByName(ctx, "global")
	if err != nil {
		b.Fatal(err)
	}
	lists := []struct {
		name string
		list func(q store.ListQuery) (store.Page[directory.User], error)
	}{
		{"global", func(q store.ListQuery) (store.Page[directory.User], error) {
			return e.db.ListMembers(ctx, directory.Scope{}, global.ID, q)
		}},
		{"group1000", func(q store.ListQuery) (store.Page[directory.User], error) {
			return e.db.ListMembers(ctx, directory.Scope{}, small.ID, q)
		}},
		{"role", func(q store.ListQuery) (store.Page[directory.User], error) {
			return e.db.RoleUsers(ctx, directory.Scope{}, role.ID, q)
		}},
	}
	for _, l := range lists {
		for _, p := range []string{"a", "3f", "c0d", "e5a9", "first1"} {
			b.Run(l.name+"/q="+p, func(b *testing.B) {
				var first, next []time.Duration
				q := store.ListQuery{Q: p, Limit: 50}
				for b.Loop() {
					t0 := time.Now()
					page, err := l.list(q)
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
					if _, err := l.list(q2); err != nil {
						b.Fatal(err)
					}
					next = append(next, time.Since(t1))
				}
				report(b, first, next)
			})
		}
	}
}
