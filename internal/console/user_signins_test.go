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
