package console_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"opsiam/internal/directory"
	"opsiam/internal/store"
)

// TestBrowserPickersAndReasons (issue 17, point 10): adding a member and
// giving a role to a user pick the user from a list the server searches as
// one types; the relation form does not offer global; bulk buttons the
// server would refuse are disabled with the reason shown.
func TestBrowserPickersAndReasons(t *testing.T) {
	t.Parallel() // each test has its own database, server and browser tab (issue 17, point 7)
	s := newServer(t)
	ctx := context.Background()
	taro := s.user(t, "taro")
	off := s.user(t, "off")
	if _, err := s.svc.SetEnabled(ctx, sys, directory.Scope{}, off.ID, false); err != nil {
		t.Fatal(err)
	}
	g, err := s.svc.CreateGroup(ctx, sys, directory.Group{Name: "Night shift"})
	if err != nil {
		t.Fatal(err)
	}
	role, err := s.svc.CreateRole(ctx, sys, directory.Role{Name: "Night lead"})
	if err != nil {
		t.Fatal(err)
	}
	b := newTab(t, s.URL, "en")
	b.signIn("admin", adminPassword, "/console/groups/"+string(g.ID))

	pick := func(prefix, want string) {
		t.Helper()
		b.do(chromedp.SendKeys(chromedp.CSS("#f-username"), prefix))
		deadline := time.Now().Add(10 * time.Second)
		for !eval[bool](b, `Array.from(document.querySelectorAll("#pick-users option")).some(o => o.value === "`+want+`")`) {
			if time.Now().After(deadline) {
				t.Fatalf("the picker never offered %s for %q", want, prefix)
			}
			time.Sleep(50 * time.Millisecond)
		}
		label := eval[string](b, `document.querySelector('#pick-users option[value="`+want+`"]').label`)
		if !strings.Contains(label, want+"@example.test") {
			t.Errorf("option label %q", label)
		}
		b.do(chromedp.SetValue(chromedp.CSS("#f-username"), want))
	}
	pick("tar", "taro")
	b.checkPage("group-member-picker")
	b.do(chromedp.Submit(chromedp.CSS("#f-username")))
	b.waitURL("/console/groups/" + string(g.ID) + "?tab=members&done=saved")
	if ms, _ := s.db.ListMembers(ctx, directory.Scope{}, g.ID, storeListAll); len(ms.Items) != 1 || ms.Items[0].ID != taro.ID {
		t.Fatalf("members: %v", ms.Items)
	}

	b.navigate("/console/roles/" + string(role.ID) + "?tab=users")
	pick("ta", "taro")
	b.do(chromedp.Click(chromedp.CSS("#role-adduser-save")))
	b.waitURL("/console/roles/" + string(role.ID) + "?tab=users&done=saved")
	if got := b.text("#role-users"); !strings.Contains(got, "taro") {
		t.Fatalf("role holders: %q", got)
	}

	// Bulk buttons: admin cannot be deleted; a reset of only disabled users is refused.
	b.navigate("/console/users")
	adm, _ := s.db.GetUserByUsername(ctx, directory.Scope{}, "admin")
	click := func(id directory.UserID) { b.do(chromedp.Click(chromedp.CSS("#sel-" + string(id)))) }
	click(adm.ID)
	if !eval[bool](b, `document.getElementById("btn-delete").disabled`) || !strings.Contains(b.text("#bulk-reason"), "admin cannot be deleted") {
		t.Fatalf("delete with admin selected: disabled %v, reason %q", eval[bool](b, `document.getElementById("btn-delete").disabled`), b.text("#bulk-reason"))
	}
	click(adm.ID)
	click(off.ID)
	if !eval[bool](b, `document.getElementById("btn-reset").disabled`) || !strings.Contains(b.text("#bulk-reason"), "only to enabled users") {
		t.Fatalf("reset of a disabled user: reason %q", b.text("#bulk-reason"))
	}
	click(taro.ID)
	if eval[bool](b, `document.getElementById("btn-reset").disabled || document.getElementById("btn-delete").disabled`) || b.text("#bulk-reason") != "" {
		t.Fatalf("with an enabled user selected the buttons stay disabled: %q", b.text("#bulk-reason"))
	}
	b.checkPage("users-bulk-reasons")
}

var storeListAll = store.ListQuery{Limit: 1000}
