package storetest

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"opsiam/internal/directory"
	"opsiam/internal/store"
)

// testUserSubject checks store.UserSubjects against GetUser, GetCustomer
// and RoleRevision.
func testUserSubject(t *testing.T, open Factory) {
	ctx := context.Background()
	s := open(t)
	c := mustCustomer(t, s, "ACME-1")
	nu := newUser("cust")
	nu.CustomerID = c.ID
	cu, err := s.CreateUser(ctx, nu)
	if err != nil {
		t.Fatal(err)
	}
	plain := mustUser(t, s, "plain")
	check := func(u directory.User, wantCode string) {
		t.Helper()
		sub, err := s.UserSubject(ctx, u.ID)
		got, code, rev := sub.User, sub.CustomerCode, sub.RoleRevision
		if err != nil {
			t.Fatalf("subject of %s: %v", u.Username, err)
		}
		want, err := s.GetUser(ctx, directory.Scope{}, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		wantRev, err := s.RoleRevision(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != want.ID || got.Username != want.Username || got.Email != want.Email || got.Enabled != want.Enabled ||
			got.CustomerID != want.CustomerID || got.Version != want.Version || !got.UpdatedAt.Equal(want.UpdatedAt) {
			t.Fatalf("user: got %+v\nwant %+v", got, want)
		}
		if code != wantCode || rev != wantRev {
			t.Fatalf("%s: customer %q revision %d; want %q and %d", u.Username, code, rev, wantCode, wantRev)
		}
		wantGrants, err := s.UserGrants(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(sub.Grants, wantGrants) {
			t.Fatalf("%s: grants %+v\nwant %+v", u.Username, sub.Grants, wantGrants)
		}
	}
	check(cu, "ACME-1")
	check(plain, "") // no grants at all
	before, _ := s.RoleRevision(ctx)
	r1 := mustRole(t, s, "subject-test", directory.RoleCustom)
	r2 := mustRole(t, s, "subject-two", directory.RoleCustom)
	if after, _ := s.RoleRevision(ctx); after == before {
		t.Fatal("creating a role did not change the revision")
	}
	check(plain, "") // the new revision
	// Direct roles, a group with two roles, a group with none.
	g1, g2 := mustGroup(t, s, "subject-g1"), mustGroup(t, s, "subject-g2")
	for _, err := range []error{
		s.AssignUserRole(ctx, cu.ID, r1.ID), s.AssignUserRole(ctx, cu.ID, r2.ID),
		s.AddMember(ctx, g1.ID, cu.ID), s.AddMember(ctx, g2.ID, cu.ID),
		s.AssignGroupRole(ctx, g1.ID, r1.ID), s.AssignGroupRole(ctx, g1.ID, r2.ID),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	check(cu, "ACME-1")
	if sub, _ := s.UserSubject(ctx, cu.ID); len(sub.Grants.Direct) != 2 || len(sub.Grants.Groups) != 2 {
		t.Fatalf("grants: %+v", sub.Grants)
	}
	plain.Enabled = false
	if _, err := s.UpdateUser(ctx, plain); err != nil {
		t.Fatal(err)
	}
	if got, err := s.UserSubject(ctx, plain.ID); err != nil || got.User.Enabled {
		t.Fatalf("disabled user read as %+v, %v", got, err)
	}
	if _, err := s.UserSubject(ctx, "nobody"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown user: %v", err)
	}
}
