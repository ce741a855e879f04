package storetest

import (
	"context"
	"errors"
	"testing"

	"opsiam/internal/directory"
	"opsiam/internal/store"
)

func testLinks(t *testing.T, open Factory) {
	ctx := context.Background()
	s := open(t)
	alice, bob := mustUser(t, s, "alice"), mustUser(t, s, "bob")
	ops, dev := mustGroup(t, s, "ops"), mustGroup(t, s, "dev")
	sre := mustRole(t, s, "SRE", directory.RoleCustom)
	view := mustRole(t, s, "viewer", directory.RolePrimitive)

	t.Run("memberships", func(t *testing.T) {
		for _, m := range []struct {
			g directory.GroupID
			u directory.UserID
		}{{ops.ID, alice.ID}, {ops.ID, bob.ID}, {dev.ID, alice.ID}, {ops.ID, alice.ID}} {
			if err := s.AddMember(ctx, m.g, m.u); err != nil {
				t.Fatalf("add member: %v", err)
			}
		}
		members := names(collect(t, func(c string) (store.Page[directory.User], error) {
			return s.ListMembers(ctx, directory.Scope{}, ops.ID, store.ListQuery{Cursor: c, Limit: 1})
		}), userName)
		if !equal(members, []string{"alice", "bob"}) {
			t.Fatalf("members of ops: %v", members)
		}
		gs, err := s.UserGroups(ctx, alice.ID)
		if err != nil || len(gs) != 2 || gs[0].Name != "dev" {
			t.Fatalf("alice's groups: %v %v", gs, err)
		}
		if err := s.AddMember(ctx, ops.ID, "ghost"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("adding an unknown user: %v", err)
		}
		if err := s.RemoveMember(ctx, dev.ID, bob.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("removing a non-member: %v", err)
		}
	})

	t.Run("role assignments and grants", func(t *testing.T) {
		if err := s.AssignUserRole(ctx, alice.ID, view.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.AssignUserRole(ctx, alice.ID, view.ID); err != nil {
			t.Fatalf("assigning twice: %v", err)
		}
		if err := s.AssignGroupRole(ctx, ops.ID, sre.ID); err != nil {
			t.Fatal(err)
		}
		rs, err := s.UserRoles(ctx, alice.ID)
		if err != nil || len(rs) != 1 || rs[0].ID != view.ID {
			t.Fatalf("alice's roles: %v %v", rs, err)
		}
		gr, err := s.GroupRoles(ctx, ops.ID)
		if err != nil || len(gr) != 1 || gr[0].ID != sre.ID {
			t.Fatalf("ops roles: %v %v", gr, err)
		}
		grants, err := s.UserGrants(ctx, alice.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(grants.Direct) != 1 || grants.Direct[0] != view.ID || len(grants.Groups) != 2 {
			t.Fatalf("grants: %+v", grants)
		}
		for _, g := range grants.Groups {
			wantRoles := 0
			if g.Group == ops.ID {
				wantRoles = 1
			}
			if len(g.Roles) != wantRoles || g.GroupName == "" {
				t.Fatalf("grant of group %s: %+v", g.GroupName, g)
			}
		}
		users := collect(t, func(c string) (store.Page[directory.User], error) {
			return s.RoleUsers(ctx, directory.Scope{}, view.ID, store.ListQuery{Cursor: c})
		})
		if len(users) != 1 || users[0].ID != alice.ID {
			t.Fatalf("users of viewer: %v", users)
		}
		groups, err := s.RoleGroups(ctx, sre.ID)
		if err != nil || len(groups) != 1 {
			t.Fatalf("groups of SRE: %v %v", groups, err)
		}
		if err := s.UnassignGroupRole(ctx, ops.ID, sre.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.UnassignUserRole(ctx, alice.ID, view.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.UnassignUserRole(ctx, alice.ID, view.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unassigning twice: %v", err)
		}
	})

	t.Run("relations", func(t *testing.T) {
		for _, rel := range []directory.GroupRelation{
			{From: ops.ID, To: ops.ID, Type: directory.RelationBoth},
			{From: ops.ID, To: dev.ID, Type: directory.RelationManage},
			{From: ops.ID, To: dev.ID, Type: directory.RelationBoth},
		} {
			if err := s.SetRelation(ctx, rel); err != nil {
				t.Fatal(err)
			}
		}
		rels, err := s.GroupRelations(ctx, dev.ID)
		if err != nil || len(rels) != 1 || rels[0].Type != directory.RelationBoth {
			t.Fatalf("relations of dev: %v %v", rels, err)
		}
		rels, _ = s.GroupRelations(ctx, ops.ID)
		if len(rels) != 2 {
			t.Fatalf("relations of ops: %v", rels)
		}
		if err := s.RemoveRelation(ctx, ops.ID, dev.ID); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("deleting cascades to links", func(t *testing.T) {
		if err := s.AssignUserRole(ctx, bob.ID, view.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteUser(ctx, bob.ID); err != nil {
			t.Fatal(err)
		}
		members := collect(t, func(c string) (store.Page[directory.User], error) {
			return s.ListMembers(ctx, directory.Scope{}, ops.ID, store.ListQuery{Cursor: c})
		})
		if len(members) != 1 {
			t.Fatalf("members after deleting bob: %d", len(members))
		}
		if err := s.DeleteGroup(ctx, ops.ID); err != nil {
			t.Fatal(err)
		}
		if gs, _ := s.UserGroups(ctx, alice.ID); len(gs) != 1 {
			t.Fatalf("alice's groups after deleting ops: %v", gs)
		}
	})

	t.Run("password hashes", func(t *testing.T) {
		if _, err := s.PasswordHash(ctx, alice.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("no password yet: %v", err)
		}
		for _, h := range []string{"h1", "h2"} {
			if err := s.SetPasswordHash(ctx, alice.ID, h); err != nil {
				t.Fatal(err)
			}
		}
		if h, err := s.PasswordHash(ctx, alice.ID); err != nil || h != "h2" {
			t.Fatalf("hash = %q, %v", h, err)
		}
	})
}
