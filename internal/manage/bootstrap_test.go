package manage_test

import (
	"context"
	"testing"

	"opsiam/internal/auth"
	"opsiam/internal/directory"
	"opsiam/internal/manage"
	"opsiam/internal/store"
	"opsiam/internal/store/sqlstore"
	"opsiam/internal/store/sqlstore/sqltest"
)

var fastHasher = auth.Hasher{Params: auth.Params{Time: 1, MemoryKiB: 64, Threads: 1, KeyLen: 32, SaltLen: 16}}

// eachDatabase runs fn on a fresh, migrated SQLite file and PostgreSQL schema.
func eachDatabase(t *testing.T, fn func(t *testing.T, st *sqlstore.DB)) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.DB, _ string) { fn(t, st) })
}

func TestBootstrap(t *testing.T) {
	t.Parallel() // each test has its own database (issue 17, point 7)
	eachDatabase(t, func(t *testing.T, st *sqlstore.DB) {
		ctx := context.Background()
		first, err := manage.Bootstrap(ctx, st, fastHasher, "")
		if err != nil {
			t.Fatal(err)
		}
		if !first.AdminCreated || first.AdminPassword == "" {
			t.Fatalf("first bootstrap: %+v", first)
		}
		rev, _ := st.RoleRevision(ctx)
		second, err := manage.Bootstrap(ctx, st, fastHasher, "")
		if err != nil {
			t.Fatal(err)
		}
		if second.AdminCreated || second.AdminPassword != "" {
			t.Fatalf("second bootstrap created admin again: %+v", second)
		}
		if rev2, _ := st.RoleRevision(ctx); rev2 != rev {
			t.Fatalf("second bootstrap changed the roles: revision %d → %d", rev, rev2)
		}

		admin, err := st.GetUserByUsername(ctx, directory.Scope{}, "admin")
		if err != nil {
			t.Fatal(err)
		}
		hash, err := st.PasswordHash(ctx, admin.ID)
		if err != nil {
			t.Fatal(err)
		}
		if ok, _, err := fastHasher.Verify(hash, first.AdminPassword); !ok || err != nil {
			t.Fatalf("printed admin password does not verify: %v", err)
		}
		graphs := &manage.RoleGraphs{Store: st}
		g, err := graphs.Get(ctx)
		if err != nil {
			t.Fatal(err)
		}
		grants, err := st.UserGrants(ctx, admin.ID)
		if err != nil {
			t.Fatal(err)
		}
		eff := g.Effective(grants)
		for _, name := range []string{"System Security Administrator", "user_admin", "token_admin", "user"} {
			if !eff.HasName(name) {
				t.Errorf("admin lacks %s; has %v", name, eff.Names())
			}
		}
		if len(grants.Groups) != 1 || grants.Groups[0].GroupName != "global" {
			t.Fatalf("admin's groups: %+v", grants.Groups)
		}
		if len(g.Roles()) != len(directory.Catalog()) {
			t.Fatalf("%d roles installed, catalogue has %d", len(g.Roles()), len(directory.Catalog()))
		}
	})
}

func TestInstallCatalogUpgrades(t *testing.T) {
	t.Parallel() // each test has its own database (issue 17, point 7)
	eachDatabase(t, func(t *testing.T, st *sqlstore.DB) {
		ctx := context.Background()
		if _, err := manage.Bootstrap(ctx, st, fastHasher, "admin password 1"); err != nil {
			t.Fatal(err)
		}
		// Simulate an older catalogue: Manager lost a role, gained another,
		// and a description changed.
		mgr, _ := st.GetRoleByName(ctx, "Manager")
		viewer, _ := st.GetRoleByName(ctx, "user_viewer")
		free, _ := st.GetRoleByName(ctx, "free_user")
		if err := st.RemoveContainment(ctx, mgr.ID, viewer.ID); err != nil {
			t.Fatal(err)
		}
		if err := st.AddContainment(ctx, mgr.ID, free.ID); err != nil {
			t.Fatal(err)
		}
		mgr.Description = "old text"
		if _, err := st.UpdateRole(ctx, mgr); err != nil {
			t.Fatal(err)
		}
		var changed bool
		err := st.InTx(ctx, func(tx store.Tx) (err error) {
			changed, err = manage.InstallCatalog(ctx, tx)
			return err
		})
		if err != nil || !changed {
			t.Fatalf("upgrade: changed=%v err=%v", changed, err)
		}
		g, _ := manage.Load(ctx, st)
		set := g.Expand(mgr.ID)
		if !set.Has(viewer.ID) || set.Has(free.ID) {
			t.Fatalf("Manager after upgrade contains %v", set.Names())
		}
		if r, _ := st.GetRoleByName(ctx, "Manager"); r.Description == "old text" {
			t.Fatal("description not upgraded")
		}
	})
}

func TestRoleGraphsFollowRevision(t *testing.T) {
	t.Parallel() // each test has its own database (issue 17, point 7)
	eachDatabase(t, func(t *testing.T, st *sqlstore.DB) {
		ctx := context.Background()
		// Two caches stand for two replicas sharing one database.
		a, b := &manage.RoleGraphs{Store: st}, &manage.RoleGraphs{Store: st}
		ga, _ := a.Get(ctx)
		if _, err := b.Get(ctx); err != nil {
			t.Fatal(err)
		}
		r, err := st.CreateRole(ctx, directory.Role{Name: "Late", Type: directory.RoleCustom})
		if err != nil {
			t.Fatal(err)
		}
		gb, _ := b.Get(ctx)
		if _, ok := gb.Role(r.ID); !ok {
			t.Fatal("replica b did not see the new role")
		}
		if _, ok := ga.Role(r.ID); ok {
			t.Fatal("an old graph value changed under its holder")
		}
		ga2, _ := a.Get(ctx)
		if ga2 == ga {
			t.Fatal("replica a did not reload after the revision moved")
		}
		if ga3, _ := a.Get(ctx); ga3 != ga2 {
			t.Fatal("graph reloaded although nothing changed")
		}
	})
}
