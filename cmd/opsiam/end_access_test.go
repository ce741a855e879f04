package main

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"opsiam/internal/oidc/oidctest"
)

// TestWhatEndsAccessEndsItForGood is rule 3 of issue 13 through `opsiam
// serve`: disabling a user ends its sessions, platform token and
// application tokens, and re-enabling it revives none of them; a password
// set with `opsiam user set-password` ends its sessions and application
// tokens too.
func TestWhatEndsAccessEndsItForGood(t *testing.T) {
	t.Parallel() // its own data directory and server (issue 17, point 7)
	dir := filepath.Join(t.TempDir(), "data")
	runWithEnv(t, map[string]string{"OPSIAM_ADMIN_PASSWORD": "a long admin secret"}, "migrate", "--data-dir", dir)
	secret := addClient(t, dir, "app")
	admin := strings.TrimSpace(runCLI(t, dir, "", "", "token", "issue", "admin"))
	base, _ := startServer(t, nil, "--data-dir", dir)
	code, u := do(t, "POST", base+"/api/v1/users", admin, `{"username":"yuki","email":"yuki@example.test","first_name":"Yuki","last_name":"Ito"}`)
	if code != http.StatusCreated {
		t.Fatalf("create: %d %v", code, u)
	}
	id := u["id"].(string)
	const pw = "yuki-lantern-5821"
	setPasswordFromMail(t, base, pw)

	signedIn := func(b *http.Client) bool {
		t.Helper()
		resp, err := b.Get(base + "/account")
		if err != nil {
			t.Fatal(err)
		}
		body := oidctest.ReadBody(t, resp)
		return strings.Contains(body, `id="account-username">yuki<`)
	}
	signIn := func() *http.Client {
		t.Helper()
		jar, _ := cookiejar.New(nil)
		b := &http.Client{Jar: jar, Timeout: 30 * time.Second}
		resp, err := b.Get(base + "/login")
		if err != nil {
			t.Fatal(err)
		}
		page := oidctest.ReadBody(t, resp)
		oidctest.ReadBody(t, oidctest.SubmitLogin(t, b, resp.Request.URL, page, "yuki", pw))
		if !signedIn(b) {
			t.Fatal("yuki did not sign in")
		}
		return b
	}
	rp := oidctest.NewRP(t, base, "app", secret)
	appTokens := func() string {
		t.Helper()
		res := rp.Authorize(t, oidctest.Browser(t), "yuki", pw, "verifier-0123456789012345678901234567890123", "n")
		tok, _, _ := rp.Exchange(t, res.Code, "verifier-0123456789012345678901234567890123")
		return tok.RefreshToken
	}

	b := signIn()
	refresh := appTokens()
	_, issued := do(t, "POST", base+"/api/v1/users/"+url.PathEscape(id)+"/token", admin, "")
	tok, _ := issued["token"].(string)
	if code, _ := do(t, "GET", base+"/api/v1/users/"+id, tok, ""); code != http.StatusOK {
		t.Fatalf("yuki's platform token: %d", code)
	}
	for _, enabled := range []string{"false", "true"} {
		if code, r := do(t, "PATCH", base+"/api/v1/users/"+id, admin, `{"enabled":`+enabled+`}`); code != http.StatusOK {
			t.Fatalf("enabled=%s: %d %v", enabled, code, r)
		}
	}
	if signedIn(b) {
		t.Fatal("the old session came back when the user was enabled again")
	}
	if code, _ := do(t, "GET", base+"/api/v1/users/"+id, tok, ""); code != http.StatusUnauthorized {
		t.Fatalf("the old platform token came back: %d", code)
	}
	if _, err := rp.Refresh(refresh); err == nil {
		t.Fatal("the application's refresh token came back")
	}

	// A password set on the command line ends the sessions and the
	// application tokens.
	b = signIn()
	refresh = appTokens()
	runCLI(t, dir, "a brand new passphrase\n", "", "user", "set-password", "yuki")
	if signedIn(b) {
		t.Fatal("a session survived opsiam user set-password")
	}
	if _, err := rp.Refresh(refresh); err == nil {
		t.Fatal("an application's refresh token survived opsiam user set-password")
	}
}
