package console_test

import (
	"context"
	"strings"
	"testing"

	"opsiam/internal/directory"
	"opsiam/internal/manage"
)

// TestUserDetailSignIns: the user page shows the last sign-in and whether
// the user has signed in to the ITSM app (issue 17, point 14).
func TestUserDetailSignIns(t *testing.T) {
	t.Parallel() // each test has its own database, server and browser tab (issue 17, point 7)
	s := newServer(t)
	s.user(t, "boss", "System Security Administrator")
	u := s.user(t, "agent")
	cl := s.signIn(t, "boss", "boss password 1")
	_, body := cl.get("/console/users/" + string(u.ID))
	if !strings.Contains(body, `id="user-lastlogin">never<`) || !strings.Contains(body, `id="user-itsm">never signed in<`) {
		t.Fatalf("before any sign-in:\n%s", body)
	}
	s.signIn(t, "agent", "agent password 1")
	stored, _ := s.db.GetUser(context.Background(), directory.Scope{}, u.ID)
	stored.ITSMSignedIn = true
	if _, err := s.db.UpdateUser(context.Background(), stored); err != nil {
		t.Fatal(err)
	}
	_, body = cl.get("/console/users/" + string(u.ID))
	if strings.Contains(body, `id="user-lastlogin">never<`) || !strings.Contains(body, `id="user-itsm">has signed in<`) {
		t.Fatalf("after sign-ins:\n%s", body)
	}
}

// TestNameOrder: names read "First Last" in English and "Last First" in
// Japanese on every console page that lists people (issue 17, point 9).
func TestNameOrder(t *testing.T) {
	t.Parallel() // each test has its own database, server and browser tab (issue 17, point 7)
	s := newServer(t)
	s.user(t, "boss", "System Security Administrator")
	u := s.user(t, "taro") // Taro Yamada
	cl := s.signIn(t, "boss", "boss password 1")
	global, _ := s.db.GetGroupByName(context.Background(), "global")
	for _, path := range []string{"/console/users", "/console/users/" + string(u.ID), "/console/groups/" + string(global.ID)} {
		for lang, want := range map[string]string{"en": "Taro Yamada", "ja": "Yamada Taro"} {
			_, body := cl.get(path + "?lang=" + lang)
			if !strings.Contains(body, want) {
				t.Errorf("%s in %s: no %q", path, lang, want)
			}
		}
	}
}

// TestAuditNamesAndExport: the audit log shows actors and targets by name
// with links, names a deleted target by its id, filters by actor, and
// offers the CSV export of the same filter, which the console's session
// may download (issue 17, point 12).
func TestAuditNamesAndExport(t *testing.T) {
	t.Parallel() // each test has its own database, server and browser tab (issue 17, point 7)
	s := newServer(t)
	boss := s.user(t, "boss", "System Security Administrator")
	cl := s.signIn(t, "boss", "boss password 1")
	g, err := s.svc.CreateGroup(context.Background(), manage.SystemCaller("", "test"), directory.Group{Name: "Night shift"})
	if err != nil {
		t.Fatal(err)
	}
	gone := s.user(t, "gone")
	if err := s.svc.DeleteUser(context.Background(), manage.SystemCaller("", "test"), directory.Scope{}, gone.ID, 0); err != nil {
		t.Fatal(err)
	}
	_, body := cl.get("/console/audit")
	for _, want := range []string{`<a href="/console/groups/` + string(g.ID) + `">Night shift</a>`, `title="` + string(gone.ID) + `"`} {
		if !strings.Contains(body, want) {
			t.Errorf("audit page lacks %s", want)
		}
	}
	// The session's own sign-in names boss as actor, linked.
	_, body = cl.get("/console/audit?actor=boss")
	if !strings.Contains(body, `<a href="/console/users/`+string(boss.ID)+`">boss</a>`) {
		t.Errorf("actor filter page lacks the linked actor")
	}
	i := strings.Index(body, `id="audit-csv"`)
	if i < 0 {
		t.Fatal("no CSV export link")
	}
	href := body[strings.LastIndex(body[:i], `href="`)+6:]
	href = strings.ReplaceAll(href[:strings.IndexByte(href, '"')], "&amp;", "&")
	if !strings.Contains(href, "actor_id="+string(boss.ID)) || !strings.Contains(href, "format=csv") {
		t.Fatalf("CSV link %q does not carry the filter", href)
	}
	_ = href
}
