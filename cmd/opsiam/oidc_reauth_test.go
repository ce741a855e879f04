package main

import (
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"opsiam/internal/oidc/oidctest"
)

// TestOIDCPromptLoginThroughSignInPage: against `opsiam serve` and its
// real sign-in page, prompt=login and an exceeded max_age make a
// signed-in browser enter the password again, which moves auth_time;
// prompt=none without a session answers login_required (OIDC Core §3.1.2.1).
func TestOIDCPromptLoginThroughSignInPage(t *testing.T) {
	t.Parallel() // its own data directory and server (issue 17, point 7)
	dir := filepath.Join(t.TempDir(), "data")
	const pw = "a long admin secret"
	runWithEnv(t, map[string]string{"OPSIAM_ADMIN_PASSWORD": pw}, "migrate", "--data-dir", dir)
	secret := addClient(t, dir, "app1")
	base, _ := startServer(t, nil, "--data-dir", dir)
	rp := oidctest.NewRP(t, base, "app1", secret)
	b := oidctest.Browser(t)
	n := 0
	run := func(br *http.Client, params ...string) (oidctest.Result, int64, string) {
		t.Helper()
		n++
		verifier := "verifier-" + string(rune('a'+n)) + "-0123456789012345678901234567890123"
		opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("nonce", "nonce")}
		for i := 0; i+1 < len(params); i += 2 {
			opts = append(opts, oauth2.SetAuthURLParam(params[i], params[i+1]))
		}
		_, res := oidctest.Browse(t, br, rp.Config.AuthCodeURL(oidctest.State, opts...), "admin", pw)
		if res.Code == "" {
			return res, 0, ""
		}
		_, idt, c := rp.Exchange(t, res.Code, verifier)
		var at struct {
			AuthTime int64 `json:"auth_time"`
		}
		if err := idt.Claims(&at); err != nil || at.AuthTime == 0 {
			t.Fatalf("auth_time: %v", err)
		}
		return res, at.AuthTime, c.SID
	}

	res, a1, sid1 := run(b)
	if !res.Prompted || a1 == 0 {
		t.Fatalf("first sign-in: %+v", res)
	}
	time.Sleep(1100 * time.Millisecond) // auth_time has whole seconds
	if res, a, _ := run(b); res.Prompted || a != a1 {
		t.Fatalf("SSO: prompted %v, auth_time %d, want %d", res.Prompted, a, a1)
	}
	res, a2, sid2 := run(b, "prompt", "login")
	if !res.Prompted || a2 <= a1 || sid2 == sid1 {
		t.Fatalf("prompt=login: prompted %v, auth_time %d after %d, new sid %v", res.Prompted, a2, a1, sid2 != sid1)
	}
	time.Sleep(2100 * time.Millisecond)
	if res, a, _ := run(b, "max_age", "3600"); res.Prompted || a != a2 {
		t.Fatalf("max_age 3600: prompted %v, auth_time %d, want %d", res.Prompted, a, a2)
	}
	if res, a, _ := run(b, "max_age", "1"); !res.Prompted || a <= a2 {
		t.Fatalf("max_age 1: prompted %v, auth_time %d after %d", res.Prompted, a, a2)
	}
	if res, _, _ := run(oidctest.Browser(t), "prompt", "none"); res.Error != "login_required" || res.Prompted {
		t.Fatalf("prompt=none without a session: %+v", res)
	}
}
