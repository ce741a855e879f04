package console_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"opsiam/internal/directory"
	"opsiam/internal/store"
)

// buttons reads the disabled state of the bulk buttons of the users page.
func buttons(b *tab) map[string]bool {
	return eval[map[string]bool](b, `Object.fromEntries(["btn-add","btn-delete","btn-enable","btn-disable","btn-reset"]
		.map(id => [id, !document.getElementById(id).disabled]))`)
}

// TestBrowserUsers covers, in headless Chromium against the real handler:
// the U6 button states for each kind of selection, a bulk action, the U8
// confirmation, creating a customer user with the customer and time-zone
// choosers, assigning a group and a role through the dialogs, the
// effective roles tab, and the refusal to delete admin.
func TestBrowserUsers(t *testing.T) {
	t.Parallel() // each test has its own database, server and browser tab (issue 17, point 7)
	s := newServer(t)
	ctx := context.Background()
	on := s.user(t, "u-on")
	off := s.user(t, "u-off")
	if _, err := s.svc.SetEnabled(ctx, sys, directory.Scope{}, off.ID, false); err != nil {
		t.Fatal(err)
	}
	ops, err := s.svc.CreateGroup(ctx, sys, directory.Group{Name: "ops", Description: "Operators"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.svc.CreateCustomer(ctx, sys, directory.Customer{Code: "old", Name: "Old Corp", State: directory.CustomerInvalid}); err != nil {
		t.Fatal(err)
	}
	b := newTab(t, s.URL, "en")
	b.signIn("admin", adminPassword, "/console/users")
	b.checkPage("users")

	// U6: the buttons follow the selection.
	type state map[string]bool
	check := func(what string, want state) {
		t.Helper()
		got := buttons(b)
		for id, w := range want {
			if got[id] != w {
				t.Fatalf("%s: %s enabled=%v, want %v (all: %v)", what, id, got[id], w, got)
			}
		}
	}
	check("no selection", state{"btn-add": true, "btn-delete": false, "btn-reset": false, "btn-enable": false, "btn-disable": false})
	b.do(chromedp.Click(chromedp.CSS("#sel-" + string(on.ID))))
	check("an enabled user", state{"btn-add": false, "btn-delete": true, "btn-reset": true, "btn-enable": false, "btn-disable": true})
	b.do(chromedp.Click(chromedp.CSS("#sel-" + string(off.ID))))
	check("enabled and disabled users", state{"btn-add": false, "btn-delete": true, "btn-reset": true, "btn-enable": true, "btn-disable": true})
	b.do(chromedp.Click(chromedp.CSS("#sel-" + string(on.ID))))
	// A reset of only disabled users would send nothing: disabled, with the
	// reason (issue 17, point 10).
	check("a disabled user", state{"btn-add": false, "btn-delete": true, "btn-reset": false, "btn-enable": true, "btn-disable": false})
	b.do(chromedp.Click(chromedp.CSS("#sel-" + string(off.ID))))
	check("selection cleared", state{"btn-add": true, "btn-delete": false, "btn-reset": false, "btn-enable": false, "btn-disable": false})
	b.do(chromedp.Click(chromedp.CSS("#select-all")))
	// All includes admin, who cannot be deleted (U10).
	check("all selected", state{"btn-add": false, "btn-delete": false, "btn-reset": true, "btn-enable": true, "btn-disable": true})
	b.do(chromedp.Click(chromedp.CSS("#select-all")))

	// Bulk enable of the disabled user.
	b.do(chromedp.Click(chromedp.CSS("#sel-"+string(off.ID))), chromedp.Click(chromedp.CSS("#btn-enable")))
	b.waitURL("/console/users/bulk")
	if got := b.text("#bulk-done"); !strings.Contains(got, "1 user") {
		t.Fatalf("bulk result: %q", got)
	}
	if u, _ := s.db.GetUser(ctx, directory.Scope{}, off.ID); !u.Enabled {
		t.Fatal("bulk enable did not enable u-off")
	}

	// Bulk delete asks first; Cancel keeps the user, OK deletes it.
	b.navigate("/console/users")
	b.do(chromedp.Click(chromedp.CSS("#sel-"+string(on.ID))), chromedp.Click(chromedp.CSS("#btn-delete")),
		chromedp.WaitVisible(chromedp.CSS("#confirm-dialog")))
	b.checkPage("users-confirm-delete")
	b.do(chromedp.Click(chromedp.CSS("#confirm-cancel")), chromedp.WaitNotVisible(chromedp.CSS("#confirm-dialog")))
	if _, err := s.db.GetUser(ctx, directory.Scope{}, on.ID); err != nil {
		t.Fatalf("cancelled delete removed the user: %v", err)
	}
	b.do(chromedp.Click(chromedp.CSS("#btn-delete")))
	b.confirm("/console/users/bulk")
	if _, err := s.db.GetUser(ctx, directory.Scope{}, on.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("confirmed bulk delete kept the user: %v", err)
	}

	// U8: Add asks for the personal-information confirmation first.
	b.navigate("/console/users")
	b.do(chromedp.Click(chromedp.CSS("#btn-add")), chromedp.WaitVisible(chromedp.CSS("#pi-dialog")))
	b.checkPage("users-pi-dialog")
	if eval[bool](b, `!document.getElementById("pi-ok").disabled`) {
		t.Fatal("OK is enabled before the confirmation is ticked")
	}
	b.do(chromedp.Click(chromedp.CSS("#pi-confirm")))
	if !eval[bool](b, `!document.getElementById("pi-ok").disabled`) {
		t.Fatal("OK stays disabled after the confirmation is ticked")
	}
	b.do(chromedp.Click(chromedp.CSS("#pi-ok")))
	b.waitURL("/console/users/new?pi=1")

	// A customer user: the chooser offers only valid customers (C1), so the
	// customer is added first through its own page.
	b.navigate("/console/customers/new")
	b.do(chromedp.SendKeys(chromedp.CSS("#f-code"), "acme"), chromedp.SendKeys(chromedp.CSS("#f-name"), "ACME Inc."),
		chromedp.SendKeys(chromedp.CSS("#f-city"), "Tokyo"), chromedp.Click(chromedp.CSS("#customer-save")))
	b.waitURL("/console/customers?done=created")
	b.checkPage("customers")
	b.navigate("/console/users/new?pi=1")
	b.checkPage("user-new")
	options := eval[string](b, `Array.from(document.querySelectorAll("#f-customer_id option")).map(o => o.textContent).join("|")`)
	if !strings.Contains(options, "ACME Inc.") || strings.Contains(options, "Old Corp") {
		t.Fatalf("customer chooser offers %q; want ACME and not the invalid Old Corp", options)
	}
	acme, err := s.db.GetCustomerByCode(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	b.do(chromedp.SendKeys(chromedp.CSS("#f-username"), "hanako"), chromedp.SendKeys(chromedp.CSS("#f-email"), "hanako@acme.example"),
		chromedp.SendKeys(chromedp.CSS("#f-last_name"), "山田"), chromedp.SendKeys(chromedp.CSS("#f-first_name"), "花子"),
		chromedp.SetValue(chromedp.CSS("#f-customer_id"), string(acme.ID)), chromedp.SetValue(chromedp.CSS("#f-timezone"), "Asia/Tokyo"),
		chromedp.SendKeys(chromedp.CSS("#f-company"), "ACME"), chromedp.Click(chromedp.CSS("#user-save")))
	b.waitURL("/console/users/")
	b.do(chromedp.WaitVisible(chromedp.CSS("#user-heading")))
	hanako, err := s.db.GetUserByUsername(ctx, directory.Scope{}, "hanako")
	if err != nil {
		t.Fatalf("hanako was not created: %v", err)
	}
	if hanako.CustomerID != acme.ID || hanako.Timezone != "Asia/Tokyo" || hanako.LastName != "山田" {
		t.Fatalf("created %+v", hanako)
	}
	if got := b.text("#user-customer"); !strings.Contains(got, "ACME Inc.") {
		t.Fatalf("customer shown as %q", got)
	}

	b.navigate("/console/users/" + string(hanako.ID) + "/edit")
	b.checkPage("user-edit")
	if got := eval[string](b, `document.getElementById("f-timezone").value`); got != "Asia/Tokyo" {
		t.Fatalf("edit form time zone %q", got)
	}

	// Assign the role Customer User through the roles dialog (U11).
	cuRole, err := s.db.GetRoleByName(ctx, directory.RoleNameCustomerUser)
	if err != nil {
		t.Fatal(err)
	}
	b.navigate("/console/users/" + string(hanako.ID) + "?tab=roles")
	b.do(chromedp.Click(chromedp.CSS("#btn-assign-roles")), chromedp.WaitVisible(chromedp.CSS("#assign-roles")))
	b.checkPage("user-assign-roles")
	eval[bool](b, `(document.querySelector('#assign-roles-un option[value="`+string(cuRole.ID)+`"]').selected = true)`)
	b.do(chromedp.Click(chromedp.CSS("#assign-roles .move-assign")))
	if n := eval[int](b, `document.querySelectorAll("#assign-roles-as option").length`); n != 1 {
		t.Fatalf("assigned list holds %d roles after the move, want 1", n)
	}
	b.do(chromedp.Click(chromedp.CSS("#assign-roles-save")))
	b.waitURL("/console/users/" + string(hanako.ID) + "?tab=roles&done=saved")
	if got := b.text("#user-roles"); !strings.Contains(got, directory.RoleNameCustomerUser) {
		t.Fatalf("roles tab shows %q", got)
	}

	// Assign the group ops through the groups dialog.
	b.navigate("/console/users/" + string(hanako.ID) + "?tab=groups")
	b.do(chromedp.Click(chromedp.CSS("#btn-assign-groups")), chromedp.WaitVisible(chromedp.CSS("#assign-groups")))
	eval[bool](b, `(document.querySelector('#assign-groups-un option[value="`+string(ops.ID)+`"]').selected = true)`)
	b.do(chromedp.Click(chromedp.CSS("#assign-groups .move-assign")), chromedp.Click(chromedp.CSS("#assign-groups-save")))
	b.waitURL("/console/users/" + string(hanako.ID) + "?tab=groups&done=saved")
	if got := b.text("#user-groups"); !strings.Contains(got, "ops") {
		t.Fatalf("groups tab shows %q", got)
	}
	b.checkPage("user-groups")

	// The effective roles tab: Customer User, what it contains, the implicit
	// user role, each with the path that grants it (R3, R6).
	b.do(chromedp.Click(chromedp.CSS("#tab-effective")))
	b.waitURL("/console/users/" + string(hanako.ID) + "?tab=effective")
	eff := b.text("#user-effective")
	for _, want := range []string{"Customer User", "customer", "user", "direct → Customer User → customer", "implicit → user"} {
		if !strings.Contains(eff, want) {
			t.Fatalf("effective roles tab lacks %q:\n%s", want, eff)
		}
	}
	b.checkPage("user-effective")

	// The reserved admin cannot be deleted (U10): the refusal is shown.
	admin, err := s.db.GetUserByUsername(ctx, directory.Scope{}, "admin")
	if err != nil {
		t.Fatal(err)
	}
	b.navigate("/console/users/" + string(admin.ID))
	b.do(chromedp.Click(chromedp.CSS("#btn-delete")))
	b.confirm("/console/users/" + string(admin.ID) + "/delete")
	if got := b.text("p.error"); !strings.Contains(got, "admin") {
		t.Fatalf("refusal shown as %q", got)
	}
	b.checkPage("user-admin-refused")
	if _, err := s.db.GetUser(ctx, directory.Scope{}, admin.ID); err != nil {
		t.Fatalf("admin is gone: %v", err)
	}
}
