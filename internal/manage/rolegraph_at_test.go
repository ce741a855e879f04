package manage_test

import (
	"context"
	"testing"

	"opsiam/internal/directory"
	"opsiam/internal/manage"
	"opsiam/internal/store/sqlstore"
)

// TestRoleGraphsAt: At with a revision read elsewhere (store.UserSubjects)
// reloads when the graph moved on and keeps the graph when it did not.
func TestRoleGraphsAt(t *testing.T) {
	t.Parallel() // each test has its own database (issue 17, point 7)
	eachDatabase(t, func(t *testing.T, st *sqlstore.DB) {
		ctx := context.Background()
		graphs := &manage.RoleGraphs{Store: st}
		rev0, err := st.RoleRevision(ctx)
		if err != nil {
			t.Fatal(err)
		}
		g0, err := graphs.At(ctx, rev0)
		if err != nil {
			t.Fatal(err)
		}
		if again, _ := graphs.At(ctx, rev0); again != g0 {
			t.Fatal("reloaded although the revision is the same")
		}
		r, err := st.CreateRole(ctx, directory.Role{Name: "Later", Type: directory.RoleCustom})
		if err != nil {
			t.Fatal(err)
		}
		rev1, _ := st.RoleRevision(ctx)
		g1, err := graphs.At(ctx, rev1)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := g1.Role(r.ID); !ok || g1 == g0 {
			t.Fatal("the graph of the new revision lacks the new role")
		}
		// A request that read the older revision gets the newer graph, not a reload to the past.
		if old, _ := graphs.At(ctx, rev0); old != g1 {
			t.Fatal("an older revision replaced the newer graph")
		}
	})
}
