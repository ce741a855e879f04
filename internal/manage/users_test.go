package manage_test

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"opsiam/internal/directory"
	"opsiam/internal/manage"
	"opsiam/internal/provision"
	"opsiam/internal/store"
	"opsiam/internal/store/sqlstore"
)

// fixture is a bootstrapped database with a Service and a second
// connection that reads the outbox table the way the worker will.
type fixture struct {
	st    *sqlstore.DB
	svc   *manage.Service
	raw   *sql.DB
	actor manage.Caller
}

func eachFixture(t *testing.T, fn func(t *testing.T, f *fixture)) {
	eachBootstrapped(t, func(t *testing.T, st *sqlstore.DB, raw *sql.DB) {
		svc := &manage.Service{Store: st, Hasher: fastHasher, Timezone: "Asia/Tokyo",
			Now: func() time.Time { return time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC) }}
		fn(t, &fixture{st: st, svc: svc, raw: raw, actor: manage.Caller{ID: "actor-1", Username: "tester", Source: "192.0.2.7", System: true}})
	})
}

// topics returns the topics of all outbox events so far, oldest first.
func (f *fixture) topics(t *testing.T) []string {
	t.Helper()
	rows, err := f.raw.Query(`SELECT topic FROM outbox_events ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		rows.Scan(&s)
		out = append(out, s)
	}
	return out
}

func (f *fixture) countRows(t *testing.T, table string) int {
	t.Helper()
	var n int
	if err := f.raw.QueryRow(`SELECT count(*) FROM ` + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func person(name string) directory.User {
	return directory.User{Username: name, Email: name + "@example.com", FirstName: "F", LastName: "L", Enabled: true}
}

func wantField(t *testing.T, err error, field, code string) {
	t.Helper()
	var fe directory.FieldErrors
	if !errors.As(err, &fe) || !fe.Has(field, code) {
		t.Fatalf("want field error %s/%s, got %v", field, code, err)
	}
}

func TestCreateUserEventsAndAudit(t *testing.T) {
	t.Parallel() // each test has its own database (issue 17, point 7)
	eachFixture(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		u, err := f.svc.CreateUser(ctx, f.actor, person("alice"))
		if err != nil {
			t.Fatal(err)
		}
		if u.Timezone != "Asia/Tokyo" {
			t.Fatalf("server default time zone not applied: %q", u.Timezone)
		}
		groups, _ := f.st.UserGroups(ctx, u.ID)
		if len(groups) != 1 || groups[0].Name != "global" {
			t.Fatalf("new user not in global (U4): %+v", groups)
		}
		want := []string{provision.TopicUserCreated, provision.TopicMailPasswordSetup}
		if got := f.topics(t); !slices.Equal(got, want) {
			t.Fatalf("events %v, want %v", got, want)
		}
		off := person("bob")
		off.Enabled = false
		if _, err := f.svc.CreateUser(ctx, f.actor, off); err != nil {
			t.Fatal(err)
		}
		if got := f.topics(t); len(got) != 3 || got[2] != provision.TopicUserCreated {
			t.Fatalf("disabled user got mail (U7): %v", got)
		}
		page, _ := f.st.ListAudit(ctx, store.AuditQuery{TargetID: string(u.ID)})
		if len(page.Items) != 1 || page.Items[0].Action != "user.create" || page.Items[0].ActorID != "actor-1" ||
			page.Items[0].Source != "192.0.2.7" || !strings.Contains(string(page.Items[0].After), "alice") {
			t.Fatalf("audit: %+v", page.Items)
		}
		// Mail change clears verification and sends a verification mail (U9).
		verified := true
		u, err = f.svc.UpdateUser(ctx, f.actor, directory.Scope{}, u.ID, u.Version, manage.UserPatch{EmailVerified: &verified})
		if err != nil || !u.EmailVerified {
			t.Fatalf("tick verified: %v", err)
		}
		mail := "alice2@example.com"
		u, err = f.svc.UpdateUser(ctx, f.actor, directory.Scope{}, u.ID, u.Version, manage.UserPatch{Email: &mail})
		if err != nil || u.EmailVerified {
			t.Fatalf("mail change kept verified: %+v %v", u, err)
		}
		if got := f.topics(t); got[len(got)-1] != provision.TopicMailVerifyEmail {
			t.Fatalf("no verification mail: %v", got)
		}
		if _, err := f.svc.UpdateUser(ctx, f.actor, directory.Scope{}, u.ID, u.Version-1, manage.UserPatch{Email: &mail}); !errors.Is(err, store.ErrStale) {
			t.Fatalf("stale version: %v", err)
		}
		// Password reset: enabled users only (A4).
		if err := f.svc.ResetPassword(ctx, f.actor, directory.Scope{}, u.ID); err != nil {
			t.Fatal(err)
		}
		b, _ := f.st.GetUserByUsername(ctx, directory.Scope{}, "bob")
		before := len(f.topics(t))
		wantField(t, f.svc.ResetPassword(ctx, f.actor, directory.Scope{}, b.ID), "enabled", directory.CodeNotAllowed)
		if len(f.topics(t)) != before {
			t.Fatal("refused reset enqueued an event")
		}
	})
}

func TestCustomerRoleNeedsCustomer(t *testing.T) {
	t.Parallel() // each test has its own database (issue 17, point 7)
	eachFixture(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		a := f.actor
		cu, _ := f.st.GetRoleByName(ctx, directory.RoleNameCustomerUser)
		grp, err := f.svc.CreateGroup(ctx, a, directory.Group{Name: "Customers A"})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.AssignGroupRoles(ctx, a, grp.ID, []directory.RoleID{cu.ID}); err != nil {
			t.Fatal(err)
		}
		u, _ := f.svc.CreateUser(ctx, a, person("carol"))
		audits, events := f.countRows(t, "audit_log"), f.countRows(t, "outbox_events")
		wantField(t, f.svc.AddMembers(ctx, a, grp.ID, []directory.UserID{u.ID}), "customer_id", directory.CodeRequired)
		if m, _ := f.st.UserGroups(ctx, u.ID); len(m) != 1 {
			t.Fatalf("refused membership written: %+v", m)
		}
		if f.countRows(t, "audit_log") != audits || f.countRows(t, "outbox_events") != events {
			t.Fatal("refused change left audit or outbox rows")
		}
		c, err := f.svc.CreateCustomer(ctx, a, directory.Customer{Code: "ACME", Name: "Acme"})
		if err != nil {
			t.Fatal(err)
		}
		cid := c.ID
		if _, err := f.svc.UpdateUser(ctx, a, directory.Scope{}, u.ID, 0, manage.UserPatch{CustomerID: &cid}); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.AddMembers(ctx, a, grp.ID, []directory.UserID{u.ID}); err != nil {
			t.Fatal(err)
		}
		none := directory.CustomerID("")
		_, err = f.svc.UpdateUser(ctx, a, directory.Scope{}, u.ID, 0, manage.UserPatch{CustomerID: &none})
		wantField(t, err, "customer_id", directory.CodeRequired)
		// A custom role that comes to contain Customer User affects its holders.
		custom, err := f.svc.CreateRole(ctx, a, directory.Role{Name: "Wrapper"})
		if err != nil {
			t.Fatal(err)
		}
		d, _ := f.svc.CreateUser(ctx, a, person("dave"))
		if err := f.svc.AssignUserRoles(ctx, a, d.ID, []directory.RoleID{custom.ID}); err != nil {
			t.Fatal(err)
		}
		wantField(t, f.svc.AddContains(ctx, a, custom.ID, []directory.RoleID{cu.ID}), "customer_id", directory.CodeRequired)
		// Invalid customers are not offered (C1).
		bad, _ := f.svc.CreateCustomer(ctx, a, directory.Customer{Code: "OLD", Name: "Old", State: directory.CustomerInvalid})
		e := person("erin")
		e.CustomerID = bad.ID
		_, err = f.svc.CreateUser(ctx, a, e)
		wantField(t, err, "customer_id", directory.CodeInvalid)
	})
}

func TestRefusals(t *testing.T) {
	t.Parallel() // each test has its own database (issue 17, point 7)
	eachFixture(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		a := f.actor
		admin, _ := f.st.GetUserByUsername(ctx, directory.Scope{}, "admin")
		global, _ := f.st.GetGroupByName(ctx, "global")
		wantField(t, f.svc.DeleteUser(ctx, a, directory.Scope{}, admin.ID, 0), "username", directory.CodeReserved)
		name := "Other"
		_, err := f.svc.UpdateUser(ctx, a, directory.Scope{}, admin.ID, 0, manage.UserPatch{FirstName: &name})
		wantField(t, err, "username", directory.CodeReserved)
		wantField(t, f.svc.DeleteGroup(ctx, a, global.ID, 0), "name", directory.CodeReserved)
		ops, _ := f.svc.CreateGroup(ctx, a, directory.Group{Name: "ops"})
		wantField(t, f.svc.SetRelation(ctx, a, ops.ID, global.ID, directory.RelationManage), "group_id", directory.CodeReserved)
		wantField(t, f.svc.RemoveMember(ctx, a, global.ID, admin.ID), "group_id", directory.CodeReserved)
		mgr, _ := f.st.GetRoleByName(ctx, "Manager")
		wantField(t, f.svc.DeleteRole(ctx, a, mgr.ID, 0), "name", directory.CodePredefined)
		x, _ := f.svc.CreateRole(ctx, a, directory.Role{Name: "X"})
		y, _ := f.svc.CreateRole(ctx, a, directory.Role{Name: "Y"})
		if err := f.svc.AddContains(ctx, a, x.ID, []directory.RoleID{y.ID}); err != nil {
			t.Fatal(err)
		}
		wantField(t, f.svc.AddContains(ctx, a, y.ID, []directory.RoleID{x.ID}), "role_ids", directory.CodeCycle)
		newName := "Z"
		_, err = f.svc.UpdateRole(ctx, a, x.ID, 0, manage.RolePatch{Name: &newName})
		wantField(t, err, "name", directory.CodeImmutable)
		if _, err := f.svc.CreateUser(ctx, a, person("Frank")); err != nil {
			t.Fatal(err)
		}
		dup := person("FRANK")
		dup.Email = "other@example.com"
		_, err = f.svc.CreateUser(ctx, a, dup)
		var ce *store.ConflictError
		if !errors.As(err, &ce) || ce.Field != "username" {
			t.Fatalf("case-only duplicate user name: %v", err)
		}
		dup = person("frank2")
		dup.Email = "FRANK@EXAMPLE.COM"
		_, err = f.svc.CreateUser(ctx, a, dup)
		if !errors.As(err, &ce) || ce.Field != "email" {
			t.Fatalf("case-only duplicate mail: %v", err)
		}
	})
}

func TestTokensAndBilling(t *testing.T) {
	t.Parallel() // each test has its own database (issue 17, point 7)
	eachFixture(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		u, _ := f.svc.CreateUser(ctx, f.actor, person("gina"))
		text, info, err := f.svc.IssueToken(ctx, f.actor, u.ID, time.Time{})
		if err != nil || text == "" || info.CreatedAt.IsZero() {
			t.Fatalf("issue: %v", err)
		}
		got, err := f.svc.Token(ctx, u.ID)
		if err != nil || !got.CreatedAt.Equal(info.CreatedAt) {
			t.Fatalf("token info: %+v %v", got, err)
		}
		if err := f.svc.RevokeToken(ctx, f.actor, u.ID); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.RevokeToken(ctx, f.actor, u.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("second revoke: %v", err)
		}
		b0, _ := f.svc.Billing(ctx, directory.Scope{})
		if b0.Billed != 2 || b0.NonBilled != 0 {
			t.Fatalf("billing: %+v", b0)
		}
		free, _ := f.st.GetRoleByName(ctx, directory.RoleNameFreeUser)
		if err := f.svc.AssignUserRoles(ctx, f.actor, u.ID, []directory.RoleID{free.ID}); err != nil {
			t.Fatal(err)
		}
		if b, _ := f.svc.Billing(ctx, directory.Scope{}); b.Billed != 1 || b.NonBilled != 1 {
			t.Fatalf("billing after free_user: %+v", b)
		}
		// Unlock clears the lock at once (A3).
		if _, err := f.raw.Exec(`UPDATE users SET locked_until = $1 WHERE id = $2`, time.Now().Add(time.Hour).UnixMicro(), string(u.ID)); err != nil {
			t.Fatal(err)
		}
		if locked, _ := f.st.GetUser(ctx, directory.Scope{}, u.ID); !locked.Locked {
			t.Fatal("lock not seen")
		}
		if un, err := f.svc.Unlock(ctx, f.actor, directory.Scope{}, u.ID); err != nil || un.Locked {
			t.Fatalf("unlock: %+v %v", un, err)
		}
		res, err := f.svc.Bulk(ctx, f.actor, directory.Scope{}, manage.BulkDisable, []directory.UserID{u.ID, "nope"})
		if err != nil || res[0].Err != nil || !errors.Is(res[1].Err, store.ErrNotFound) {
			t.Fatalf("bulk: %+v %v", res, err)
		}
	})
}
