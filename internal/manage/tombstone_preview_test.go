package manage_test

import (
	"context"
	"testing"

	"opsiam/internal/directory"
	"opsiam/internal/manage"
	"opsiam/internal/store"
)

// TestTombstonePreview: TombstonesForCreate and TombstonesForUpdate report
// the case and tombstones a change would meet (D2) and write nothing, so
// the console can ask them at each screen before the final OK (D3).
func TestTombstonePreview(t *testing.T) {
	t.Parallel() // each test has its own database (issue 17, point 7)
	withTombEnv(t, func(t *testing.T, e *tombEnv) {
		ctx := context.Background()
		svc := &manage.Service{Store: e.st, Hasher: fastHasher}
		e.remove(t, e.create(t, e.user("bob", "bob@old.example", true), directory.RoleNameCustomerUser))
		e.remove(t, e.create(t, e.user("carol", "carol@example.com", true), directory.RoleNameCustomerUser))
		before := e.audits(t)

		for _, tc := range []struct {
			name string
			u    directory.User
			want directory.TombstoneCase
			n    int
		}{
			{"same user name", e.user(" Bob ", "new@example.com", false), directory.TombstoneCaseUsername, 1},
			{"same mail, customer user", e.user("zed", "CAROL@example.com", true), directory.TombstoneCaseEmail, 1},
			{"same mail, operator", e.user("zed", "carol@example.com", false), directory.TombstoneCaseNone, 0},
			{"split", e.user("bob", "carol@example.com", true), directory.TombstoneCaseSplit, 2},
		} {
			c, err := svc.TombstonesForCreate(ctx, tc.u)
			if err != nil || c.Case != tc.want || len(c.Tombstones) != tc.n {
				t.Fatalf("%s: %+v %v; want case %q with %d", tc.name, c, err, tc.want, tc.n)
			}
		}
		if n, err := e.st.CountUsers(ctx, directory.Scope{}, store.UserFilter{Username: "bob"}); err != nil || n != 0 {
			t.Fatalf("a preview created a user: %d %v", n, err)
		}

		dave := e.create(t, e.user("dave", "dave@example.com", true))
		mail := "carol@example.com"
		c, err := svc.TombstonesForUpdate(ctx, directory.Scope{}, dave.ID, manage.UserPatch{Email: &mail})
		if err != nil || c.Case != directory.TombstoneCaseEmail || c.Tombstones[0].Username != "carol" {
			t.Fatalf("mail change: %+v %v", c, err)
		}
		if u, _ := e.st.GetUser(ctx, directory.Scope{}, dave.ID); u.Email != "dave@example.com" {
			t.Fatalf("a preview changed the user: %s", u.Email)
		}
		if _, err := svc.TombstonesForUpdate(ctx, directory.Scope{}, "nope", manage.UserPatch{Email: &mail}); err == nil {
			t.Fatal("no error for an unknown user")
		}
		after := e.audits(t)
		for k, v := range after {
			if before[k] != v {
				t.Fatalf("audit records changed: %v → %v", before, after)
			}
		}
	})
}
