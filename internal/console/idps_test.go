package console_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"opsiam/internal/directory"
	"opsiam/internal/manage"
)

// TestIdPs manages identity providers in the console (issue 18): add
// (with a field error next to its field first), edit keeping the
// write-only secret, disable and enable, a user's upstream account shown
// on its page and unlinked, delete; a customer manager and a viewer get
// 404 and no navigation entry.
func TestIdPs(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	ctx := context.Background()
	acme, err := s.svc.CreateCustomer(ctx, sys, directory.Customer{Code: "acme", Name: "Acme", State: directory.CustomerValid})
	if err != nil {
		t.Fatal(err)
	}
	cl := s.signIn(t, "admin", adminPassword)
	form := url.Values{"name": {"Acme IdP"}, "issuer": {"https://login.acme.example"}, "client_id": {"opsiam"},
		"client_secret": {"first-secret"}, "scopes": {"openid email"}, "domains": {"not a domain"}, "customer_id": {string(acme.ID)},
		"auto_create": {"on"}, "enabled": {"on"}}
	code, body := cl.post("/console/idps/new", "/console/idps/new", form)
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, `id="f-domains"`) || !strings.Contains(body, "field-error") {
		t.Fatalf("field error: %d\n%s", code, body)
	}
	form.Set("domains", "acme.example\nACME-corp.example")
	code, body = cl.post("/console/idps/new", "/console/idps/new", form)
	if code != http.StatusOK {
		t.Fatalf("create: %d\n%s", code, body)
	}
	ps, _ := s.svc.ListIdentityProviders(ctx, sys)
	if len(ps) != 1 || len(ps[0].Domains) != 2 || ps[0].CustomerID != acme.ID || !ps[0].AutoCreate {
		t.Fatalf("stored %+v", ps)
	}
	p := ps[0]
	mustContain(t, body, `data-idp="`+p.ID+`"`, "acme-corp.example")
	if strings.Contains(body, "first-secret") {
		t.Fatal("the list shows the secret")
	}
	_, edit := cl.get("/console/idps/" + p.ID)
	mustContain(t, edit, `id="f-client_secret"`, `value="https://login.acme.example"`)
	if strings.Contains(edit, "first-secret") {
		t.Fatal("the edit form shows the secret")
	}
	form.Set("name", "Acme Entra")
	form.Set("client_secret", "")
	form.Set("version", "1")
	if code, body := cl.post("/console/idps/"+p.ID, "/console/idps/"+p.ID, form); code != http.StatusOK {
		t.Fatalf("edit: %d\n%s", code, body)
	}
	if got, _ := s.svc.IdentityProviderSecret(ctx, p.ID); got != "first-secret" {
		t.Fatalf("edit lost the secret: %q", got)
	}
	if code, _ := cl.post("/console/idps", "/console/idps/"+p.ID+"/enabled", url.Values{}); code != http.StatusOK {
		t.Fatalf("disable: %d", code)
	}
	if got, _ := s.svc.GetIdentityProvider(ctx, sys, p.ID); got.Enabled || got.Name != "Acme Entra" {
		t.Fatalf("after disable %+v", got)
	}

	// A user's upstream account on its page, unlinked there.
	u, err := s.svc.CreateUser(ctx, sys, directory.User{Username: "hana", Email: "hana@acme.example", FirstName: "H", LastName: "S",
		Enabled: true, CustomerID: acme.ID, Timezone: "Asia/Tokyo"})
	if err != nil {
		t.Fatal(err)
	}
	// Linked in the console: the form offers the provider of the user's
	// customer; a bad subject is refused naming the field, and nothing
	// is linked.
	_, page := cl.get("/console/users/" + string(u.ID))
	mustContain(t, page, `id="link-form"`, `<option value="`+p.ID+`">Acme Entra</option>`)
	for _, bad := range []string{"", "00u\x00hana", strings.Repeat("x", 256)} {
		code, body := cl.post("/console/users/"+string(u.ID), "/console/users/"+string(u.ID)+"/identities", url.Values{"provider_id": {p.ID}, "subject": {bad}})
		if code != http.StatusUnprocessableEntity || !strings.Contains(body, "Subject") {
			t.Errorf("subject %q: %d\n%s", bad, code, body)
		}
	}
	if ids, _ := s.svc.UserIdentities(ctx, sys, u.ID); len(ids) != 0 {
		t.Fatalf("a bad subject linked %+v", ids)
	}
	if code, body := cl.post("/console/users/"+string(u.ID), "/console/users/"+string(u.ID)+"/identities", url.Values{"provider_id": {p.ID}, "subject": {"00u-hana"}}); code != http.StatusOK || !strings.Contains(body, "The user is linked") {
		t.Fatalf("link: %d\n%s", code, body)
	}
	// A user of no customer is offered no provider of Acme, and a forged
	// form is refused.
	staff := s.user(t, "staff")
	_, page = cl.get("/console/users/" + string(staff.ID))
	if strings.Contains(page, `id="link-form"`) {
		t.Error("platform staff is offered Acme's provider")
	}
	if code, _ := cl.post("/console/users/"+string(staff.ID), "/console/users/"+string(staff.ID)+"/identities", url.Values{"provider_id": {p.ID}, "subject": {"00u-staff"}}); code != http.StatusUnprocessableEntity {
		t.Errorf("linking staff to Acme's provider: %d", code)
	}
	_, page = cl.get("/console/users/" + string(u.ID))
	mustContain(t, page, `data-provider="`+p.ID+`"`, "00u-hana", "Acme Entra", `id="btn-unlink-`+p.ID+`"`)
	if code, _ := cl.post("/console/users/"+string(u.ID), "/console/users/"+string(u.ID)+"/identities/"+p.ID+"/delete", url.Values{}); code != http.StatusOK {
		t.Fatalf("unlink: %d", code)
	}
	if ids, _ := s.svc.UserIdentities(ctx, sys, u.ID); len(ids) != 0 {
		t.Fatalf("still linked: %+v", ids)
	}

	// Others: no entry, 404, and nothing changes.
	s.user(t, "viewer", directory.RoleNameManager)
	cm := s.user(t, "cmgr")
	if _, err := s.svc.UpdateUser(ctx, sys, directory.Scope{}, cm.ID, 0, manage.UserPatch{CustomerID: &acme.ID}); err != nil {
		t.Fatal(err)
	}
	r, _ := s.db.GetRoleByName(ctx, directory.RoleNameCustomerManager)
	if err := s.svc.AssignUserRoles(ctx, sys, cm.ID, []directory.RoleID{r.ID}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"viewer", "cmgr"} {
		o := s.signIn(t, name, name+" password 1")
		if _, home := o.get("/console/users"); strings.Contains(home, `href="/console/idps"`) {
			t.Errorf("%s sees the navigation entry", name)
		}
		if code, _ := o.get("/console/idps"); code != http.StatusNotFound {
			t.Errorf("%s: list %d", name, code)
		}
		if code, _ := o.get("/console/idps/" + p.ID); code != http.StatusNotFound {
			t.Errorf("%s: edit %d", name, code)
		}
	}

	if code, _ := cl.post("/console/idps", "/console/idps/"+p.ID+"/delete", url.Values{}); code != http.StatusOK {
		t.Fatalf("delete: %d", code)
	}
	if ps, _ := s.svc.ListIdentityProviders(ctx, sys); len(ps) != 0 {
		t.Fatalf("not deleted: %+v", ps)
	}
}
