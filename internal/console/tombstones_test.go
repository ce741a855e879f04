package console_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"testing"

	"opsiam/internal/directory"
)

// TestTombstoneChoice: deleting a customer user leaves a tombstone (D1);
// adding a user with its user name shows the choice screen and writes
// nothing (D3); choosing take over creates the user and links the
// tombstone to it (D2).
func TestTombstoneChoice(t *testing.T) {
	s := newServer(t)
	ctx := context.Background()
	acme, err := s.svc.CreateCustomer(ctx, sys, directory.Customer{Code: "acme", Name: "ACME"})
	if err != nil {
		t.Fatal(err)
	}
	gina := s.user(t, "gina")
	if _, err := s.svc.UpdateUser(ctx, sys, directory.Scope{}, gina.ID, 0, managePatchCustomer(acme.ID)); err != nil {
		t.Fatal(err)
	}
	cuRole, _ := s.db.GetRoleByName(ctx, directory.RoleNameCustomerUser)
	if err := s.svc.AssignUserRoles(ctx, sys, gina.ID, []directory.RoleID{cuRole.ID}); err != nil {
		t.Fatal(err)
	}
	cl := s.signIn(t, "admin", adminPassword)
	page := "/console/users/" + string(gina.ID)
	if code, _ := cl.post(page, page+"/delete", url.Values{}); code != http.StatusOK {
		t.Fatalf("delete: %d", code)
	}
	form := url.Values{"pi": {"1"}, "username": {"gina"}, "email": {"gina.new@example.test"}, "first_name": {"G"},
		"last_name": {"N"}, "enabled": {"on"}, "customer_id": {string(acme.ID)}, "timezone": {"Asia/Tokyo"}}
	code, body := cl.post("/console/users/new?pi=1", "/console/users/new", form)
	if code != http.StatusConflict {
		t.Fatalf("create over a tombstone: %d\n%s", code, body)
	}
	m := regexp.MustCompile(`name="tomb_action\.([^"]+)" value="take_over"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no take-over choice:\n%s", body)
	}
	checkLabels(t, "tombstone choice", body)
	mustContain(t, body, `id="tombstones"`, `value="rename"`, `id="f-username" name="username" value="gina"`)
	if _, err := s.db.GetUserByUsername(ctx, directory.Scope{}, "gina"); err == nil {
		t.Fatal("the user was created before the choice")
	}
	form.Set("tomb_action."+m[1], "take_over")
	if code, body := cl.post("/console/users/new?pi=1", "/console/users/new", form); code != http.StatusOK {
		t.Fatalf("take over: %d\n%s", code, body)
	}
	u, err := s.db.GetUserByUsername(ctx, directory.Scope{}, "gina")
	if err != nil {
		t.Fatalf("not created: %v", err)
	}
	tomb, err := s.db.GetTombstone(ctx, directory.TombstoneID(m[1]))
	if err != nil || tomb.TakenOverBy != u.ID {
		t.Fatalf("tombstone %+v %v, want taken over by %s", tomb, err, u.ID)
	}
}
