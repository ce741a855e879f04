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
	all, xyz, matches := searchPopulation(t, s, 40, nil)
	for _, scope := range []directory.Scope{{}, {Customer: xyz}} {
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

// searchPopulation creates n users for the search tests: in turn their
// user name, mail, first name or last name starts with "ab", and every
// fourth belongs to customer ab-corp, the next to xyz. It calls each(i, u)
// after creating user i, for linking it further. It returns the users, the
// id of customer xyz (for a scoped search) and the rule a search for the
// case-folded prefix p must follow: user name, mail, first name, last name
// or customer code starts with p.
func searchPopulation(t *testing.T, s store.Store, n int, each func(i int, u directory.User)) ([]directory.User, directory.CustomerID, func(u directory.User, p string) bool) {
	t.Helper()
	ctx := context.Background()
	abc := mustCustomer(t, s, "ab-corp")
	xyz := mustCustomer(t, s, "xyz")
	var all []directory.User
	for i := 0; i < n; i++ {
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
		if each != nil {
			each(i, created)
		}
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
	return all, xyz.ID, matches
}
