package console_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"opsiam/internal/auth"
	"opsiam/internal/console"
	"opsiam/internal/directory"
	"opsiam/internal/manage"
	"opsiam/internal/store"
)

// TestUserActions: platform token shown once and only its hash kept (A6),
// revoke, unlock offered only while locked (A3), password reset audited.
func TestUserActions(t *testing.T) { t.Parallel(); databases(t, testUserActions) }

func testUserActions(t *testing.T, s *server) {
	ctx := context.Background()
	u := s.user(t, "carol")
	cl := s.signIn(t, "admin", adminPassword)
	page := "/console/users/" + string(u.ID)

	code, body := cl.post(page, page+"/token", url.Values{})
	m := regexp.MustCompile(`id="token-text"[^>]*>([^<]+)<`).FindStringSubmatch(body)
	if code != http.StatusOK || m == nil {
		t.Fatalf("issue token: %d\n%s", code, body)
	}
	text := m[1]
	id, err := (auth.PlatformTokens{Store: s.db}).Authenticate(ctx, text)
	if err != nil || id != u.ID {
		t.Fatalf("the shown token does not authenticate carol: %v %v", id, err)
	}
	if _, body := cl.get(page); strings.Contains(body, text) {
		t.Fatal("the token is shown again on the user page")
	}
	if code, _ := cl.post(page, page+"/token/revoke", url.Values{}); code != http.StatusOK {
		t.Fatalf("revoke: %d", code)
	}
	if _, err := (auth.PlatformTokens{Store: s.db}).Authenticate(ctx, text); err == nil {
		t.Fatal("a revoked token still works")
	}

	if _, body := cl.get(page); strings.Contains(body, `id="btn-unlock"`) {
		t.Fatal("Unlock offered for a user who is not locked")
	}
	as, err := auth.New(s.db, auth.Hasher{Params: fastParams}, auth.DefaultPolicy(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		if _, _, err := as.SignIn(ctx, "carol", "wrong password", auth.Source{Address: "192.0.2.1"}); !errors.Is(err, auth.ErrInvalidCredentials) {
			t.Fatalf("wrong password: %v", err)
		}
	}
	_, body = cl.get(page)
	mustContain(t, body, `id="btn-unlock"`, `id="locked"`)
	if code, body := cl.post(page, page+"/unlock", url.Values{}); code != http.StatusOK || strings.Contains(body, `id="btn-unlock"`) {
		t.Fatalf("unlock: %d\n%s", code, body)
	}
	if got, _ := s.db.GetUser(ctx, directory.Scope{}, u.ID); got.Locked {
		t.Fatal("carol is still locked")
	}

	if code, body := cl.post(page, page+"/password-reset", url.Values{}); code != http.StatusOK || !strings.Contains(body, "password reset mail") {
		t.Fatalf("password reset: %d\n%s", code, body)
	}
	recs, err := s.db.ListAudit(ctx, store.AuditQuery{TargetID: string(u.ID), Action: "user.password_reset"})
	if err != nil || len(recs.Items) != 1 || recs.Items[0].ActorName != "admin" {
		t.Fatalf("audit of the reset: %+v %v", recs.Items, err)
	}
}

// TestCustomerChooser: an invalid customer is not offered, but a user in
// it keeps showing it and can be moved to a valid one (C1).
func TestCustomerChooser(t *testing.T) {
	t.Parallel() // each test has its own database, server and browser tab (issue 17, point 7)
	s := newServer(t)
	ctx := context.Background()
	gone, err := s.svc.CreateCustomer(ctx, sys, directory.Customer{Code: "gone", Name: "Gone Ltd"})
	if err != nil {
		t.Fatal(err)
	}
	valid, err := s.svc.CreateCustomer(ctx, sys, directory.Customer{Code: "live", Name: "Live Ltd"})
	if err != nil {
		t.Fatal(err)
	}
	u := s.user(t, "dave")
	if _, err := s.svc.UpdateUser(ctx, sys, directory.Scope{}, u.ID, 0, managePatchCustomer(gone.ID)); err != nil {
		t.Fatal(err)
	}
	cl := s.signIn(t, "admin", adminPassword)
	if code, _ := cl.post("/console/customers", "/console/customers/"+string(gone.ID)+"/invalidate", url.Values{}); code != http.StatusOK {
		t.Fatalf("invalidate: %d", code)
	}
	if c, _ := s.db.GetCustomer(ctx, gone.ID); c.State != directory.CustomerInvalid {
		t.Fatalf("state %s", c.State)
	}
	_, newForm := cl.get("/console/users/new?pi=1")
	if strings.Contains(newForm, "Gone Ltd") || !strings.Contains(newForm, "Live Ltd") {
		t.Fatal("the add form offers the invalid customer or misses the valid one")
	}
	_, edit := cl.get("/console/users/" + string(u.ID) + "/edit")
	if !regexp.MustCompile(`<option value="` + string(gone.ID) + `" selected>gone — Gone Ltd \(Invalid\)`).MatchString(edit) {
		t.Fatalf("the edit form does not keep the user's invalid customer:\n%s", edit)
	}
	form := url.Values{"email": {u.Email}, "first_name": {u.FirstName}, "last_name": {u.LastName}, "enabled": {"on"},
		"customer_id": {string(valid.ID)}, "timezone": {"Asia/Tokyo"}}
	if code, body := cl.post("/console/users/"+string(u.ID)+"/edit", "/console/users/"+string(u.ID)+"/edit", form); code != http.StatusOK {
		t.Fatalf("move: %d\n%s", code, body)
	}
	if got, _ := s.db.GetUser(ctx, directory.Scope{}, u.ID); got.CustomerID != valid.ID {
		t.Fatalf("customer %s, want %s", got.CustomerID, valid.ID)
	}
}

// TestCustomerAdminScope: a customer_admin sees only its own customer's
// users (404 for others) and may disable them, but not delete (403).
func TestCustomerAdminScope(t *testing.T) { t.Parallel(); databases(t, testCustomerAdminScope) }

func testCustomerAdminScope(t *testing.T, s *server) {
	ctx := context.Background()
	acme, err := s.svc.CreateCustomer(ctx, sys, directory.Customer{Code: "acme", Name: "ACME"})
	if err != nil {
		t.Fatal(err)
	}
	mgr := s.user(t, "mgr")
	mate := s.user(t, "mate")
	other := s.user(t, "other")
	for _, id := range []directory.UserID{mgr.ID, mate.ID} {
		if _, err := s.svc.UpdateUser(ctx, sys, directory.Scope{}, id, 0, managePatchCustomer(acme.ID)); err != nil {
			t.Fatal(err)
		}
	}
	r, _ := s.db.GetRoleByName(ctx, directory.RoleNameCustomerManager)
	if err := s.svc.AssignUserRoles(ctx, sys, mgr.ID, []directory.RoleID{r.ID}); err != nil {
		t.Fatal(err)
	}
	cl := s.signIn(t, "mgr", "mgr password 1")
	_, list := cl.get("/console/users")
	if !strings.Contains(list, ">mate<") || strings.Contains(list, ">other<") || strings.Contains(list, ">admin<") {
		t.Fatalf("customer admin sees the wrong users:\n%s", list)
	}
	if code, _ := cl.get("/console/users/" + string(other.ID)); code != http.StatusNotFound {
		t.Fatalf("other customer's user: %d, want 404", code)
	}
	code, body := cl.post("/console/users", "/console/users/bulk", url.Values{"action": {"disable"}, "id": {string(mate.ID), string(other.ID)}})
	if code != http.StatusOK || !strings.Contains(body, "Done for 1 user") {
		t.Fatalf("bulk disable: %d\n%s", code, body)
	}
	if u, _ := s.db.GetUser(ctx, directory.Scope{}, other.ID); !u.Enabled {
		t.Fatal("a customer admin disabled a user of another customer")
	}
	if code, _ := cl.post("/console/users", "/console/users/bulk", url.Values{"action": {"delete"}, "id": {string(mate.ID)}}); code != http.StatusForbidden {
		t.Fatalf("bulk delete by a customer admin: %d, want 403", code)
	}
}

// TestGitMembers shows the rows of the configured GitLab target (P2).
func TestGitMembers(t *testing.T) {
	t.Parallel() // each test has its own database, server and browser tab (issue 17, point 7)
	db := openStore(t)
	var asked []string
	git := func(_ context.Context, group string, names []string) ([]console.GitMember, error) {
		asked = append([]string{group}, names...)
		return []console.GitMember{{Username: "eve", Name: "Eve", Role: "Developer"}, {Username: "zed", Role: "No Access"}}, nil
	}
	h, svc := handler(t, db, git)
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	s := &server{Server: ts, db: db, svc: svc}
	eve := s.user(t, "eve")
	g, err := svc.CreateGroup(context.Background(), sys, directory.Group{Name: "dev"})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.AddMembers(context.Background(), sys, g.ID, []directory.UserID{eve.ID}); err != nil {
		t.Fatal(err)
	}
	cl := s.signIn(t, "admin", adminPassword)
	_, body := cl.get("/console/groups/" + string(g.ID) + "?tab=git")
	mustContain(t, body, `id="git-members"`, "Developer", "No Access")
	if strings.Join(asked, ",") != "dev,eve" {
		t.Fatalf("asked GitLab for %v", asked)
	}
}

// TestJapaneseErrors shows refusals in Japanese with the rule's message.
func TestJapaneseErrors(t *testing.T) {
	t.Parallel() // each test has its own database, server and browser tab (issue 17, point 7)
	s := newServer(t)
	cl := s.signIn(t, "admin", adminPassword)
	_, page := cl.get("/console/groups/new?lang=ja")
	mustContain(t, page, "グループの追加", `lang="ja"`)
	code, body := cl.post("/console/groups/new", "/console/groups/new", url.Values{"name": {""}})
	if code != http.StatusUnprocessableEntity {
		t.Fatalf("status %d", code)
	}
	mustContain(t, body, "入力が必要です", "名前")
}

// TestEditMail: a new mail address clears "mail verified" unless the
// administrator ticks the box; ticking it by hand sets it (U9).
func TestEditMail(t *testing.T) {
	t.Parallel() // each test has its own database, server and browser tab (issue 17, point 7)
	s := newServer(t)
	ctx := context.Background()
	u := s.user(t, "frank")
	v := true
	if _, err := s.svc.UpdateUser(ctx, sys, directory.Scope{}, u.ID, 0, manage.UserPatch{EmailVerified: &v}); err != nil {
		t.Fatal(err)
	}
	cl := s.signIn(t, "admin", adminPassword)
	edit := "/console/users/" + string(u.ID) + "/edit"
	form := func(mail string, verified bool) url.Values {
		f := url.Values{"email": {mail}, "first_name": {"F"}, "last_name": {"L"}, "enabled": {"on"}, "timezone": {"UTC"}}
		if verified {
			f.Set("email_verified", "on")
		}
		return f
	}
	if code, body := cl.post(edit, edit, form("frank2@example.test", true)); code != http.StatusOK {
		t.Fatalf("edit: %d\n%s", code, body)
	}
	got, _ := s.db.GetUser(ctx, directory.Scope{}, u.ID)
	if got.Email != "frank2@example.test" || got.EmailVerified {
		t.Fatalf("after a mail change with the box left ticked: %s verified=%v", got.Email, got.EmailVerified)
	}
	cl.post(edit, edit, form("frank2@example.test", true))
	if got, _ := s.db.GetUser(ctx, directory.Scope{}, u.ID); !got.EmailVerified {
		t.Fatal("ticking mail verified by hand did not set it")
	}
}
