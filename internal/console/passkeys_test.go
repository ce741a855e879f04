package console_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"opsiam/internal/directory"
	"opsiam/internal/manage"
	"opsiam/internal/store"
)

// TestUserPasskeys shows a user's passkeys on its page and removes one
// there (issue 18), on both databases: an administrator removes one; a
// customer manager removes its own customer's but gets 404 for another
// customer's user; a viewer sees them without the action; a System
// Administrator finds the button on admin's passkeys disabled with the
// reason, and a forged removal changes nothing.
func TestUserPasskeys(t *testing.T) {
	databases(t, func(t *testing.T, s *server) {
		ctx := context.Background()
		acme, err := s.svc.CreateCustomer(ctx, sys, directory.Customer{Code: "acme", Name: "Acme", State: directory.CustomerValid})
		if err != nil {
			t.Fatal(err)
		}
		other, err := s.svc.CreateCustomer(ctx, sys, directory.Customer{Code: "other", Name: "Other", State: directory.CustomerValid})
		if err != nil {
			t.Fatal(err)
		}
		inCustomer := func(name string, c directory.CustomerID) directory.User {
			u, err := s.svc.CreateUser(ctx, sys, directory.User{Username: name, Email: name + "@example.com", FirstName: "F", LastName: "L",
				Enabled: true, CustomerID: c, Timezone: "Asia/Tokyo"})
			if err != nil {
				t.Fatal(err)
			}
			return u
		}
		hana, ken := inCustomer("hana", acme.ID), inCustomer("ken", other.ID)
		var cred byte
		passkey := func(u directory.UserID, name string) store.Passkey {
			cred++
			p, err := s.db.CreatePasskey(ctx, store.Passkey{UserID: u, CredentialID: []byte{cred, 7}, PublicKey: []byte{1}, Name: name, BackupState: true})
			if err != nil {
				t.Fatal(err)
			}
			return p
		}
		laptop, phone := passkey(hana.ID, "Hana's laptop"), passkey(hana.ID, "Hana's phone")
		kens := passkey(ken.ID, "Ken's key")
		admin, err := s.db.GetUserByUsername(ctx, directory.Scope{}, directory.AdminUsername)
		if err != nil {
			t.Fatal(err)
		}
		adminKey := passkey(admin.ID, "admin key")

		cl := s.signIn(t, "admin", adminPassword)
		_, page := cl.get("/console/users/" + string(hana.ID))
		mustContain(t, page, `id="user-passkeys"`, "Hana&#39;s laptop", "Hana&#39;s phone", `data-passkey="`+laptop.ID+`"`,
			`id="btn-passkey-remove-`+laptop.ID+`"`)
		if code, body := cl.post("/console/users/"+string(hana.ID), "/console/users/"+string(hana.ID)+"/passkeys/"+laptop.ID+"/delete", url.Values{}); code != http.StatusOK || !strings.Contains(body, "The passkey was removed.") {
			t.Fatalf("remove: %d\n%s", code, body)
		}
		if l, _ := s.svc.ListPasskeys(ctx, sys, hana.ID); len(l) != 1 || l[0].ID != phone.ID {
			t.Fatalf("after removal %+v", l)
		}

		// A customer manager of Acme: Hana's yes, Ken's 404.
		cm := s.user(t, "cmgr")
		if _, err := s.svc.UpdateUser(ctx, sys, directory.Scope{}, cm.ID, 0, manage.UserPatch{CustomerID: &acme.ID}); err != nil {
			t.Fatal(err)
		}
		r, _ := s.db.GetRoleByName(ctx, directory.RoleNameCustomerManager)
		if err := s.svc.AssignUserRoles(ctx, sys, cm.ID, []directory.RoleID{r.ID}); err != nil {
			t.Fatal(err)
		}
		mgr := s.signIn(t, "cmgr", "cmgr password 1")
		if code, _ := mgr.post("/console/users", "/console/users/"+string(ken.ID)+"/passkeys/"+kens.ID+"/delete", url.Values{}); code != http.StatusNotFound {
			t.Errorf("another customer's passkey: %d", code)
		}
		if code, body := mgr.post("/console/users/"+string(hana.ID), "/console/users/"+string(hana.ID)+"/passkeys/"+phone.ID+"/delete", url.Values{}); code != http.StatusOK {
			t.Errorf("own customer's passkey: %d\n%s", code, body)
		}
		if l, _ := s.svc.ListPasskeys(ctx, sys, ken.ID); len(l) != 1 {
			t.Fatalf("Ken's passkey was removed: %+v", l)
		}

		// A viewer sees Ken's passkey but no action, and cannot remove it.
		s.user(t, "viewer", directory.RoleNameManager)
		vw := s.signIn(t, "viewer", "viewer password 1")
		_, page = vw.get("/console/users/" + string(ken.ID))
		mustContain(t, page, "Ken&#39;s key")
		if strings.Contains(page, "btn-passkey-remove-") {
			t.Error("a viewer is offered the removal")
		}
		if code, _ := vw.post("/console/users", "/console/users/"+string(ken.ID)+"/passkeys/"+kens.ID+"/delete", url.Values{}); code != http.StatusForbidden {
			t.Errorf("viewer's removal: %d", code)
		}

		// A System Administrator: admin's passkey is shown, its button disabled with the reason.
		s.user(t, "sysadm", directory.RoleNameSystemAdmin)
		sa := s.signIn(t, "sysadm", "sysadm password 1")
		_, page = sa.get("/console/users/" + string(admin.ID))
		mustContain(t, page, `id="btn-passkey-remove-`+adminKey.ID+`" disabled title="Only admin itself removes its passkeys."`)
		if code, _ := sa.post("/console/users/"+string(admin.ID), "/console/users/"+string(admin.ID)+"/passkeys/"+adminKey.ID+"/delete", url.Values{}); code != http.StatusUnprocessableEntity {
			t.Errorf("admin's passkey by a System Administrator: %d", code)
		}
		if l, _ := s.svc.ListPasskeys(ctx, sys, admin.ID); len(l) != 1 {
			t.Fatalf("admin's passkey was removed: %+v", l)
		}

		// Japanese.
		_, page = cl.get("/console/users/" + string(ken.ID) + "?lang=ja")
		mustContain(t, page, "パスキー", "他の端末と同期")
	})
}
