package console_test

import (
	"context"
	"strings"
	"testing"

	"opsiam/internal/directory"
)

// TestUserDetailSignIns: the user page shows the last sign-in and whether
// the user has signed in to the ITSM app (issue 17, point 14).
func TestUserDetailSignIns(t *testing.T) {
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
