package main

import (
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"opsiam/internal/oidc/oidctest"
)

// TestAdminCannotBeLostOnTheAccountPage is rule 2 of issue 13 through
// `opsiam serve`: two wrong current passwords on admin's own account page
// lock admin for the lockout period instead of disabling it, and
// `opsiam user set-password admin` with `opsiam user unlock admin` always
// bring it back.
func TestAdminCannotBeLostOnTheAccountPage(t *testing.T) {
	t.Parallel() // its own data directory and server (issue 17, point 7)
	dir := filepath.Join(t.TempDir(), "data")
	const pw = "a long admin secret"
	runWithEnv(t, map[string]string{"OPSIAM_ADMIN_PASSWORD": pw}, "migrate", "--data-dir", dir)
	tok := strings.TrimSpace(runCLI(t, dir, "", "", "token", "issue", "admin"))
	base, _ := startServer(t, nil, "--data-dir", dir)

	b := oidctest.Browser(t)
	resp, err := b.Get(base + "/login")
	if err != nil {
		t.Fatal(err)
	}
	page := oidctest.ReadBody(t, resp)
	resp = oidctest.SubmitLogin(t, b, resp.Request.URL, page, "admin", pw)
	if body := oidctest.ReadBody(t, resp); !adminInConsole(body) {
		t.Fatalf("admin did not sign in:\n%s", body)
	}
	var last string
	for range 2 {
		resp, err := b.Get(base + "/account")
		if err != nil {
			t.Fatal(err)
		}
		page := oidctest.ReadBody(t, resp)
		resp = oidctest.SubmitForm(t, b, resp.Request.URL, page, "password-form", url.Values{"current_password": {"wrong password 1"},
			"password": {"a new admin secret"}, "confirm": {"a new admin secret"}})
		last = oidctest.ReadBody(t, resp)
	}
	if !strings.Contains(last, "locked") {
		t.Fatalf("after two wrong current passwords:\n%s", last)
	}
	_, users := do(t, "GET", base+"/api/v1/users?q=admin", tok, "")
	admin := users["items"].([]any)[0].(map[string]any)
	if admin["enabled"] != true || admin["locked"] != true {
		t.Fatalf("admin after two wrong current passwords: %v", admin)
	}
	if code, body := signInOnce(t, base, "admin", pw); code == http.StatusOK && strings.Contains(body, "account-username") {
		t.Fatal("a locked admin signed in")
	}
	runCLI(t, dir, "a recovered admin secret\n", "", "user", "set-password", "admin")
	runCLI(t, dir, "", "", "user", "unlock", "admin")
	if code, body := signInOnce(t, base, "admin", "a recovered admin secret"); code != http.StatusOK || !adminInConsole(body) {
		t.Fatalf("admin after set-password and unlock: %d", code)
	}
}
