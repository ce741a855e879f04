package oidc

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"opsiam/internal/oidc/oidctest"
)

// authURL is an authorization request of rp with PKCE for verifier and
// the extra parameters (prompt, max_age) given as name, value pairs.
func authURL(rp *oidctest.RP, verifier string, params ...string) string {
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("nonce", "n-"+verifier[:4])}
	for i := 0; i+1 < len(params); i += 2 {
		opts = append(opts, oauth2.SetAuthURLParam(params[i], params[i+1]))
	}
	return rp.Config.AuthCodeURL(oidctest.State, opts...)
}

// TestPromptLoginAndMaxAge: prompt=login and max_age (OIDC Core
// §3.1.2.1) make a signed-in browser enter the password again, the new
// sign-in moves auth_time, and prompt=none answers login_required when a
// sign-in would be needed.
func TestPromptLoginAndMaxAge(t *testing.T) {
	e := newEnv(t)
	e.user("alice", "", "itsm_user")
	_, secret := e.client("app1", false)
	rp := oidctest.NewRP(t, e.issuer, "app1", secret)
	b := oidctest.Browser(t)
	n := 0
	// run authorizes with params and returns auth_time, sid and whether the
	// password was asked for.
	run := func(params ...string) (time.Time, string, bool) {
		t.Helper()
		n++
		verifier := fmt.Sprintf("verifier-%03d-0123456789012345678901234567890123", n)
		_, res := oidctest.Browse(t, b, authURL(rp, verifier, params...), "alice", "password of alice")
		if res.Code == "" {
			t.Fatalf("%v: no code: %+v", params, res)
		}
		_, idt, c := rp.Exchange(t, res.Code, verifier)
		var at struct {
			AuthTime int64 `json:"auth_time"`
		}
		if err := idt.Claims(&at); err != nil || at.AuthTime == 0 {
			t.Fatalf("auth_time: %v", err)
		}
		return time.Unix(at.AuthTime, 0).UTC(), c.SID, res.Prompted
	}

	first := e.clock.Now()
	at, sid, prompted := run()
	if !prompted || !at.Equal(first) {
		t.Fatalf("first sign-in: prompted %v, auth_time %v, want %v", prompted, at, first)
	}
	// Ten minutes later: a max_age the session is within needs no password.
	e.clock.Add(10 * time.Minute)
	if at2, sid2, prompted := run("max_age", "3600"); prompted || !at2.Equal(first) || sid2 != sid {
		t.Fatalf("max_age 3600: prompted %v, auth_time %v, sid changed %v", prompted, at2, sid2 != sid)
	}
	// A max_age the session is older than asks for the password again, and
	// the new sign-in is the new auth_time (and a new session, so a new sid).
	reauths := e.reauths.Load()
	second := e.clock.Now()
	at, sid2, prompted := run("max_age", "300")
	if !prompted || !at.Equal(second) || sid2 == sid || e.reauths.Load() != reauths+1 {
		t.Fatalf("max_age 300: prompted %v, auth_time %v (want %v), new sid %v, reauth pages %d",
			prompted, at, second, sid2 != sid, e.reauths.Load()-reauths)
	}
	// prompt=login asks even for a session one second old.
	e.clock.Add(time.Second)
	third := e.clock.Now()
	if at, _, prompted := run("prompt", "login"); !prompted || !at.Equal(third) || e.reauths.Load() != reauths+2 {
		t.Fatalf("prompt=login: prompted %v, auth_time %v (want %v)", prompted, at, third)
	}
	// The sign-in page's replica has a clock 30 seconds behind: the new
	// sign-in seems older than the request, yet it is the one the request
	// asked for (a new session), so the browser is not sent round again.
	e.loginSkew = -30 * time.Second
	e.clock.Add(time.Minute)
	if at, _, prompted := run("prompt", "login"); !prompted || !at.Equal(e.clock.Now().Add(e.loginSkew)) || e.reauths.Load() != reauths+3 {
		t.Fatalf("prompt=login with skewed clocks: prompted %v, auth_time %v, reauth pages %d", prompted, at, e.reauths.Load()-reauths)
	}
	e.loginSkew = 0
	third = e.clock.Now().Add(-30 * time.Second)
	// Without either, the session signs in again without a password (SSO),
	// with the last sign-in's auth_time.
	e.clock.Add(time.Minute)
	if at, _, prompted := run(); prompted || !at.Equal(third) {
		t.Fatalf("plain request: prompted %v, auth_time %v", prompted, at)
	}

	// prompt=none: login_required for a session older than max_age, and
	// for a browser without a session; no sign-in page is shown.
	logins := e.logins.Load()
	for _, tc := range []struct {
		name   string
		fresh  bool
		params []string
	}{
		{"session older than max_age", false, []string{"prompt", "none", "max_age", "10"}},
		{"no session", true, []string{"prompt", "none"}},
	} {
		br := b
		if tc.fresh {
			br = oidctest.Browser(t)
		}
		loc, res := oidctest.Browse(t, br, authURL(rp, "verifier-none-0123456789012345678901234567890", tc.params...), "alice", "password of alice")
		if loc == nil || res.Error != "login_required" || res.Code != "" || loc.Query().Get("state") != oidctest.State {
			t.Errorf("%s: %v %+v", tc.name, loc, res)
		}
	}
	if e.logins.Load() != logins {
		t.Fatalf("prompt=none showed the sign-in page")
	}

	// A browser sent to sign in again cannot skip it by going straight
	// back to the provider with its old session: it is sent again.
	resp, err := b.Get(authURL(rp, "verifier-skip-0123456789012345678901234567890", "prompt", "login"))
	if err != nil {
		t.Fatal(err)
	}
	oidctest.ReadBody(t, resp)
	ret := resp.Request.URL.Query().Get("return")
	if resp.Request.URL.Path != "/login" || resp.Request.URL.Query().Get("reauth") != "1" || !strings.HasPrefix(ret, ContinuePath) {
		t.Fatalf("prompt=login went to %s", resp.Request.URL)
	}
	e.clock.Add(time.Minute)
	back, err := url.Parse(e.issuer + ret)
	if err != nil {
		t.Fatal(err)
	}
	resp, err = b.Get(back.String())
	if err != nil {
		t.Fatal(err)
	}
	oidctest.ReadBody(t, resp)
	if resp.Request.URL.Path != "/login" || resp.Request.URL.Query().Get("reauth") != "1" {
		t.Fatalf("skipping the sign-in reached %s (status %d)", resp.Request.URL, resp.StatusCode)
	}
}
