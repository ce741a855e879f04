package manage_test

import (
	"context"
	"errors"
	"testing"

	"opsiam/internal/directory"
	"opsiam/internal/manage"
	"opsiam/internal/store"
)

// Reading a user's passkeys is reading the user; removing one is writing
// it: least-trusted callers are refused, the reserved admin's stay with it.
func TestPasskeysLeastTrusted(t *testing.T) {
	t.Parallel()
	eachFixture(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		cust := func(code string) directory.CustomerID {
			c, err := f.svc.CreateCustomer(ctx, f.actor, directory.Customer{Code: code, Name: "Customer " + code, State: directory.CustomerValid})
			if err != nil {
				t.Fatal(err)
			}
			return c.ID
		}
		c1, c2 := cust("c1"), cust("c2")
		mkUser := func(name string, customer directory.CustomerID, roles ...string) (directory.User, manage.Caller) {
			u := person(name)
			u.CustomerID = customer
			u, err := f.svc.CreateUser(ctx, f.actor, u)
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
			if len(ids) > 0 {
				if err := f.svc.AssignUserRoles(ctx, f.actor, u.ID, ids); err != nil {
					t.Fatal(err)
				}
			}
			c, err := f.svc.UserCaller(ctx, u, "test")
			if err != nil {
				t.Fatal(err)
			}
			return u, c
		}
		passkey := func(u directory.UserID, cred byte) store.Passkey {
			p, err := f.st.CreatePasskey(ctx, store.Passkey{UserID: u, CredentialID: []byte{cred}, PublicKey: []byte{1}, Name: "key"})
			if err != nil {
				t.Fatal(err)
			}
			return p
		}
		alice, _ := mkUser("alice", c1)
		bob, _ := mkUser("bob", c2)
		_, mgr1 := mkUser("mgr1", c1, directory.RoleNameCustomerManager)
		_, viewer := mkUser("viewer", "", directory.RoleNameUserViewer)
		_, sysadmin := mkUser("sysadmin", "", directory.RoleNameSystemAdmin)
		_, nobody := mkUser("nobody", "")
		admin, err := f.st.GetUserByUsername(ctx, directory.Scope{}, directory.AdminUsername)
		if err != nil {
			t.Fatal(err)
		}
		pa, pb, pAdmin := passkey(alice.ID, 1), passkey(bob.ID, 2), passkey(admin.ID, 3)

		if l, err := f.svc.ListPasskeys(ctx, viewer, alice.ID); err != nil || len(l) != 1 {
			t.Fatalf("viewer lists: %v %v", l, err)
		}
		if _, err := f.svc.ListPasskeys(ctx, mgr1, bob.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("customer manager lists another customer's user: %v", err)
		}
		if _, err := f.svc.ListPasskeys(ctx, nobody, alice.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("a plain user lists another user's passkeys: %v", err)
		}
		var refusal *directory.Refusal
		if err := f.svc.RemovePasskey(ctx, viewer, alice.ID, pa.ID); !errors.As(err, &refusal) {
			t.Fatalf("viewer removes: %v", err)
		}
		if err := f.svc.RemovePasskey(ctx, mgr1, bob.ID, pb.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("customer manager removes another customer's user's passkey: %v", err)
		}
		if err := f.svc.RemovePasskey(ctx, sysadmin, admin.ID, pAdmin.ID); err == nil {
			t.Fatal("a system administrator removed admin's passkey")
		} else {
			wantField(t, err, "username", directory.CodeReserved)
		}
		if err := f.svc.RemovePasskey(ctx, sysadmin, alice.ID, pb.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("bob's passkey through alice: %v", err)
		}
		before, _ := f.st.ListAudit(ctx, store.AuditQuery{Action: store.ActionUserPasskeyRemove})
		if len(before.Items) != 0 {
			t.Fatal("a refusal was audited")
		}
		if err := f.svc.RemovePasskey(ctx, mgr1, alice.ID, pa.ID); err != nil {
			t.Fatalf("customer manager removes its own customer's user's passkey: %v", err)
		}
		if err := f.svc.RemovePasskey(ctx, sysadmin, bob.ID, pb.ID); err != nil {
			t.Fatal(err)
		}
		after, _ := f.st.ListAudit(ctx, store.AuditQuery{Action: store.ActionUserPasskeyRemove})
		if len(after.Items) != 2 {
			t.Fatalf("audit: %+v", after.Items)
		}
		if l, _ := f.st.UserPasskeys(ctx, alice.ID); len(l) != 0 {
			t.Fatal("passkey still there")
		}
	})
}
