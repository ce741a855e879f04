package signin_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"opsiam/internal/auth"
	"opsiam/internal/directory"
)

// TestLockoutAcrossServers is acceptance 3 of issue 4: the Nth failure
// locks; the right password is then refused with the same answer as a
// wrong one; the admin unlocks. Two servers with their own database
// handles share one database, and the failures alternate between them, so
// the count lives in the database and nowhere else.
func TestLockoutAcrossServers(t *testing.T) {
	databases(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		one := newServer(t, openDB(t, dsn))
		two := newServer(t, openDB(t, dsn))
		u := one.user(t, "lockme", pw, false)
		servers := []*server{one, two}
		var wrongBody string
		for i := 0; i < 5; i++ {
			b := newBrowser(t, servers[i%2].URL)
			code, body := b.signIn("lockme", "wrong password!")
			if code != http.StatusUnauthorized {
				t.Fatalf("failure %d = %d", i+1, code)
			}
			wrongBody = strings.ReplaceAll(body, b.cookie("opsiam_csrf"), "")
		}
		got, _ := two.db.GetUser(ctx, directory.Scope{}, u.ID)
		if !got.Locked {
			t.Fatal("not locked after 5 failures on two servers")
		}
		for _, s := range servers {
			b := newBrowser(t, s.URL)
			code, body := b.signIn("lockme", pw)
			if code != http.StatusUnauthorized || strings.ReplaceAll(body, b.cookie("opsiam_csrf"), "") != wrongBody {
				t.Fatalf("right password while locked = %d, answer differs from a wrong password's:\n%s", code, body)
			}
		}
		if err := one.auth.Unlock(ctx, u.ID, auth.Source{ActorName: "admin"}); err != nil {
			t.Fatal(err)
		}
		b := newBrowser(t, two.URL)
		if _, body := b.signIn("lockme", pw); !strings.Contains(body, `id="account-username">lockme<`) {
			t.Fatalf("sign-in after unlock failed:\n%s", body)
		}
	})
}

// TestParallelFailuresLock fires more wrong passwords at once than the
// limit at two servers; the account must end locked, and a lock must not
// need more than five failures.
func TestParallelFailuresLock(t *testing.T) {
	databases(t, func(t *testing.T, dsn string) {
		one := newServer(t, openDB(t, dsn))
		two := newServer(t, openDB(t, dsn))
		u := one.user(t, "racer", pw, false)
		done := make(chan struct{})
		for i := 0; i < 12; i++ {
			go func() {
				defer func() { done <- struct{}{} }()
				s := []*server{one, two}[i%2]
				newBrowser(t, s.URL).signIn("racer", "wrong password!")
			}()
		}
		for i := 0; i < 12; i++ {
			<-done
		}
		got, _ := one.db.GetUser(context.Background(), directory.Scope{}, u.ID)
		if !got.Locked {
			t.Fatal("12 parallel failures did not lock")
		}
		page, _ := one.db.ListAudit(context.Background(), storeAuditLock(u.ID))
		if len(page.Items) != 1 {
			t.Fatalf("%d lock records, want exactly 1", len(page.Items))
		}
	})
}
