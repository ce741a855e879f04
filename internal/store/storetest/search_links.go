package storetest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"opsiam/internal/directory"
	"opsiam/internal/store"
)

// testLinkedUserSearch checks the q filter of group members (ListMembers)
// and role holders (RoleUsers) against a brute-force answer, as
// testUserSearch does for ListUsers: the same semantics as /users (a
// prefix of user name, mail, first name, last name or customer code),
// restricted to the group's members or the role's holders, on every page,
// in every sort order and scope, each user once.
func testLinkedUserSearch(t *testing.T, open Factory) {
	ctx := context.Background()
	s := open(t)
	ops, dev := mustGroup(t, s, "ops"), mustGroup(t, s, "dev")
	auditor, other := mustRole(t, s, "auditor", directory.RoleCustom), mustRole(t, s, "other", directory.RoleCustom)
	inOps, hasAuditor := map[directory.UserID]bool{}, map[directory.UserID]bool{}
	all, xyz, matches := searchPopulation(t, s, 60, func(i int, u directory.User) {
		// Members and holders are spread so that every column and both
		// customers occur inside and outside the group and the role.
		if i%3 != 0 {
			inOps[u.ID] = true
			if err := s.AddMember(ctx, ops.ID, u.ID); err != nil {
				t.Fatal(err)
			}
		} else if err := s.AddMember(ctx, dev.ID, u.ID); err != nil {
			t.Fatal(err)
		}
		if i%7 < 4 {
			hasAuditor[u.ID] = true
			if err := s.AssignUserRole(ctx, u.ID, auditor.ID); err != nil {
				t.Fatal(err)
			}
		} else if err := s.AssignUserRole(ctx, u.ID, other.ID); err != nil {
			t.Fatal(err)
		}
	})
	lists := []struct {
		name string
		in   map[directory.UserID]bool
		list func(scope directory.Scope, q store.ListQuery) (store.Page[directory.User], error)
	}{
		{"members", inOps, func(scope directory.Scope, q store.ListQuery) (store.Page[directory.User], error) {
			return s.ListMembers(ctx, scope, ops.ID, q)
		}},
		{"role_users", hasAuditor, func(scope directory.Scope, q store.ListQuery) (store.Page[directory.User], error) {
			return s.RoleUsers(ctx, scope, auditor.ID, q)
		}},
	}
	for _, l := range lists {
		for _, scope := range []directory.Scope{{}, {Customer: xyz}} {
			for _, p := range []string{"ab", "AB", "abb", "ab-c", "x", "u1", "zz", ""} {
				for _, sort := range []string{"username", "-username", "email", "-created_at"} {
					t.Run(fmt.Sprintf("%s/%s/%s/%s", l.name, scope.Customer, p, sort), func(t *testing.T) {
						got := collect(t, func(c string) (store.Page[directory.User], error) {
							return l.list(scope, store.ListQuery{Q: p, Sort: sort, Limit: 3, Cursor: c})
						})
						var want []string
						for _, u := range all {
							if l.in[u.ID] && matches(u, directory.Key(p)) && (!scope.Restricted() || u.CustomerID == scope.Customer) {
								want = append(want, string(u.ID))
							}
						}
						if p == "ab" && !scope.Restricted() && len(want) < 10 {
							t.Fatalf("the data gives only %d matches: the test would prove little", len(want))
						}
						ids := names(got, func(u directory.User) string { return string(u.ID) })
						sortedIDs := slices.Sorted(slices.Values(ids))
						if len(sortedIDs) != len(slices.Compact(slices.Clone(sortedIDs))) {
							t.Fatalf("a user came twice: %v", ids)
						}
						slices.Sort(want)
						if !slices.Equal(sortedIDs, want) {
							t.Fatalf("got %d users, want %d:\n got %v\nwant %v", len(ids), len(want), sortedIDs, want)
						}
						for i := 1; i < len(got); i++ {
							if !inOrder(got[i-1], got[i], sort) {
								t.Fatalf("out of order at %d: %s then %s", i, got[i-1].Username, got[i].Username)
							}
						}
					})
				}
			}
		}
	}
}

// inOrder reports whether a may come before b in the sort order.
func inOrder(a, b directory.User, sort string) bool {
	var ka, kb string
	switch strings.TrimPrefix(sort, "-") {
	case "username":
		ka, kb = directory.Key(a.Username), directory.Key(b.Username)
	case "email":
		ka, kb = directory.Key(a.Email), directory.Key(b.Email)
	default:
		ka, kb = fmt.Sprintf("%020d", a.CreatedAt.UnixMicro()), fmt.Sprintf("%020d", b.CreatedAt.UnixMicro())
	}
	c := strings.Compare(ka, kb)
	if strings.HasPrefix(sort, "-") {
		return c >= 0
	}
	return c <= 0
}
