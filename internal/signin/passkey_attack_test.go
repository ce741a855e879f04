package signin_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"opsiam/internal/directory"
	"opsiam/internal/store"
	"opsiam/internal/testenv/softkey"
)

// What an attacker may try against the passkey endpoints: replaying an
// answer, answering another browser's challenge, another origin, a removed
// credential, a disabled user, a cloned authenticator, and cross-site
// requests. Every one is refused, and a refused answer for a known
// credential counts as a failed sign-in of its user.
func TestPasskeyAttacks(t *testing.T) {
	databases(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s, _ := newPasskeyServer(t, openDB(t, dsn))
		alice := s.user(t, "alice", "correct horse 1", false)
		s.user(t, "bob", "correct horse 2", false)
		ab, bb := newBrowser(t, s.URL), newBrowser(t, s.URL)
		ab.signIn("alice", "correct horse 1")
		bb.signIn("bob", "correct horse 2")
		key := softkey.New(s.URL)
		register(t, ab, key, "alice's key", "correct horse 1")
		failures := func(u directory.UserID) int {
			page, _ := s.db.ListAudit(ctx, store.AuditQuery{TargetID: string(u), Action: store.ActionAuthSignInFailed})
			return len(page.Items)
		}
		refused := func(what string, b *browser, answer []byte) {
			t.Helper()
			if st, body := finishLogin(b, answer, ""); st != http.StatusUnauthorized || strings.Contains(body, "redirect") {
				t.Fatalf("%s: %d %s", what, st, body)
			}
		}

		// Replay: the ceremony is used up by the first answer, and a new
		// ceremony has another challenge.
		eve := newBrowser(t, s.URL)
		answer, _ := key.Get(beginLogin(t, eve))
		if st, body := finishLogin(eve, answer, ""); st != http.StatusOK {
			t.Fatalf("first use: %d %s", st, body)
		}
		refused("the same answer again", eve, answer)
		beginLogin(t, eve)
		refused("the answer to a new ceremony", eve, answer)

		// An answer to the challenge of another browser's ceremony.
		victim, thief := newBrowser(t, s.URL), newBrowser(t, s.URL)
		opts := beginLogin(t, victim)
		beginLogin(t, thief)
		answer, _ = key.Get(opts)
		before := failures(alice.ID)
		refused("an answer for another browser's challenge", thief, answer)
		if failures(alice.ID) != before+1 {
			t.Fatal("the refused answer of a known credential did not count for its user")
		}
		// A registration begun by bob cannot be finished by alice.
		st, regOpts := bb.postJSON("/account/passkeys/begin", map[string]string{"name": "x", "current_password": "correct horse 2"})
		if st != http.StatusOK {
			t.Fatal(st)
		}
		created, _ := softkey.New(s.URL).Create(regOpts)
		ab.c.Jar.SetCookies(mustURL(s.URL), []*http.Cookie{{Name: "opsiam_passkey", Value: bb.cookie("opsiam_passkey")}})
		if st, body := ab.postJSON("/account/passkeys/finish", map[string]any{"name": "x", "credential": jsonRaw(created)}); st != http.StatusConflict {
			t.Fatalf("alice finishing bob's registration: %d %s", st, body)
		}

		// Another origin (a phishing site relaying the ceremony).
		phishB := newBrowser(t, s.URL)
		opts = beginLogin(t, phishB)
		key.Origin = "http://localhost.evil.example"
		answer, _ = key.Get(opts)
		key.Origin = s.URL
		refused("another origin", phishB, answer)

		// A cloned authenticator: the counter goes backwards.
		c := key.Credentials()[0]
		saved := c.Count
		c.Count = 0
		clone := newBrowser(t, s.URL)
		answer, _ = key.Get(beginLogin(t, clone))
		refused("a counter that went backwards", clone, answer)
		c.Count = saved + 10

		// A disabled user.
		alice, _ = s.db.GetUser(ctx, directory.Scope{}, alice.ID)
		alice.Enabled = false
		if _, err := s.db.UpdateUser(ctx, alice); err != nil {
			t.Fatal(err)
		}
		off := newBrowser(t, s.URL)
		answer, _ = key.Get(beginLogin(t, off))
		refused("a disabled user", off, answer)
		alice, _ = s.db.GetUser(ctx, directory.Scope{}, alice.ID)
		alice.Enabled = true
		if _, err := s.db.UpdateUser(ctx, alice); err != nil {
			t.Fatal(err)
		}

		// A removed credential.
		ab.signIn("alice", "correct horse 1")
		list, _ := s.db.UserPasskeys(ctx, alice.ID)
		if st, _ := ab.post("/account/passkeys/"+list[0].ID+"/delete", url.Values{}); st != http.StatusOK {
			t.Fatalf("remove: %d", st)
		}
		gone := newBrowser(t, s.URL)
		answer, _ = key.Get(beginLogin(t, gone))
		refused("a removed credential", gone, answer)
		// Bob cannot remove alice's passkeys through his account page.
		register(t, ab, key, "again", "correct horse 1")
		list, _ = s.db.UserPasskeys(ctx, alice.ID)
		if st, _ := bb.post("/account/passkeys/"+list[0].ID+"/delete", url.Values{}); st != http.StatusNotFound {
			t.Fatalf("bob removing alice's passkey: %d", st)
		}

		// Cross-site requests: without the token, from another origin, or
		// as a form.
		cs := newBrowser(t, s.URL)
		cs.get("/login")
		if st, _ := cs.postJSON("/login/passkey/begin", nil, "X-CSRF-Token", ""); st != http.StatusForbidden {
			t.Fatalf("without the token: %d", st)
		}
		if st, _ := cs.postJSON("/login/passkey/begin", nil, "Origin", "http://evil.example", "Sec-Fetch-Site", "cross-site"); st != http.StatusForbidden {
			t.Fatalf("from another site: %d", st)
		}
		if st, _ := cs.postJSON("/login/passkey/begin", nil, "Content-Type", "application/x-www-form-urlencoded"); st != http.StatusUnsupportedMediaType {
			t.Fatalf("as a form: %d", st)
		}
		if st, _ := ab.postJSON("/account/passkeys/begin", map[string]string{"name": "x", "current_password": "correct horse 1"},
			"Origin", "http://evil.example", "Sec-Fetch-Site", "cross-site"); st != http.StatusForbidden {
			t.Fatalf("registration from another site: %d", st)
		}
		req, _ := http.NewRequest("POST", s.URL+"/account/passkeys/"+list[0].ID+"/delete", strings.NewReader(""))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if st, _ := ab.do(req); st != http.StatusForbidden {
			t.Fatalf("removal without the form token: %d", st)
		}
		// Garbage answers are refused, never a 500.
		for _, raw := range []string{`{}`, `{"credential":{}}`, `{"credential":"x"}`, `{"credential":{"id":"AA","rawId":"AA","type":"public-key","response":{}}}`} {
			beginLogin(t, cs)
			if st, body := cs.postJSON("/login/passkey/finish", []byte(raw)); st != http.StatusUnauthorized {
				t.Fatalf("answer %s: %d %s", raw, st, body)
			}
		}
	})
}

// Failed passkey answers count towards the lockout like wrong passwords,
// and a locked user cannot sign in with a passkey either.
func TestPasskeyLockout(t *testing.T) {
	s, _ := newPasskeyServer(t, openDB(t, sqliteDSN(t)))
	s.user(t, "carol", "correct horse 3", false)
	b := newBrowser(t, s.URL)
	b.signIn("carol", "correct horse 3")
	key := softkey.New(s.URL)
	register(t, b, key, "key", "correct horse 3")
	for i := 0; i < 5; i++ {
		x := newBrowser(t, s.URL)
		opts := beginLogin(t, x)
		key.Origin = "http://evil.example"
		answer, _ := key.Get(opts)
		key.Origin = s.URL
		if st, _ := finishLogin(x, answer, ""); st != http.StatusUnauthorized {
			t.Fatalf("bad answer %d: %d", i, st)
		}
	}
	x := newBrowser(t, s.URL)
	answer, _ := key.Get(beginLogin(t, x))
	if st, body := finishLogin(x, answer, ""); st != http.StatusUnauthorized {
		t.Fatalf("a locked user signed in with a passkey: %d %s", st, body)
	}
}

func mustURL(s string) *url.URL {
	u, _ := url.Parse(s)
	return u
}
