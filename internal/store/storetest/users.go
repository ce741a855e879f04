package storetest

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"testing"
	"time"

	"opsiam/internal/directory"
	"opsiam/internal/store"
)

func testUsers(t *testing.T, open Factory) {
	ctx := context.Background()

	t.Run("create get update delete", func(t *testing.T) {
		s := open(t)
		in := newUser("Alice")
		in.Company, in.Phone1, in.Note = "ACME 株式会社", "+81 3-1234", "line one\nline two"
		u, err := s.CreateUser(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if u.ID == "" || u.Version != 1 || u.CreatedAt.IsZero() {
			t.Fatalf("create did not set id, version, times: %+v", u)
		}
		got, err := s.GetUser(ctx, directory.Scope{}, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Username != "Alice" || got.Company != in.Company || got.Note != in.Note || !got.Enabled || got.Timezone != "Asia/Tokyo" {
			t.Fatalf("get returned %+v", got)
		}
		if !got.CreatedAt.Equal(u.CreatedAt) || got.CreatedAt.Location() != time.UTC {
			t.Fatalf("created_at %v, want %v in UTC", got.CreatedAt, u.CreatedAt)
		}
		byName, err := s.GetUserByUsername(ctx, directory.Scope{}, "aLiCe")
		if err != nil || byName.ID != u.ID {
			t.Fatalf("by user name ignoring case: %v %v", byName.ID, err)
		}
		byMail, err := s.GetUserByLogin(ctx, "ALICE@example.COM")
		if err != nil || byMail.ID != u.ID {
			t.Fatalf("by login mail: %v %v", byMail.ID, err)
		}

		got.Email, got.Enabled, got.Department = "alice2@example.com", false, "Ops"
		upd, err := s.UpdateUser(ctx, got)
		if err != nil {
			t.Fatal(err)
		}
		if upd.Version != 2 || upd.Email != "alice2@example.com" || upd.Enabled || upd.Department != "Ops" {
			t.Fatalf("update returned %+v", upd)
		}
		if _, err := s.UpdateUser(ctx, got); !errors.Is(err, store.ErrStale) {
			t.Fatalf("update with old version: got %v, want ErrStale", err)
		}
		if err := s.DeleteUser(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.GetUser(ctx, directory.Scope{}, u.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("get after delete: %v", err)
		}
		if err := s.DeleteUser(ctx, u.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("second delete: %v", err)
		}
		missing := upd
		missing.ID = "nope"
		if _, err := s.UpdateUser(ctx, missing); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("update of a missing user: %v", err)
		}
	})

	t.Run("user name and mail unique ignoring case", func(t *testing.T) {
		s := open(t)
		mustUser(t, s, "bob")
		dup := newUser("BOB")
		dup.Email = "other@example.com"
		_, err := s.CreateUser(ctx, dup)
		var ce *store.ConflictError
		if !errors.As(err, &ce) || ce.Field != "username" || !errors.Is(err, store.ErrConflict) {
			t.Fatalf("same user name in other case: got %v, want conflict on username", err)
		}
		dup = newUser("robert")
		dup.Email = "Bob@Example.com"
		_, err = s.CreateUser(ctx, dup)
		if !errors.As(err, &ce) || ce.Field != "email" {
			t.Fatalf("same mail in other case: got %v, want conflict on email", err)
		}
		other := mustUser(t, s, "carol")
		other.Email = "BOB@example.com"
		if _, err := s.UpdateUser(ctx, other); !errors.As(err, &ce) || ce.Field != "email" {
			t.Fatalf("update to a taken mail: got %v, want conflict on email", err)
		}
	})

	t.Run("deleted user's mail is free at once", func(t *testing.T) {
		s := open(t)
		u := mustUser(t, s, "dave")
		if err := s.DeleteUser(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateUser(ctx, newUser("dave")); err != nil {
			t.Fatalf("U3: reuse of a deleted user's name and mail: %v", err)
		}
	})

	t.Run("scope hides other customers' users", func(t *testing.T) {
		s := open(t)
		a, b := mustCustomer(t, s, "A"), mustCustomer(t, s, "B")
		ua := newUser("ua")
		ua.CustomerID = a.ID
		ua1, err := s.CreateUser(ctx, ua)
		if err != nil {
			t.Fatal(err)
		}
		ub := newUser("ub")
		ub.CustomerID = b.ID
		if _, err := s.CreateUser(ctx, ub); err != nil {
			t.Fatal(err)
		}
		mustUser(t, s, "operator")
		scopeA := directory.Scope{Customer: a.ID}
		all := collect(t, func(c string) (store.Page[directory.User], error) {
			return s.ListUsers(ctx, scopeA, store.UserQuery{Cursor: c})
		})
		if got := names(all, userName); !equal(got, []string{"ua"}) {
			t.Fatalf("scoped list = %v, want [ua]", got)
		}
		if _, err := s.GetUserByUsername(ctx, scopeA, "ub"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("scoped get of another customer's user: %v", err)
		}
		if got, err := s.GetUser(ctx, scopeA, ua1.ID); err != nil || got.CustomerID != a.ID {
			t.Fatalf("scoped get of own user: %v %v", got.CustomerID, err)
		}
		if n, err := s.CountUsers(ctx, scopeA, store.UserFilter{}); err != nil || n != 1 {
			t.Fatalf("scoped count = %d, %v", n, err)
		}
	})

	t.Run("unknown customer is refused", func(t *testing.T) {
		s := open(t)
		u := newUser("x")
		u.CustomerID = "no-such-customer"
		if _, err := s.CreateUser(ctx, u); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("got %v, want ErrNotFound", err)
		}
	})
}

func testUserPaging(t *testing.T, open Factory) {
	ctx := context.Background()
	s := open(t)
	var want []string
	for i := 0; i < 23; i++ {
		name := fmt.Sprintf("user%02d", (i*7)%23) // created out of order
		mustUser(t, s, name)
		want = append(want, name)
	}
	sort.Strings(want)
	for _, limit := range []int{1, 5, 23, 100} {
		got := names(collect(t, func(c string) (store.Page[directory.User], error) {
			return s.ListUsers(ctx, directory.Scope{}, store.UserQuery{Limit: limit, Cursor: c})
		}), userName)
		if !equal(got, want) {
			t.Fatalf("limit %d: pages gave %v, want %v", limit, got, want)
		}
	}
	desc := names(collect(t, func(c string) (store.Page[directory.User], error) {
		return s.ListUsers(ctx, directory.Scope{}, store.UserQuery{Sort: "-username", Limit: 4, Cursor: c})
	}), userName)
	for i := range desc {
		if desc[i] != want[len(want)-1-i] {
			t.Fatalf("descending order: %v", desc)
		}
	}
	byCreated := collect(t, func(c string) (store.Page[directory.User], error) {
		return s.ListUsers(ctx, directory.Scope{}, store.UserQuery{Sort: "created_at", Limit: 3, Cursor: c})
	})
	if len(byCreated) != 23 {
		t.Fatalf("by created_at: %d users, want 23", len(byCreated))
	}
	for i := 1; i < len(byCreated); i++ {
		if byCreated[i].CreatedAt.Before(byCreated[i-1].CreatedAt) {
			t.Fatalf("created_at order broken at %d", i)
		}
	}
	if _, err := s.ListUsers(ctx, directory.Scope{}, store.UserQuery{Sort: "password"}); err == nil {
		t.Fatal("sort by an unknown field was accepted")
	}
	if _, err := s.ListUsers(ctx, directory.Scope{}, store.UserQuery{Cursor: "garbage!"}); err == nil {
		t.Fatal("a bad cursor was accepted")
	}
}

func testUserFilters(t *testing.T, open Factory) {
	ctx := context.Background()
	s := open(t)
	c := mustCustomer(t, s, "ACME")
	for _, n := range []string{"anna", "andreas", "bert", "carla"} {
		u := newUser(n)
		if n == "carla" {
			u.CustomerID = c.ID
		}
		if n == "bert" {
			u.Enabled = false
		}
		if _, err := s.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	free := mustRole(t, s, "free_user", directory.RolePrimitive)
	bundle := mustRole(t, s, "Free bundle", directory.RoleCustom)
	if err := s.AddContainment(ctx, bundle.ID, free.ID); err != nil {
		t.Fatal(err)
	}
	g := mustGroup(t, s, "freebies")
	andreas, _ := s.GetUserByUsername(ctx, directory.Scope{}, "andreas")
	if err := s.AddMember(ctx, g.ID, andreas.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.AssignGroupRole(ctx, g.ID, bundle.ID); err != nil {
		t.Fatal(err)
	}
	off := false
	tests := []struct {
		name string
		f    store.UserFilter
		want []string
	}{
		{"prefix of user name", store.UserFilter{Q: "AN"}, []string{"andreas", "anna"}},
		{"prefix of mail", store.UserFilter{Q: "carla@"}, []string{"carla"}},
		{"prefix of last name", store.UserFilter{Q: "last b"}, []string{"bert"}},
		{"customer code", store.UserFilter{Q: "acm"}, []string{"carla"}},
		{"exact user name", store.UserFilter{Username: "ANNA"}, []string{"anna"}},
		{"exact mail", store.UserFilter{Email: "Bert@Example.com"}, []string{"bert"}},
		{"customer", store.UserFilter{CustomerID: c.ID}, []string{"carla"}},
		{"disabled", store.UserFilter{Enabled: &off}, []string{"bert"}},
		{"billed", store.UserFilter{Billing: store.Billed, FreeRoles: []directory.RoleID{free.ID, bundle.ID}}, []string{"anna", "carla"}},
		{"non-billed", store.UserFilter{Billing: store.NonBilled, FreeRoles: []directory.RoleID{free.ID, bundle.ID}}, []string{"andreas", "bert"}},
		{"non-billed without free roles", store.UserFilter{Billing: store.NonBilled}, []string{"bert"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := names(collect(t, func(cur string) (store.Page[directory.User], error) {
				return s.ListUsers(ctx, directory.Scope{}, store.UserQuery{UserFilter: tc.f, Cursor: cur, Limit: 1})
			}), userName)
			if !equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			n, err := s.CountUsers(ctx, directory.Scope{}, tc.f)
			if err != nil || n != len(tc.want) {
				t.Fatalf("count = %d, %v; want %d", n, err, len(tc.want))
			}
		})
	}
}

// testUserCustomerSort: the plain user list sorts by the customer's code
// (users without a customer first, equal codes by id), pages through it
// in both directions, and the search refuses that sort (issue 17).
func testUserCustomerSort(t *testing.T, open Factory) {
	ctx := context.Background()
	s := open(t)
	codes := map[string]directory.CustomerID{}
	for _, code := range []string{"zulu", "alpha", "mike"} {
		c, err := s.CreateCustomer(ctx, directory.Customer{Code: code, Name: "Customer " + code, State: directory.CustomerValid})
		if err != nil {
			t.Fatal(err)
		}
		codes[code] = c.ID
	}
	type row struct{ code, id string }
	var want []row
	for i, code := range []string{"mike", "", "zulu", "alpha", "mike", "", "alpha", "zulu", "mike"} {
		u := newUser(fmt.Sprintf("cs%02d", i))
		u.CustomerID = codes[code]
		created, err := s.CreateUser(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, row{code, string(created.ID)})
	}
	sort.Slice(want, func(i, j int) bool {
		if want[i].code != want[j].code {
			return want[i].code < want[j].code
		}
		return want[i].id < want[j].id
	})
	for _, desc := range []bool{false, true} {
		sortBy := "customer"
		if desc {
			sortBy = "-customer"
		}
		got := names(collect(t, func(c string) (store.Page[directory.User], error) {
			return s.ListUsers(ctx, directory.Scope{}, store.UserQuery{Sort: sortBy, Limit: 2, Cursor: c})
		}), func(u directory.User) string { return string(u.ID) })
		var w []string
		for i := range want {
			k := i
			if desc {
				k = len(want) - 1 - i
			}
			w = append(w, want[k].id)
		}
		if !equal(got, w) {
			t.Fatalf("sort %s: %v, want %v", sortBy, got, w)
		}
	}
	if _, err := s.ListUsers(ctx, directory.Scope{}, store.UserQuery{UserFilter: store.UserFilter{Q: "cs"}, Sort: "customer"}); err == nil {
		t.Fatal("the search accepted the customer sort")
	}
}
