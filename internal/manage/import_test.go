package manage_test

import (
	"context"
	"strings"
	"testing"

	"opsiam/internal/directory"
	"opsiam/internal/manage"
)

// TestImportLeastTrusted: an import grants nothing its caller could not
// grant by hand, and a reader cannot import at all (issue 13's rules hold
// for the CSV import too).
func TestImportLeastTrusted(t *testing.T) {
	t.Parallel() // each test has its own database (issue 17, point 7)
	eachFixture(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		mk := func(name string, roles ...string) manage.Caller {
			u, err := f.svc.CreateUser(ctx, f.actor, directory.User{Username: name, Email: name + "@example.com",
				FirstName: "F", LastName: "L", Enabled: true})
			if err != nil {
				t.Fatal(err)
			}
			var ids []directory.RoleID
			for _, r := range roles {
				role, err := f.st.GetRoleByName(ctx, r)
				if err != nil {
					t.Fatal(err)
				}
				ids = append(ids, role.ID)
			}
			if err := f.svc.AssignUserRoles(ctx, f.actor, u.ID, ids); err != nil {
				t.Fatal(err)
			}
			c, err := f.svc.UserCaller(ctx, u, "test")
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		sysadmin := mk("sysadmin", "System Administrator")
		viewer := mk("viewer", directory.RoleNameUserViewer)
		row := func(name string, roles ...string) manage.ImportRow {
			return manage.ImportRow{Line: 2, User: directory.User{Username: name, Email: name + "@example.com", FirstName: "N", LastName: "M"},
				Set: map[string]bool{"username": true, "email": true, "first_name": true, "last_name": true}, Roles: roles, HasRoles: len(roles) > 0}
		}
		// A System Administrator may not hand out token_admin (it lacks it).
		res, err := f.svc.ImportUsers(ctx, sysadmin, []manage.ImportRow{row("eve", directory.RoleNameTokenAdmin)}, false, nil)
		if err != nil || len(res.Errors) != 1 || res.Errors[0].Field != "roles" {
			t.Fatalf("escalation through the import: %+v, %v", res, err)
		}
		// Nor make itself one: its own row counts like any other.
		res, err = f.svc.ImportUsers(ctx, sysadmin, []manage.ImportRow{row("sysadmin", "System Security Administrator")}, false, nil)
		if err != nil || len(res.Errors) == 0 {
			t.Fatalf("self-escalation through the import: %+v, %v", res, err)
		}
		if _, err := f.svc.ImportUsers(ctx, viewer, []manage.ImportRow{row("mallory")}, false, nil); err == nil {
			t.Fatal("a viewer imported users")
		}
		if _, err := f.st.GetUserByUsername(ctx, directory.Scope{}, "eve"); err == nil {
			t.Fatal("a refused import created eve")
		}
		// What it may grant, it may import.
		res, err = f.svc.ImportUsers(ctx, sysadmin, []manage.ImportRow{row("fay", directory.RoleNameUserViewer)}, false, nil)
		if err != nil || len(res.Errors) > 0 || res.Created != 1 {
			t.Fatalf("import: %+v, %v", res, err)
		}
		for _, tp := range []string{"user.created", "mail.password_setup"} {
			if !strings.Contains(strings.Join(f.topics(t), " "), tp) {
				t.Errorf("outbox lacks %s: %v", tp, f.topics(t))
			}
		}
	})
}
