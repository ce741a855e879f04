package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"opsiam/internal/directory"
	"opsiam/internal/store"
)

func testGroups(t *testing.T, open Factory) {
	ctx := context.Background()
	t.Run("create get update delete", func(t *testing.T) {
		s := open(t)
		g, err := s.CreateGroup(ctx, directory.Group{Name: "Ops Team", Email: "ops@example.com", Description: "運用"})
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.GetGroupByName(ctx, "ops team")
		if err != nil || got.ID != g.ID || got.Description != "運用" || got.Version != 1 {
			t.Fatalf("get by name: %+v %v", got, err)
		}
		got.Description = "changed"
		upd, err := s.UpdateGroup(ctx, got)
		if err != nil || upd.Description != "changed" || upd.Version != 2 {
			t.Fatalf("update: %+v %v", upd, err)
		}
		if _, err := s.UpdateGroup(ctx, got); !errors.Is(err, store.ErrStale) {
			t.Fatalf("stale update: %v", err)
		}
		if err := s.DeleteGroup(ctx, g.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.GetGroup(ctx, g.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("get after delete: %v", err)
		}
	})
	t.Run("name unique ignoring case", func(t *testing.T) {
		s := open(t)
		mustGroup(t, s, "Dev")
		_, err := s.CreateGroup(ctx, directory.Group{Name: "DEV"})
		var ce *store.ConflictError
		if !errors.As(err, &ce) || ce.Field != "name" {
			t.Fatalf("got %v, want conflict on name", err)
		}
	})
	t.Run("paging", func(t *testing.T) {
		s := open(t)
		var want []string
		for i := 0; i < 12; i++ {
			n := fmt.Sprintf("g%02d", 11-i)
			mustGroup(t, s, n)
			want = append([]string{n}, want...)
		}
		got := names(collect(t, func(c string) (store.Page[directory.Group], error) {
			return s.ListGroups(ctx, store.ListQuery{Limit: 5, Cursor: c})
		}), func(g directory.Group) string { return g.Name })
		if !equal(got, want) {
			t.Fatalf("got %v, want %v", got, want)
		}
		p, err := s.ListGroups(ctx, store.ListQuery{Q: "G1"})
		if err != nil || len(p.Items) != 2 {
			t.Fatalf("prefix filter: %d items, %v", len(p.Items), err)
		}
	})
}

func testRoles(t *testing.T, open Factory) {
	ctx := context.Background()
	t.Run("create get update delete and revision", func(t *testing.T) {
		s := open(t)
		rev0, err := s.RoleRevision(ctx)
		if err != nil {
			t.Fatal(err)
		}
		r, err := s.CreateRole(ctx, directory.Role{Name: "Night Shift", Type: directory.RoleCustom, Description: "d"})
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.GetRoleByName(ctx, "NIGHT shift")
		if err != nil || got.ID != r.ID || got.Type != directory.RoleCustom {
			t.Fatalf("get by name: %+v %v", got, err)
		}
		got.Description = "new"
		got.Name = "ignored"
		upd, err := s.UpdateRole(ctx, got)
		if err != nil || upd.Description != "new" || upd.Name != "Night Shift" {
			t.Fatalf("update changes the description only: %+v %v", upd, err)
		}
		if err := s.DeleteRole(ctx, r.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.GetRole(ctx, r.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("get after delete: %v", err)
		}
		rev1, _ := s.RoleRevision(ctx)
		if rev1 < rev0+3 {
			t.Fatalf("revision %d → %d after create, update, delete", rev0, rev1)
		}
	})
	t.Run("name unique ignoring case", func(t *testing.T) {
		s := open(t)
		mustRole(t, s, "Auditor", directory.RoleCustom)
		if _, err := s.CreateRole(ctx, directory.Role{Name: "auditor", Type: directory.RoleCustom}); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("got %v, want conflict", err)
		}
	})
	t.Run("containment and graph", func(t *testing.T) {
		s := open(t)
		a := mustRole(t, s, "A", directory.RoleCustom)
		b := mustRole(t, s, "B", directory.RoleCustom)
		c := mustRole(t, s, "c", directory.RolePrimitive)
		for _, e := range [][2]directory.RoleID{{a.ID, b.ID}, {b.ID, c.ID}, {a.ID, b.ID}} {
			if err := s.AddContainment(ctx, e[0], e[1]); err != nil {
				t.Fatalf("contain: %v", err)
			}
		}
		if err := s.AddContainment(ctx, a.ID, "missing"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("containing an unknown role: %v", err)
		}
		roles, edges, rev, err := s.RoleGraph(ctx)
		if err != nil || len(roles) != 3 || len(edges) != 2 || rev == 0 {
			t.Fatalf("graph: %d roles, %d edges, rev %d, %v", len(roles), len(edges), rev, err)
		}
		if err := s.RemoveContainment(ctx, a.ID, b.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.RemoveContainment(ctx, a.ID, b.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("removing twice: %v", err)
		}
		if err := s.DeleteRole(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		_, edges, rev2, _ := s.RoleGraph(ctx)
		if len(edges) != 0 || rev2 <= rev {
			t.Fatalf("after removal: %d edges, revision %d → %d", len(edges), rev, rev2)
		}
		p, err := s.ListRoles(ctx, store.RoleQuery{Type: directory.RoleCustom})
		if err != nil || len(p.Items) != 2 {
			t.Fatalf("list custom roles: %d, %v", len(p.Items), err)
		}
	})
}

func testCustomers(t *testing.T, open Factory) {
	ctx := context.Background()
	t.Run("create get update, never deleted", func(t *testing.T) {
		s := open(t)
		c, err := s.CreateCustomer(ctx, directory.Customer{Code: "C-001", Name: "Acme", City: "Tokyo", State: directory.CustomerValid})
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.GetCustomerByCode(ctx, "c-001")
		if err != nil || got.ID != c.ID || got.City != "Tokyo" {
			t.Fatalf("get by code: %+v %v", got, err)
		}
		got.State, got.Code = directory.CustomerInvalidTemporarily, "CHANGED"
		upd, err := s.UpdateCustomer(ctx, got)
		if err != nil || upd.State != directory.CustomerInvalidTemporarily || upd.Code != "C-001" {
			t.Fatalf("update keeps the code: %+v %v", upd, err)
		}
		p, err := s.ListCustomers(ctx, store.CustomerQuery{State: directory.CustomerValid})
		if err != nil || len(p.Items) != 0 {
			t.Fatalf("valid customers: %d %v", len(p.Items), err)
		}
	})
	t.Run("code and name unique ignoring case", func(t *testing.T) {
		s := open(t)
		mustCustomer(t, s, "X1")
		var ce *store.ConflictError
		_, err := s.CreateCustomer(ctx, directory.Customer{Code: "x1", Name: "Other", State: directory.CustomerValid})
		if !errors.As(err, &ce) || ce.Field != "code" {
			t.Fatalf("code: got %v", err)
		}
		_, err = s.CreateCustomer(ctx, directory.Customer{Code: "X2", Name: "customer X1", State: directory.CustomerValid})
		if !errors.As(err, &ce) || ce.Field != "name" {
			t.Fatalf("name: got %v", err)
		}
	})
}
