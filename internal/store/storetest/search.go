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

// testUserSearch checks the q filter against a brute-force answer: every
// page in every sort order and scope, with matches on each of the five
// columns, gives exactly the users whose user name, mail, first name, last
// name or customer code starts with q.
func testUserSearch(t *testing.T, open Factory) {
	ctx := context.Background()
	s := open(t)
	abc := mustCustomer(t, s, "ab-corp")
	xyz := mustCustomer(t, s, "xyz")
	var all []directory.User
	for i := 0; i < 40; i++ {
		u := newUser(fmt.Sprintf("u%02d", i))
		switch i % 5 {
		case 0:
			u.Username = fmt.Sprintf("ab%02d", i)
		case 1:
			u.Email = fmt.Sprintf("AB.mail%02d@example.com", i)
		case 2:
			u.FirstName = fmt.Sprintf("Abigail %d", i)
		case 3:
			u.LastName = fmt.Sprintf("abbott %d", i)
		}
		if i%4 == 0 {
			u.CustomerID = abc.ID
		} else if i%4 == 1 {
			u.CustomerID = xyz.ID
		}
		created, err := s.CreateUser(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, created)
	}
	codes := map[directory.CustomerID]string{abc.ID: "ab-corp", xyz.ID: "xyz"}
	matches := func(u directory.User, p string) bool {
		for _, v := range []string{u.Username, u.Email, u.FirstName, u.LastName, codes[u.CustomerID]} {
			if strings.HasPrefix(directory.Key(v), p) {
				return true
			}
		}
		return false
	}
	for _, scope := range []directory.Scope{{}, {Customer: xyz.ID}} {
		for _, p := range []string{"ab", "AB", "abb", "x", "u1", "zz"} {
			for _, sort := range []string{"username", "-username", "email", "-created_at"} {
				t.Run(fmt.Sprintf("%s/%s/%s", scope.Customer, p, sort), func(t *testing.T) {
					got := collect(t, func(c string) (store.Page[directory.User], error) {
						return s.ListUsers(ctx, scope, store.UserQuery{UserFilter: store.UserFilter{Q: p}, Sort: sort, Limit: 3, Cursor: c})
					})
					var want []string
					for _, u := range all {
						if matches(u, directory.Key(p)) && (!scope.Restricted() || u.CustomerID == scope.Customer) {
							want = append(want, string(u.ID))
						}
					}
					ids := names(got, func(u directory.User) string { return string(u.ID) })
					if len(ids) != len(slices.Compact(slices.Clone(ids))) {
						t.Fatalf("a user came twice: %v", ids)
					}
					sortedIDs := slices.Sorted(slices.Values(ids))
					slices.Sort(want)
					if !slices.Equal(sortedIDs, want) {
						t.Fatalf("got %d users, want %d", len(ids), len(want))
					}
					// The pages come in the requested order.
					for i := 1; i < len(got); i++ {
						a, b := got[i-1], got[i]
						var ka, kb string
						switch strings.TrimPrefix(sort, "-") {
						case "username":
							ka, kb = directory.Key(a.Username), directory.Key(b.Username)
						case "email":
							ka, kb = directory.Key(a.Email), directory.Key(b.Email)
						default:
							ka, kb = fmt.Sprint(a.CreatedAt.UnixMicro()), fmt.Sprint(b.CreatedAt.UnixMicro())
						}
						if c := strings.Compare(ka, kb); (strings.HasPrefix(sort, "-") && c < 0) || (!strings.HasPrefix(sort, "-") && c > 0) {
							t.Fatalf("out of order at %d: %q then %q", i, ka, kb)
						}
					}
				})
			}
		}
	}
}
