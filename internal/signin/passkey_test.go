package signin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"opsiam/internal/auth"
	"opsiam/internal/directory"
	"opsiam/internal/mail"
	"opsiam/internal/signin"
	"opsiam/internal/store"
	"opsiam/internal/store/sqlstore"
	"opsiam/internal/testenv/softkey"
)

// newPasskeyServer serves the pages with passkeys on http://localhost:PORT
// (WebAuthn takes no IP address as RP ID).
func newPasskeyServer(t *testing.T, db *sqlstore.DB) (*server, *auth.Passkeys) {
	t.Helper()
	svc, err := auth.New(db, auth.Hasher{Params: fastParams}, auth.DefaultPolicy(), nil)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(ts.URL, "http://"))
	ts.URL = "http://localhost:" + port
	pk, err := auth.NewPasskeys(svc, ts.URL, "opsiam")
	if err != nil {
		t.Fatal(err)
	}
	h, err := signin.New(signin.Config{Auth: svc, DevMail: &mail.DevMailbox{}, LoginPerMinute: 1000, Passkeys: pk})
	if err != nil {
		t.Fatal(err)
	}
	h.Mount(mux)
	mux.HandleFunc("GET /api/whoami", func(w http.ResponseWriter, r *http.Request) {
		id, ok, err := h.SessionUser(r)
		if err != nil || !ok {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Write([]byte(id))
	})
	return &server{Server: ts, db: db, auth: svc}, pk
}

// postJSON sends body (a value, or raw bytes) with the form token header.
func (b *browser) postJSON(path string, body any, hdr ...string) (int, []byte) {
	b.t.Helper()
	raw, ok := body.([]byte)
	if !ok {
		raw, _ = json.Marshal(body)
	}
	req, _ := http.NewRequest("POST", b.base+path, bytes.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", b.cookie("opsiam_csrf"))
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	buf.ReadFrom(resp.Body)
	return resp.StatusCode, buf.Bytes()
}

// register registers a passkey named name for the signed-in browser b.
func register(t *testing.T, b *browser, key *softkey.Authenticator, name, pw string) {
	t.Helper()
	st, opts := b.postJSON("/account/passkeys/begin", map[string]string{"name": name, "current_password": pw})
	if st != http.StatusOK {
		t.Fatalf("begin registration: %d %s", st, opts)
	}
	answer, err := key.Create(opts)
	if err != nil {
		t.Fatal(err)
	}
	st, body := b.postJSON("/account/passkeys/finish", map[string]any{"name": name, "credential": json.RawMessage(answer)})
	if st != http.StatusCreated || !strings.Contains(string(body), "/account?done=passkey") {
		t.Fatalf("finish registration: %d %s", st, body)
	}
}

// beginLogin starts a passkey sign-in in b and returns the options.
func beginLogin(t *testing.T, b *browser) []byte {
	t.Helper()
	if b.cookie("opsiam_csrf") == "" {
		b.get("/login")
	}
	st, opts := b.postJSON("/login/passkey/begin", nil)
	if st != http.StatusOK {
		t.Fatalf("begin sign-in: %d %s", st, opts)
	}
	return opts
}

func finishLogin(b *browser, answer []byte, next string) (int, string) {
	st, body := b.postJSON("/login/passkey/finish", map[string]any{"credential": json.RawMessage(answer), "next": next})
	return st, string(body)
}

// A user registers passkeys on /account (with its password) and signs in
// with one without a name: a full session, also for a user who must use
// one-time codes, and the target is kept.
func TestPasskeyRegisterAndSignIn(t *testing.T) {
	databases(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s, _ := newPasskeyServer(t, openDB(t, dsn))
		u := s.user(t, "hanako", "correct horse 1", false)
		b := newBrowser(t, s.URL)
		if st, _ := b.signIn("hanako", "correct horse 1"); st != http.StatusOK {
			t.Fatalf("password sign-in: %d", st)
		}
		_, page := b.get("/account")
		mustContain(t, page, `id="passkey-form"`, `id="passkey_current_password"`, "/auth/static/passkey.js")

		// The password is asked for, the name checked, before the authenticator.
		for _, tc := range []struct {
			body  map[string]string
			field string
		}{
			{map[string]string{"name": "Laptop"}, "current_password"},
			{map[string]string{"name": "Laptop", "current_password": "wrong one!"}, "current_password"},
			{map[string]string{"name": "", "current_password": "correct horse 1"}, "name"},
			{map[string]string{"name": strings.Repeat("x", 65), "current_password": "correct horse 1"}, "name"},
			{map[string]string{"name": "a\x00b", "current_password": "correct horse 1"}, "name"},
		} {
			st, body := b.postJSON("/account/passkeys/begin", tc.body)
			if st != http.StatusUnprocessableEntity || !strings.Contains(string(body), `"field":"`+tc.field+`"`) {
				t.Fatalf("begin %v: %d %s", tc.body, st, body)
			}
		}
		// Clear the account page's counter of wrong current passwords.
		if err := s.db.ClearAccountPasswordFailures(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
		for _, raw := range [][]byte{[]byte("{\"name\":\"a\xffb\"}"), []byte(`{"name":`), []byte(`{"nam":"x"}`)} {
			if st, body := b.postJSON("/account/passkeys/begin", raw); st != http.StatusBadRequest {
				t.Fatalf("begin with %q: %d %s", raw, st, body)
			}
		}
		if st, _ := b.postJSON("/account/passkeys/begin", bytes.Repeat([]byte(" "), 70<<10)); st != http.StatusRequestEntityTooLarge {
			t.Fatalf("a large body: %d", st)
		}

		key := softkey.New(s.URL)
		register(t, b, key, "ノートPC", "correct horse 1")
		register(t, b, key, "Phone", "correct horse 1")
		_, page = b.get("/account?done=passkey")
		mustContain(t, page, "ノートPC", "Phone", "The passkey is registered.")
		list, _ := s.db.UserPasskeys(ctx, u.ID)
		if len(list) != 2 || !list[0].UserVerified || list[0].Transports[0] != "internal" {
			t.Fatalf("stored passkeys %+v", list)
		}
		audit, _ := s.db.ListAudit(ctx, store.AuditQuery{TargetID: string(u.ID), Action: store.ActionAuthPasskeyRegister})
		if len(audit.Items) != 2 {
			t.Fatalf("audit of registrations: %+v", audit.Items)
		}

		// The user must now use one-time codes: the passkey is enough.
		u, _ = s.db.GetUser(ctx, directory.Scope{}, u.ID)
		u.OTPRequired = true
		if _, err := s.db.UpdateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		other := newBrowser(t, s.URL)
		opts := beginLogin(t, other)
		answer, err := key.Get(opts)
		if err != nil {
			t.Fatal(err)
		}
		st, body := finishLogin(other, answer, "/oidc/continue?id=abc")
		if st != http.StatusOK || !strings.Contains(body, `"redirect":"/oidc/continue?id=abc"`) {
			t.Fatalf("passkey sign-in: %d %s", st, body)
		}
		if st, id := other.get("/api/whoami"); st != http.StatusOK || id != string(u.ID) {
			t.Fatalf("session after passkey sign-in: %d %s", st, id)
		}
		sess, err := s.auth.Session(ctx, other.cookie("opsiam_session"))
		if err != nil || !sess.MFA || sess.Method != store.MethodPasskey {
			t.Fatalf("session %+v %v", sess, err)
		}
		list, _ = s.db.UserPasskeys(ctx, u.ID)
		if list[1].SignCount != 1 || list[1].LastUsedAt.IsZero() {
			t.Fatalf("use not recorded: %+v", list[1])
		}
		// A target elsewhere is not followed.
		answer, _ = key.Get(beginLogin(t, other))
		if st, body := finishLogin(other, answer, "//evil.example/"); st != http.StatusOK || strings.Contains(body, "evil") {
			t.Fatalf("foreign target: %d %s", st, body)
		}

		// Removing one on /account.
		st, page = b.post("/account/passkeys/"+list[0].ID+"/delete", url.Values{})
		if st != http.StatusOK || !strings.Contains(page, "The passkey was removed.") || strings.Contains(page, "ノートPC") {
			t.Fatalf("remove: %d", st)
		}
		if st, _ := b.post("/account/passkeys/"+list[0].ID+"/delete", url.Values{}); st != http.StatusNotFound {
			t.Fatalf("second removal: %d", st)
		}
	})
}

func jsonRaw(b []byte) json.RawMessage { return json.RawMessage(b) }
