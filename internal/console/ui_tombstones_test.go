package console_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"opsiam/internal/directory"
	"opsiam/internal/provision"
	"opsiam/internal/store"
)

// The deleted-user screens (D2, D3; reference §6.3) in headless Chromium:
// one test per case, each driving the choice screen (A–D) and the rename
// screen (E–H), checking when Next and OK are enabled, and checking the
// outcome in the store and the ITSM events in the outbox.

// addUser fills and sends the add form (past the U8 confirmation).
func (b *tab) addUser(username, email string, customer directory.CustomerID) {
	b.t.Helper()
	b.navigate("/console/users/new?pi=1")
	b.do(chromedp.SendKeys(chromedp.CSS("#f-username"), username), chromedp.SendKeys(chromedp.CSS("#f-email"), email),
		chromedp.SendKeys(chromedp.CSS("#f-last_name"), "Sato"), chromedp.SendKeys(chromedp.CSS("#f-first_name"), "Ken"))
	if customer != "" {
		b.do(chromedp.SetValue(chromedp.CSS("#f-customer_id"), string(customer)))
	}
	b.do(chromedp.Click(chromedp.CSS("#user-save")))
}

// screen waits for the choice or rename screen named x (A–H).
func (b *tab) screen(x string) {
	b.t.Helper()
	b.do(chromedp.WaitVisible(chromedp.CSS(`#tomb-form[data-screen="` + x + `"]`)))
}

// buttons checks whether Next and OK are present and enabled ("absent",
// "off" or "on").
func (b *tab) tombButtons(what, next, ok string) {
	b.t.Helper()
	got := eval[[]string](b, `["tomb-next", "tomb-ok"].map(id => { const e = document.getElementById(id); return !e ? "absent" : e.disabled ? "off" : "on"; })`)
	if got[0] != next || got[1] != ok {
		b.t.Fatalf("%s: Next %s, OK %s; want Next %s, OK %s", what, got[0], got[1], next, ok)
	}
}

// choose clicks the option that takes over tombstone id ("none": none).
func (b *tab) choose(id string) {
	b.t.Helper()
	b.do(chromedp.Click(chromedp.CSS("#tomb-opt-" + id)))
}

// fill replaces the value of the input with id, typing it like a person.
func (b *tab) fill(id, value string) {
	b.t.Helper()
	eval[bool](b, fmt.Sprintf(`(() => { const e = document.getElementById(%q); e.value = ""; e.dispatchEvent(new Event("input", {bubbles: true})); return true; })()`, id))
	if value != "" {
		b.do(chromedp.SendKeys(chromedp.CSS("#"+id), value))
	}
}

// saved waits for the user page the final OK leads to.
func (b *tab) saved() {
	b.t.Helper()
	b.waitURL("/console/users/")
	b.do(chromedp.WaitVisible(chromedp.CSS("#user-heading")))
}

// userNamed returns the user named name.
func (s *server) userNamed(t *testing.T, name string) directory.User {
	t.Helper()
	u, err := s.db.GetUserByUsername(context.Background(), directory.Scope{}, name)
	if err != nil {
		t.Fatalf("user %s: %v", name, err)
	}
	return u
}

// checkTomb checks a tombstone's user name, mail and owner ("" = live).
func (s *server) checkTomb(t *testing.T, id directory.TombstoneID, username, email string, owner directory.UserID) {
	t.Helper()
	got, err := s.db.GetTombstone(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if got.Username != username || got.Email != email || got.TakenOverBy != owner {
		t.Fatalf("tombstone %s is %s/%s taken over by %q; want %s/%s by %q", id, got.Username, got.Email, got.TakenOverBy,
			username, email, owner)
	}
}

// checkEvents compares the ITSM events of the user's aggregate.
func (s *server) checkEvents(t *testing.T, u directory.UserID, want ...string) {
	t.Helper()
	got := s.itsmEvents(t, u)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("ITSM events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// noUser fails if a user named name exists: nothing is written before OK.
func (s *server) noUser(t *testing.T, name string) {
	t.Helper()
	if _, err := s.db.GetUserByUsername(context.Background(), directory.Scope{}, name); err == nil {
		t.Fatalf("user %s was written before the final OK", name)
	}
}

// TestBrowserTombstoneA: an operator (no customer) with a deleted user's
// user name. A → E: Back keeps the choice, a taken new name comes back
// with the error next to its input, the deleted user is renamed. A → OK:
// take over; its mail follows the new user's.
func TestBrowserTombstoneA(t *testing.T) {
	t.Parallel() // each test has its own database, server and browser tab (issue 17, point 7)
	s := newServer(t)
	acme := s.customer(t, "acme")
	kenji := s.tombstone(t, "kenji", "kenji@acme.example", acme.ID)
	mari := s.tombstone(t, "mari", "mari@acme.example", acme.ID)
	b := newTab(t, s.URL, "en")
	b.signIn("admin", adminPassword, "/console/users")

	b.addUser("kenji", "kenji.ops@example.test", "")
	b.screen("A")
	b.checkPage("tomb-A")
	b.tombButtons("nothing chosen", "off", "off")
	b.choose(string(kenji.ID))
	b.tombButtons("take over chosen", "off", "on")
	b.choose("none")
	b.tombButtons("rename chosen", "on", "off")
	b.do(chromedp.Click(chromedp.CSS("#tomb-next")))
	b.screen("E")
	b.checkPage("tomb-E")
	in := "tomb-username-" + string(kenji.ID)
	b.tombButtons("rename screen, empty", "absent", "off")
	b.do(chromedp.Click(chromedp.CSS("#tomb-back")))
	b.screen("A")
	if !eval[bool](b, `document.getElementById("tomb-opt-none").checked`) {
		t.Fatal("Back lost the choice")
	}
	b.tombButtons("back on A", "on", "off")
	b.do(chromedp.Click(chromedp.CSS("#tomb-next")))
	b.screen("E")
	b.fill(in, "kenji") // the new user's own name: refused by the server
	b.tombButtons("rename screen, filled", "absent", "on")
	s.noUser(t, "kenji")
	b.do(chromedp.Click(chromedp.CSS("#tomb-ok")), chromedp.WaitVisible(chromedp.CSS("#rename-"+string(kenji.ID)+" .field-error")))
	if got := b.text("#rename-" + string(kenji.ID) + " .field-error"); !strings.Contains(got, "already used") {
		t.Fatalf("error next to the new user name: %q", got)
	}
	b.checkPage("tomb-E-refused")
	s.noUser(t, "kenji")
	b.fill(in, "")
	b.tombButtons("rename screen, cleared", "absent", "off")
	b.fill(in, "kenji.old")
	b.tombButtons("rename screen, refilled", "absent", "on")
	b.do(chromedp.Click(chromedp.CSS("#tomb-ok")))
	b.saved()
	u := s.userNamed(t, "kenji")
	s.checkTomb(t, kenji.ID, "kenji.old", "kenji@acme.example", "")
	s.checkEvents(t, u.ID, "itsm.tombstone_renamed kenji.old/kenji@acme.example (was kenji/kenji@acme.example)")

	b.addUser("mari", "mari.ops@example.test", "")
	b.screen("A")
	b.choose(string(mari.ID))
	b.tombButtons("take over chosen", "off", "on")
	s.noUser(t, "mari")
	b.do(chromedp.Click(chromedp.CSS("#tomb-ok")))
	b.saved()
	m := s.userNamed(t, "mari")
	s.checkTomb(t, mari.ID, "mari", "mari.ops@example.test", m.ID)
	s.checkEvents(t, m.ID, "itsm.tombstone_taken_over mari/mari.ops@example.test (was mari/mari@acme.example)")

	// The ITSM events wait in the outbox (P1): the Outbox page lists them;
	// a dead delivery is replayed after the confirmation.
	b.do(chromedp.Click(chromedp.CSS("#nav-outbox")))
	b.waitURL("/console/outbox")
	k := s.deadDelivery(t, "otto")
	b.navigate("/console/outbox?state=pending")
	if got := b.text("#outbox-table"); !strings.Contains(got, "itsm.tombstone_taken_over") || !strings.Contains(got, "user:"+string(m.ID)) {
		t.Fatalf("pending list lacks the take-over event:\n%s", got)
	}
	b.checkPage("outbox-pending")
	b.navigate("/console/outbox?state=dead")
	row := `#outbox-table tr[data-delivery="` + provision.DeliveryID(k) + `"]`
	if got := b.text(row + " .last-error"); got != "HTTP 503 from the ITSM app" {
		t.Fatalf("last error shown as %q", got)
	}
	b.checkPage("outbox-dead")
	b.do(chromedp.Click(chromedp.CSS(row + " button.replay")))
	b.confirm("/console/outbox?done=replayed&state=dead")
	if d, err := s.db.GetDelivery(context.Background(), k); err != nil || d.State != store.DeliveryPending {
		t.Fatalf("after replay in the browser: %+v %v", d, err)
	}
	b.checkPage("outbox-replayed")
}

// TestBrowserTombstoneB: a customer user with only a deleted customer
// user's mail. B → F: the deleted user's mail is changed. B → OK: take
// over; its user name becomes the new one.
func TestBrowserTombstoneB(t *testing.T) {
	t.Parallel() // each test has its own database, server and browser tab (issue 17, point 7)
	s := newServer(t)
	acme := s.customer(t, "acme")
	bob := s.tombstone(t, "bob", "shared@acme.example", acme.ID)
	beth := s.tombstone(t, "beth", "beth@acme.example", acme.ID)
	b := newTab(t, s.URL, "en")
	b.signIn("admin", adminPassword, "/console/users")

	b.addUser("bobby", "shared@acme.example", acme.ID)
	b.screen("B")
	b.checkPage("tomb-B")
	b.tombButtons("nothing chosen", "off", "off")
	b.choose("none")
	b.tombButtons("rename chosen", "on", "off")
	b.do(chromedp.Click(chromedp.CSS("#tomb-next")))
	b.screen("F")
	b.checkPage("tomb-F")
	b.tombButtons("rename screen, empty", "absent", "off")
	b.fill("tomb-email-"+string(bob.ID), "shared.old@acme.example")
	b.tombButtons("rename screen, filled", "absent", "on")
	s.noUser(t, "bobby")
	b.do(chromedp.Click(chromedp.CSS("#tomb-ok")))
	b.saved()
	u := s.userNamed(t, "bobby")
	s.checkTomb(t, bob.ID, "bob", "shared.old@acme.example", "")
	s.checkEvents(t, u.ID, "itsm.tombstone_renamed bob/shared.old@acme.example (was bob/shared@acme.example)")

	b.addUser("elisabeth", "beth@acme.example", acme.ID)
	b.screen("B")
	b.tombButtons("nothing chosen", "off", "off")
	b.choose(string(beth.ID))
	b.tombButtons("take over chosen", "off", "on")
	b.do(chromedp.Click(chromedp.CSS("#tomb-ok")))
	b.saved()
	e := s.userNamed(t, "elisabeth")
	s.checkTomb(t, beth.ID, "elisabeth", "beth@acme.example", e.ID)
	s.checkEvents(t, e.ID, "itsm.tombstone_taken_over elisabeth/beth@acme.example (was beth/beth@acme.example)")
}

// TestBrowserTombstoneC: a customer user with the user name and mail of one
// deleted user. C → G asks both values; OK waits for both. C → OK: take
// over.
func TestBrowserTombstoneC(t *testing.T) {
	t.Parallel() // each test has its own database, server and browser tab (issue 17, point 7)
	s := newServer(t)
	acme := s.customer(t, "acme")
	carl := s.tombstone(t, "carl", "carl@acme.example", acme.ID)
	cora := s.tombstone(t, "cora", "cora@acme.example", acme.ID)
	b := newTab(t, s.URL, "en")
	b.signIn("admin", adminPassword, "/console/users")

	b.addUser("carl", "carl@acme.example", acme.ID)
	b.screen("C")
	b.checkPage("tomb-C")
	b.tombButtons("nothing chosen", "off", "off")
	b.choose(string(carl.ID))
	b.tombButtons("take over chosen", "off", "on")
	b.choose("none")
	b.tombButtons("rename chosen", "on", "off")
	b.do(chromedp.Click(chromedp.CSS("#tomb-next")))
	b.screen("G")
	b.checkPage("tomb-G")
	b.tombButtons("rename screen, empty", "absent", "off")
	b.fill("tomb-username-"+string(carl.ID), "carl.old")
	b.tombButtons("rename screen, user name only", "absent", "off")
	b.fill("tomb-email-"+string(carl.ID), "carl.old@acme.example")
	b.tombButtons("rename screen, both", "absent", "on")
	s.noUser(t, "carl")
	b.do(chromedp.Click(chromedp.CSS("#tomb-ok")))
	b.saved()
	u := s.userNamed(t, "carl")
	s.checkTomb(t, carl.ID, "carl.old", "carl.old@acme.example", "")
	s.checkEvents(t, u.ID, "itsm.tombstone_renamed carl.old/carl.old@acme.example (was carl/carl@acme.example)")

	b.addUser("cora", "cora@acme.example", acme.ID)
	b.screen("C")
	b.choose(string(cora.ID))
	b.do(chromedp.Click(chromedp.CSS("#tomb-ok")))
	b.saved()
	c := s.userNamed(t, "cora")
	s.checkTomb(t, cora.ID, "cora", "cora@acme.example", c.ID)
	s.checkEvents(t, c.ID, "itsm.tombstone_taken_over cora/cora@acme.example (was cora/cora@acme.example)")
}

// TestBrowserTombstoneD: a customer user whose user name matches one
// deleted user and mail another, with each of the three choices: take over
// the name one (then F: the other's mail), the mail one (then E: the
// other's user name), or neither (then H: both). Every choice needs a
// rename, so the screen offers Next only.
func TestBrowserTombstoneD(t *testing.T) {
	t.Parallel() // each test has its own database, server and browser tab (issue 17, point 7)
	s := newServer(t)
	acme := s.customer(t, "acme")
	b := newTab(t, s.URL, "en")
	b.signIn("admin", adminPassword, "/console/users")
	for i, choice := range []string{"name", "mail", "neither"} {
		n := fmt.Sprint("d", i+1)
		byName := s.tombstone(t, n, n+".name@acme.example", acme.ID)
		byMail := s.tombstone(t, n+"-other", n+"@acme.example", acme.ID)
		b.addUser(n, n+"@acme.example", acme.ID)
		b.screen("D")
		if i == 0 {
			b.checkPage("tomb-D")
		}
		b.tombButtons("nothing chosen", "off", "absent")
		rename := "F"
		switch choice {
		case "name":
			b.choose(string(byName.ID))
		case "mail":
			b.choose(string(byMail.ID))
			rename = "E"
		default:
			b.choose("none")
			rename = "H"
		}
		b.tombButtons(choice+" chosen", "on", "absent")
		b.do(chromedp.Click(chromedp.CSS("#tomb-next")))
		b.screen(rename)
		b.checkPage("tomb-D-" + rename)
		b.tombButtons("rename screen, empty", "absent", "off")
		if choice != "mail" {
			b.fill("tomb-email-"+string(byMail.ID), n+".moved@acme.example")
		}
		if choice == "neither" {
			b.tombButtons("rename screen, one of two", "absent", "off")
		}
		if choice != "name" {
			b.fill("tomb-username-"+string(byName.ID), n+".old")
		}
		b.tombButtons("rename screen, filled", "absent", "on")
		s.noUser(t, n)
		b.do(chromedp.Click(chromedp.CSS("#tomb-ok")))
		b.saved()
		u := s.userNamed(t, n)
		switch choice {
		case "name":
			s.checkTomb(t, byName.ID, n, n+"@acme.example", u.ID)
			s.checkTomb(t, byMail.ID, n+"-other", n+".moved@acme.example", "")
			s.checkEvents(t, u.ID,
				fmt.Sprintf("itsm.tombstone_renamed %[1]s-other/%[1]s.moved@acme.example (was %[1]s-other/%[1]s@acme.example)", n),
				fmt.Sprintf("itsm.tombstone_taken_over %[1]s/%[1]s@acme.example (was %[1]s/%[1]s.name@acme.example)", n))
		case "mail":
			s.checkTomb(t, byName.ID, n+".old", n+".name@acme.example", "")
			s.checkTomb(t, byMail.ID, n, n+"@acme.example", u.ID)
			s.checkEvents(t, u.ID,
				fmt.Sprintf("itsm.tombstone_renamed %[1]s.old/%[1]s.name@acme.example (was %[1]s/%[1]s.name@acme.example)", n),
				fmt.Sprintf("itsm.tombstone_taken_over %[1]s/%[1]s@acme.example (was %[1]s-other/%[1]s@acme.example)", n))
		default:
			s.checkTomb(t, byName.ID, n+".old", n+".name@acme.example", "")
			s.checkTomb(t, byMail.ID, n+"-other", n+".moved@acme.example", "")
			s.checkEvents(t, u.ID,
				fmt.Sprintf("itsm.tombstone_renamed %[1]s.old/%[1]s.name@acme.example (was %[1]s/%[1]s.name@acme.example)", n),
				fmt.Sprintf("itsm.tombstone_renamed %[1]s-other/%[1]s.moved@acme.example (was %[1]s-other/%[1]s@acme.example)", n))
		}
	}
}

// TestBrowserTombstoneEdit: changing a customer user's mail on the edit
// form to a deleted user's mail, in Japanese: B then F; the user gets the
// mail, the deleted user a new one.
func TestBrowserTombstoneEdit(t *testing.T) {
	t.Parallel() // each test has its own database, server and browser tab (issue 17, point 7)
	s := newServer(t)
	ctx := context.Background()
	acme := s.customer(t, "acme")
	eve := s.tombstone(t, "eve", "eve@acme.example", acme.ID)
	erin := s.user(t, "erin")
	if _, err := s.svc.UpdateUser(ctx, sys, directory.Scope{}, erin.ID, 0, managePatchCustomer(acme.ID)); err != nil {
		t.Fatal(err)
	}
	b := newTab(t, s.URL, "ja")
	page := "/console/users/" + string(erin.ID)
	b.signIn("admin", adminPassword, page+"/edit")
	b.fill("f-email", "eve@acme.example")
	b.do(chromedp.Click(chromedp.CSS("#user-save")))
	b.screen("B")
	if got := b.text("h1"); got != "同じメールアドレスの削除済みユーザーがいます" {
		t.Fatalf("title in Japanese: %q", got)
	}
	b.checkPage("tomb-edit-B-ja")
	b.tombButtons("nothing chosen", "off", "off")
	b.choose("none")
	b.tombButtons("rename chosen", "on", "off")
	b.do(chromedp.Click(chromedp.CSS("#tomb-next")))
	b.screen("F")
	b.checkPage("tomb-edit-F-ja")
	b.tombButtons("rename screen, empty", "absent", "off")
	b.fill("tomb-email-"+string(eve.ID), "eve.old@acme.example")
	b.tombButtons("rename screen, filled", "absent", "on")
	if u := s.userNamed(t, "erin"); u.Email != "erin@example.test" {
		t.Fatalf("mail changed before the final OK: %s", u.Email)
	}
	b.do(chromedp.Click(chromedp.CSS("#tomb-ok")))
	b.waitURL(page + "?done=saved")
	if u := s.userNamed(t, "erin"); u.Email != "eve@acme.example" {
		t.Fatalf("mail after OK: %s", u.Email)
	}
	s.checkTomb(t, eve.ID, "eve", "eve.old@acme.example", "")
	s.checkEvents(t, erin.ID, "itsm.tombstone_renamed eve/eve.old@acme.example (was eve/eve@acme.example)")
}
