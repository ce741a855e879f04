package console_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"opsiam/internal/directory"
	"opsiam/internal/provision"
	"opsiam/internal/store"
)

// customer creates a valid customer.
func (s *server) customer(t *testing.T, code string) directory.Customer {
	t.Helper()
	c, err := s.svc.CreateCustomer(context.Background(), sys, directory.Customer{Code: code, Name: strings.ToUpper(code)})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// tombstone makes a deleted customer user of customer cu (D1) and returns
// its tombstone.
func (s *server) tombstone(t *testing.T, username, email string, cu directory.CustomerID) directory.Tombstone {
	t.Helper()
	ctx := context.Background()
	u, err := s.svc.CreateUser(ctx, sys, directory.User{Username: username, Email: email, FirstName: "Old", LastName: "User",
		Enabled: true, CustomerID: cu, Timezone: "Asia/Tokyo"})
	if err != nil {
		t.Fatal(err)
	}
	role, err := s.db.GetRoleByName(ctx, directory.RoleNameCustomerUser)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.svc.AssignUserRoles(ctx, sys, u.ID, []directory.RoleID{role.ID}); err != nil {
		t.Fatal(err)
	}
	if err := s.svc.DeleteUser(ctx, sys, directory.Scope{}, u.ID, 0); err != nil {
		t.Fatal(err)
	}
	ts, err := s.db.FindTombstones(ctx, directory.Key(username), "")
	if err != nil || len(ts) != 1 {
		t.Fatalf("tombstone of %s: %v %v", username, ts, err)
	}
	return ts[0]
}

// itsmEvents fans the outbox out to a test target "itsm" and returns the
// tombstone events of the user's aggregate as "topic tombstone-username/
// email (was username/email)", in order (D2, P3).
func (s *server) itsmEvents(t *testing.T, user directory.UserID) []string {
	t.Helper()
	ctx := context.Background()
	if _, err := s.db.FanOut(ctx, 10000, func(store.Event) []string { return []string{"itsm"} }, time.Now()); err != nil {
		t.Fatal(err)
	}
	var out []string
	cursor := ""
	for {
		page, err := s.db.ListDeliveries(ctx, store.DeliveryQuery{Target: "itsm", Limit: 100, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range page.Items {
			if d.Event.Aggregate != "user:"+string(user) || !strings.HasPrefix(d.Event.Topic, "itsm.tombstone_") {
				continue
			}
			var e directory.TombstoneEvent
			if err := json.Unmarshal(d.Event.Payload, &e); err != nil {
				t.Fatal(err)
			}
			line := d.Event.Topic + " " + e.Username + "/" + e.Email + " (was " + e.PreviousUsername + "/" + e.PreviousEmail + ")"
			if d.Event.Topic == provision.TopicTombstoneTakenOver && e.UserID != user {
				line += " to " + string(e.UserID)
			}
			out = append(out, line)
		}
		if page.Next == "" {
			return out
		}
		cursor = page.Next
	}
}

// TestTombstoneScreens drives case A over HTTP: the choice screen (409)
// writes nothing; Next without a choice and OK with an empty or bad new
// user name come back with the error next to the field; the final OK
// creates the user and renames the deleted one (D2, D3).
func TestTombstoneScreens(t *testing.T) {
	t.Parallel() // each test has its own database, server and browser tab (issue 17, point 7)
	s := newServer(t)
	ctx := context.Background()
	acme := s.customer(t, "acme")
	tomb := s.tombstone(t, "gina", "gina@acme.example", acme.ID)
	cl := s.signIn(t, "admin", adminPassword)
	form := url.Values{"pi": {"1"}, "username": {"gina"}, "email": {"gina.ops@example.test"}, "first_name": {"G"},
		"last_name": {"N"}, "enabled": {"on"}, "timezone": {"Asia/Tokyo"}}
	post := func(want int, wants ...string) string {
		t.Helper()
		code, body := cl.post("/console/users/new?pi=1", "/console/users/new", form)
		if code != want {
			t.Fatalf("status %d, want %d\n%s", code, want, body)
		}
		mustContain(t, body, wants...)
		checkLabels(t, "tombstone screen", body)
		return body
	}
	notCreated := func() {
		t.Helper()
		if _, err := s.db.GetUserByUsername(ctx, directory.Scope{}, "gina"); err == nil {
			t.Fatal("the user was created before the final OK")
		}
	}
	body := post(http.StatusConflict, `data-screen="A"`, `id="tomb-opt-`+string(tomb.ID)+`"`, `id="tomb-opt-none"`,
		`name="username" value="gina"`, `id="tomb-next"`, `id="tomb-ok"`)
	if strings.Contains(body, `name="tomb_username.`) {
		t.Fatal("the choice screen asks the new user name already")
	}
	notCreated()
	form.Set("tomb_step", "choose")
	form.Set("tomb_go", "next")
	post(http.StatusUnprocessableEntity, "Choose one of the options.")
	form.Set("tomb_take", "nonsense")
	post(http.StatusUnprocessableEntity, "Choose one of the options.")
	form.Set("tomb_take", string(tomb.ID))
	post(http.StatusOK, `data-screen="A"`) // Next with a take-over: only OK writes
	notCreated()
	form.Set("tomb_take", "none")
	post(http.StatusOK, `data-screen="E"`, `name="tomb_username.`+string(tomb.ID)+`"`)
	notCreated()
	form.Set("tomb_step", "rename")
	form.Set("tomb_go", "ok")
	post(http.StatusUnprocessableEntity, `data-screen="E"`, `class="field-error"`)
	form.Set("tomb_username."+string(tomb.ID), "gina") // the new user's own name
	body = post(http.StatusUnprocessableEntity, `value="gina"`, `class="field-error"`)
	if !strings.Contains(body, "already used") {
		t.Fatalf("no taken error:\n%s", body)
	}
	notCreated()
	form.Set("tomb_go", "back")
	post(http.StatusOK, `data-screen="A"`, `value="none" data-renames="true" required checked`)
	form.Set("tomb_go", "ok")
	form.Set("tomb_username."+string(tomb.ID), "gina.old")
	if code, body := cl.post("/console/users/new?pi=1", "/console/users/new", form); code != http.StatusOK || !strings.Contains(body, `id="user-heading"`) {
		t.Fatalf("final OK: %d\n%s", code, body)
	}
	u, err := s.db.GetUserByUsername(ctx, directory.Scope{}, "gina")
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.db.GetTombstone(ctx, tomb.ID)
	if err != nil || got.Username != "gina.old" || !got.Live() {
		t.Fatalf("tombstone %+v %v", got, err)
	}
	if ev := s.itsmEvents(t, u.ID); len(ev) != 1 || ev[0] != "itsm.tombstone_renamed gina.old/gina@acme.example (was gina/gina@acme.example)" {
		t.Fatalf("events %q", ev)
	}
}

// TestTombstoneChangedMeanwhile: the deleted user is taken over by
// someone else between the choice screen and OK; the OK then writes
// nothing and shows the form again with a notice, and saving again meets
// the new user's name (D3: nothing is changed until a valid choice).
func TestTombstoneChangedMeanwhile(t *testing.T) {
	t.Parallel() // each test has its own database, server and browser tab (issue 17, point 7)
	s := newServer(t)
	ctx := context.Background()
	acme := s.customer(t, "acme")
	tomb := s.tombstone(t, "tina", "tina@acme.example", acme.ID)
	cl := s.signIn(t, "admin", adminPassword)
	form := url.Values{"pi": {"1"}, "username": {"tina"}, "email": {"tina.ops@example.test"}, "first_name": {"T"},
		"last_name": {"N"}, "enabled": {"on"}, "timezone": {"Asia/Tokyo"}}
	if code, body := cl.post("/console/users/new?pi=1", "/console/users/new", form); code != http.StatusConflict {
		t.Fatalf("choice screen: %d\n%s", code, body)
	}
	other, err := s.svc.CreateUserResolving(ctx, sys, directory.User{Username: "tina", Email: "tina@other.example", FirstName: "T",
		LastName: "O", Enabled: true, Timezone: "UTC"},
		[]directory.TombstoneResolution{{Action: directory.TombstoneTakeOver, TombstoneID: tomb.ID}})
	if err != nil {
		t.Fatal(err)
	}
	form.Set("tomb_step", "choose")
	form.Set("tomb_go", "ok")
	form.Set("tomb_take", string(tomb.ID))
	code, body := cl.post("/console/users/new?pi=1", "/console/users/new", form)
	if code != http.StatusConflict {
		t.Fatalf("OK after the take-over elsewhere: %d\n%s", code, body)
	}
	mustContain(t, body, "taken over or renamed meanwhile", `id="user-form"`, `id="f-username" name="username" value="tina"`)
	s.checkTomb(t, tomb.ID, "tina", "tina@other.example", other.ID)
	if n, err := s.db.CountUsers(ctx, directory.Scope{}, store.UserFilter{Email: "tina.ops@example.test"}); err != nil || n != 0 {
		t.Fatalf("the form's user was written: %d %v", n, err)
	}
	form.Del("tomb_step")
	if code, body := cl.post("/console/users/new?pi=1", "/console/users/new", form); code != http.StatusUnprocessableEntity || !strings.Contains(body, `class="field-error"`) {
		t.Fatalf("saving again: %d\n%s", code, body)
	}
}
