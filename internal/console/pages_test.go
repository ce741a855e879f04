package console_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"opsiam/internal/directory"
	"opsiam/internal/store"
)

// TestPagesRender visits every page as admin: each renders without error,
// and each input has a label.
func TestPagesRender(t *testing.T) { t.Parallel(); databases(t, testPagesRender) }

func testPagesRender(t *testing.T, s *server) {
	ctx := context.Background()
	u := s.user(t, "alice")
	g, err := s.svc.CreateGroup(ctx, sys, directory.Group{Name: "ops"})
	if err != nil {
		t.Fatal(err)
	}
	cu, err := s.svc.CreateCustomer(ctx, sys, directory.Customer{Code: "acme", Name: "ACME"})
	if err != nil {
		t.Fatal(err)
	}
	role, err := s.svc.CreateRole(ctx, sys, directory.Role{Name: "Night shift"})
	if err != nil {
		t.Fatal(err)
	}
	cl := s.signIn(t, "admin", adminPassword)
	paths := []string{"/console/users", "/console/users?view=billed", "/console/users?view=non_billed", "/console/users?q=ali",
		"/console/users/new", "/console/users/new?pi=1", "/console/users/" + string(u.ID),
		"/console/users/" + string(u.ID) + "?tab=roles", "/console/users/" + string(u.ID) + "?tab=effective",
		"/console/users/" + string(u.ID) + "/edit", "/console/groups", "/console/groups/new", "/console/groups/" + string(g.ID),
		"/console/groups/" + string(g.ID) + "?tab=relations", "/console/groups/" + string(g.ID) + "?tab=roles",
		"/console/groups/" + string(g.ID) + "?tab=effective", "/console/groups/" + string(g.ID) + "?tab=git",
		"/console/groups/" + string(g.ID) + "/edit", "/console/roles", "/console/roles?type=custom", "/console/roles/new",
		"/console/roles/" + string(role.ID), "/console/roles/" + string(role.ID) + "?tab=groups",
		"/console/roles/" + string(role.ID) + "?tab=contains", "/console/customers", "/console/customers/new",
		"/console/customers/" + string(cu.ID), "/console/audit", "/console/audit?actor=admin&since=2020-01-01", "/console/apps", "/console/apps/new",
		"/console/outbox", "/console/outbox?state=pending", "/console/outbox?state=done"}
	for _, p := range paths {
		code, body := cl.get(p)
		if code != http.StatusOK {
			t.Fatalf("GET %s: %d\n%s", p, code, body)
		}
		checkLabels(t, p, body)
	}
	if code, _ := cl.get("/console/users/nope"); code != http.StatusNotFound {
		t.Fatalf("unknown user: %d, want 404", code)
	}
}

// checkLabels fails when an input, select or textarea has no <label for>
// (hidden inputs need none).
func checkLabels(t *testing.T, path, body string) {
	t.Helper()
	for _, tag := range []string{"<input ", "<select ", "<textarea "} {
		rest := body
		for {
			i := strings.Index(rest, tag)
			if i < 0 {
				break
			}
			end := strings.Index(rest[i:], ">")
			el := rest[i : i+end]
			rest = rest[i+end:]
			if strings.Contains(el, `type="hidden"`) {
				continue
			}
			j := strings.Index(el, `id="`)
			if j < 0 {
				t.Fatalf("%s: %s has no id, so no label", path, el)
			}
			id := el[j+4:]
			id = id[:strings.Index(id, `"`)]
			if !strings.Contains(body, `for="`+id+`"`) {
				t.Fatalf("%s: %s has no <label for=%q>", path, el, id)
			}
		}
	}
}

// TestSignInRequired sends a browser without a session to /login with the
// page as return path.
func TestSignInRequired(t *testing.T) {
	t.Parallel() // each test has its own database, server and browser tab (issue 17, point 7)
	s := newServer(t)
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(s.URL + "/console/users?q=a")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc != "/login?next="+url.QueryEscape("/console/users?q=a") {
		t.Fatalf("got %d %q", resp.StatusCode, loc)
	}
}

// TestFormToken refuses a post without the session's form token.
func TestFormToken(t *testing.T) {
	t.Parallel() // each test has its own database, server and browser tab (issue 17, point 7)
	s := newServer(t)
	cl := s.signIn(t, "admin", adminPassword)
	code, body := cl.post("", "/console/groups/new", url.Values{"name": {"x"}, "csrf": {"forged"}})
	if code != http.StatusForbidden {
		t.Fatalf("forged token: %d\n%s", code, body)
	}
	if _, err := s.db.GetGroupByName(context.Background(), "x"); err == nil {
		t.Fatal("the group was created with a forged token")
	}
	code, _ = cl.post("/console/groups/new", "/console/groups/new", url.Values{"name": {"x"}})
	if code != http.StatusOK {
		t.Fatalf("valid token: %d", code)
	}
}

// TestPermissions: a user without read permission gets 404 for directory
// pages; a user_viewer reads but gets 403 for changes and sees no buttons.
func TestPermissions(t *testing.T) {
	t.Parallel() // each test has its own database, server and browser tab (issue 17, point 7)
	s := newServer(t)
	s.user(t, "plain")
	s.user(t, "viewer", directory.RoleNameUserViewer)
	plain := s.signIn(t, "plain", "plain password 1")
	for _, p := range []string{"/console/users", "/console/groups", "/console/roles", "/console/customers", "/console/audit"} {
		if code, _ := plain.get(p); code != http.StatusNotFound {
			t.Fatalf("plain user GET %s: %d, want 404", p, code)
		}
	}
	viewer := s.signIn(t, "viewer", "viewer password 1")
	code, body := viewer.get("/console/users")
	if code != http.StatusOK || strings.Contains(body, `id="btn-delete"`) || strings.Contains(body, `id="btn-add"`) {
		t.Fatalf("viewer users page: %d, buttons shown:\n%s", code, body)
	}
	code, _ = viewer.post("/console/users", "/console/groups/new", url.Values{"name": {"x"}})
	if code != http.StatusForbidden {
		t.Fatalf("viewer creating a group: %d, want 403", code)
	}
	if code, _ := viewer.get("/console/audit"); code != http.StatusNotFound {
		t.Fatalf("viewer audit: %d, want 404", code)
	}
}

// TestFieldErrors shows each refusal next to its field and changes nothing.
func TestFieldErrors(t *testing.T) {
	t.Parallel() // each test has its own database, server and browser tab (issue 17, point 7)
	s := newServer(t)
	cl := s.signIn(t, "admin", adminPassword)
	code, body := cl.post("/console/users/new?pi=1", "/console/users/new", url.Values{"pi": {"1"}, "username": {"bad name"},
		"email": {"nope"}, "first_name": {""}, "last_name": {"L"}, "timezone": {"Asia/Tokyo"}})
	if code != http.StatusUnprocessableEntity {
		t.Fatalf("status %d", code)
	}
	for _, f := range []string{"f-username", "f-email", "f-first_name"} {
		i := strings.Index(body, `id="`+f+`"`)
		if i < 0 || !strings.Contains(body[i:i+400], "field-error") {
			t.Fatalf("no error next to %s:\n%s", f, body)
		}
	}
	page, err := s.db.ListUsers(context.Background(), directory.Scope{}, store.UserQuery{UserFilter: store.UserFilter{Q: "bad"}})
	if err != nil || len(page.Items) != 0 {
		t.Fatalf("a refused user was written: %v %v", page.Items, err)
	}
	// A clash of mail addresses (U3) is shown next to the mail field.
	s.user(t, "bob")
	code, body = cl.post("/console/users/new?pi=1", "/console/users/new", url.Values{"pi": {"1"}, "username": {"bob2"},
		"email": {"BOB@example.test"}, "first_name": {"B"}, "last_name": {"L"}, "timezone": {"UTC"}})
	i := strings.Index(body, `id="f-email"`)
	if code != http.StatusUnprocessableEntity || i < 0 || !strings.Contains(body[i:i+300], "already taken") {
		t.Fatalf("mail clash: %d\n%s", code, body)
	}
}
