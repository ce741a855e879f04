package console_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"opsiam/internal/directory"
	"opsiam/internal/store"
)

// TestConsoleNoEscalationAndAdminWhole is rules 1 and 2 of issue 13
// through the console, on both databases: a System Administrator cannot
// give itself System Security Administrator in the roles dialog, nor join
// a group holding it; removing it from admin is refused; the refusals come
// from the use cases.
func TestConsoleNoEscalationAndAdminWhole(t *testing.T) {
	t.Parallel() // each test has its own database, server and browser tab (issue 17, point 7)
	databases(t, func(t *testing.T, s *server) {
		ctx := context.Background()
		sa := s.user(t, "sysadmin", directory.RoleNameSystemAdmin)
		role := func(name string) string {
			r, err := s.db.GetRoleByName(ctx, name)
			if err != nil {
				t.Fatal(err)
			}
			return string(r.ID)
		}
		ssa, sysAdmin := role(directory.RoleNameSystemSecurityAdmin), role(directory.RoleNameSystemAdmin)
		cl := s.signIn(t, "sysadmin", "sysadmin password 1")
		page := "/console/users/" + string(sa.ID) + "?tab=roles"
		code, body := cl.post(page, "/console/users/"+string(sa.ID)+"/roles", url.Values{"assigned": {sysAdmin, ssa}})
		if code != http.StatusForbidden {
			t.Fatalf("self-assigning SSA in the console: %d\n%s", code, body)
		}
		mustContain(t, body, "token.admin")

		g, err := s.svc.CreateGroup(ctx, sys, directory.Group{Name: "security"})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.svc.AssignGroupRoles(ctx, sys, g.ID, []directory.RoleID{directory.RoleID(ssa)}); err != nil {
			t.Fatal(err)
		}
		code, body = cl.post("/console/users/"+string(sa.ID)+"?tab=groups", "/console/users/"+string(sa.ID)+"/groups",
			url.Values{"assigned": {string(g.ID)}})
		if code != http.StatusForbidden {
			t.Fatalf("joining the SSA group in the console: %d\n%s", code, body)
		}

		admin, err := s.db.GetUserByUsername(ctx, directory.Scope{}, directory.AdminUsername)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.svc.SetPassword(ctx, sys, "admin", "admin password 12"); err != nil {
			t.Fatal(err)
		}
		acl := s.signIn(t, "admin", "admin password 12")
		code, body = acl.post("/console/users/"+string(admin.ID)+"?tab=roles", "/console/users/"+string(admin.ID)+"/roles", url.Values{})
		if code != http.StatusUnprocessableEntity {
			t.Fatalf("removing SSA from admin in the console: %d\n%s", code, body)
		}
		grants, err := s.db.UserGrants(ctx, admin.ID)
		if err != nil || len(grants.Direct) == 0 {
			t.Fatalf("admin's roles after the refusal: %+v %v", grants, err)
		}
	})
}

// TestConsoleRules3And4 is rules 3 and 4 of issue 13 through the console,
// on both databases: a user name that is another user's mail address is
// refused next to its field; disabling a user in the console ends its
// platform token for good.
func TestConsoleRules3And4(t *testing.T) {
	t.Parallel() // each test has its own database, server and browser tab (issue 17, point 7)
	databases(t, func(t *testing.T, s *server) {
		ctx := context.Background()
		if err := s.svc.SetPassword(ctx, sys, "admin", "admin password 12"); err != nil {
			t.Fatal(err)
		}
		cl := s.signIn(t, "admin", "admin password 12")
		bob := s.user(t, "bob")
		code, body := cl.post("/console/users/new?pi=1", "/console/users/new", url.Values{"pi": {"1"}, "username": {bob.Email},
			"email": {"other@example.test"}, "first_name": {"B"}, "last_name": {"L"}, "timezone": {"UTC"}})
		i := strings.Index(body, `id="f-username"`)
		if code != http.StatusUnprocessableEntity || i < 0 || !strings.Contains(body[i:i+400], "mail address of another user") {
			t.Fatalf("a user name that is bob's mail address: %d\n%s", code, body)
		}

		if _, _, err := s.svc.IssueToken(ctx, sys, bob.ID, time.Time{}); err != nil {
			t.Fatal(err)
		}
		if code, body := cl.post("/console/users", "/console/users/bulk", url.Values{"action": {"disable"}, "id": {string(bob.ID)}}); code >= 400 {
			t.Fatalf("disable in the console: %d\n%s", code, body)
		}
		if _, err := s.svc.SetEnabled(ctx, sys, directory.Scope{}, bob.ID, true); err != nil {
			t.Fatal(err)
		}
		if _, err := s.db.PlatformToken(ctx, bob.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("bob's platform token after disable and enable: %v", err)
		}
	})
}
