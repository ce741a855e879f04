package storetest

import (
	"context"
	"errors"
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
		got, code, rev, err := s.UserSubject(ctx, u.ID)
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
	}
	check(cu, "ACME-1")
	check(plain, "")
	before, _ := s.RoleRevision(ctx)
	mustRole(t, s, "subject-test", directory.RoleCustom)
	if after, _ := s.RoleRevision(ctx); after == before {
		t.Fatal("creating a role did not change the revision")
	}
	check(plain, "") // the new revision
	plain.Enabled = false
	if _, err := s.UpdateUser(ctx, plain); err != nil {
		t.Fatal(err)
	}
	if got, _, _, err := s.UserSubject(ctx, plain.ID); err != nil || got.Enabled {
		t.Fatalf("disabled user read as %+v, %v", got, err)
	}
	if _, _, _, err := s.UserSubject(ctx, "nobody"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown user: %v", err)
	}
}
