package oidc

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"opsiam/internal/directory"
	"opsiam/internal/oidc/oidctest"
	"opsiam/internal/store/sqlstore"
)

// The tests of issue 12's protocol defects, each attempted as a relying
// party or an attacker would, against the provider over HTTP.

const verifier = "verifier-0123456789012345678901234567890123"

// rawClaims decodes a JWT's payload without verifying it (the RP helpers
// verify; these tests look at claims the helpers' struct lacks).
func rawClaims(t *testing.T, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", jwt)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// signIn runs the code flow for user at rp in browser b and returns the tokens.
func signIn(t *testing.T, rp *oidctest.RP, b *http.Client, user string) *oauth2.Token {
	t.Helper()
	res := rp.Authorize(t, b, user, "password of "+user, verifier, "n")
	if res.Code == "" {
		t.Fatalf("sign-in of %s: %+v", user, res)
	}
	tok, _, _ := rp.Exchange(t, res.Code, verifier)
	return tok
}

func idTokenOf(t *testing.T, tok *oauth2.Token) string {
	t.Helper()
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		t.Fatal("no id_token")
	}
	return raw
}

// userinfoRaw calls userinfo with an access token and returns status,
// WWW-Authenticate and the JSON body.
func userinfoRaw(t *testing.T, issuer, access string) (int, string, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, issuer+"/userinfo", nil)
	if access != "" {
		req.Header.Set("Authorization", "Bearer "+access)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, resp.Header.Get("WWW-Authenticate"), m
}

// Defect 2: email_verified is sent when false, in the ID token, userinfo
// and introspection.
func TestEmailVerifiedFalseIsSent(t *testing.T) {
	e := newEnv(t)
	u := e.user("unverified", "")
	u.EmailVerified = false
	if _, err := e.db.UpdateUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	_, secret := e.client("app", false)
	rp := oidctest.NewRP(t, e.issuer, "app", secret)
	tok := signIn(t, rp, oidctest.Browser(t), "unverified")
	if v, ok := rawClaims(t, idTokenOf(t, tok))["email_verified"]; !ok || v != false {
		t.Fatalf("ID token email_verified = %v (present %v)", v, ok)
	}
	if _, _, m := userinfoRaw(t, e.issuer, tok.AccessToken); m["email_verified"] != false || m["email"] == nil {
		t.Fatalf("userinfo: %v", m)
	}
	if m := introspect(t, e.issuer, "app", secret, tok.AccessToken); m["active"] != true || m["email_verified"] != false {
		t.Fatalf("introspection: %v", m)
	}
}

// Defect 3: amr and acr tell a password from a password and a code, in the
// ID token of the code and of a refresh.
func TestAMRAndACR(t *testing.T) {
	e := newEnv(t)
	otp := e.user("withcode", "")
	e.user("pwdonly", "")
	e.mfa.Store(string(otp.ID), true)
	_, secret := e.client("app", false)
	for _, tc := range []struct {
		user string
		amr  []string
		acr  string
	}{
		{"withcode", []string{"pwd", "otp", "mfa"}, ACRMultiFactor},
		{"pwdonly", []string{"pwd"}, ACRSingleFactor},
	} {
		rp := oidctest.NewRP(t, e.issuer, "app", secret)
		tok := signIn(t, rp, oidctest.Browser(t), tc.user)
		refreshed, err := rp.Refresh(tok.RefreshToken)
		if err != nil {
			t.Fatal(err)
		}
		for i, raw := range []string{idTokenOf(t, tok), idTokenOf(t, refreshed)} {
			c := rawClaims(t, raw)
			var amr []string
			for _, v := range c["amr"].([]any) {
				amr = append(amr, v.(string))
			}
			if !slices.Equal(amr, tc.amr) || c["acr"] != tc.acr {
				t.Errorf("%s, ID token %d: amr %v acr %v; want %v %v", tc.user, i, amr, c["acr"], tc.amr, tc.acr)
			}
		}
	}
}

// Defect 4: a backend logout (id_token_hint, no cookie, as oauth2-proxy's
// --backend-logout-url sends it) ends the platform session.
func TestBackendLogoutEndsPlatformSession(t *testing.T) {
	e := newEnv(t)
	e.user("alice", "")
	_, secret := e.client("app", false)
	rp := oidctest.NewRP(t, e.issuer, "app", secret)
	b := oidctest.Browser(t)
	tok := signIn(t, rp, b, "alice")
	resp, err := http.Get(e.issuer + "/end_session?" + url.Values{"id_token_hint": {idTokenOf(t, tok)}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode >= 400 || e.endCalls.Load() != 1 {
		t.Fatalf("backend logout: %d, sessions ended %d", resp.StatusCode, e.endCalls.Load())
	}
	// The browser's next visit asks for the password again.
	if res := rp.Authorize(t, b, "alice", "password of alice", verifier, "n"); !res.Prompted || res.Code == "" {
		t.Fatalf("the platform session survived the backend logout: %+v", res)
	}
}

// Defect 5: logging out one session leaves the user's other devices alone.
func TestLogoutKeepsOtherSessions(t *testing.T) {
	e := newEnv(t)
	e.user("bob", "")
	_, secret := e.client("app", false)
	rp := oidctest.NewRP(t, e.issuer, "app", secret)
	laptop, phone := oidctest.Browser(t), oidctest.Browser(t)
	tokLaptop, tokPhone := signIn(t, rp, laptop, "bob"), signIn(t, rp, phone, "bob")
	q := url.Values{"id_token_hint": {idTokenOf(t, tokLaptop)}, "post_logout_redirect_uri": {oidctest.PostLogoutURI("app")}}
	resp, err := laptop.Get(e.issuer + "/end_session?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if status, _, _ := userinfoRaw(t, e.issuer, tokLaptop.AccessToken); status != http.StatusUnauthorized {
		t.Fatalf("the logged-out session's token: %d", status)
	}
	if status, _, m := userinfoRaw(t, e.issuer, tokPhone.AccessToken); status != http.StatusOK {
		t.Fatalf("the other device's access token stopped: %d %v", status, m)
	}
	if _, err := rp.Refresh(tokPhone.RefreshToken); err != nil {
		t.Fatalf("the other device's refresh token stopped: %v", err)
	}
	if _, err := rp.Refresh(tokLaptop.RefreshToken); err == nil {
		t.Fatal("the logged-out session's refresh token works")
	}
}

// Defect 8: a refresh token ends with its platform session (its absolute
// end, or when it is ended); one asked for with offline_access has its own
// lifetime and survives the session's end, but not its logout.
func TestRefreshTokenBoundToSession(t *testing.T) {
	e := newEnv(t)
	e.sessionTo = time.Hour
	ctx := context.Background()
	e.user("carol", "")
	_, secret := e.client("app", false)
	online := oidctest.NewRP(t, e.issuer, "app", secret, gooidc.ScopeOpenID, "profile", "email")
	offline := oidctest.NewRP(t, e.issuer, "app", secret)
	b := oidctest.Browser(t)
	tokOn := signIn(t, online, b, "carol")
	tokOff := signIn(t, offline, b, "carol")
	if tokOn.RefreshToken == "" {
		t.Fatal("a client with the refresh_token grant got no refresh token without offline_access")
	}
	if sc, _ := tokOn.Extra("scope").(string); strings.Contains(sc, "offline_access") {
		t.Errorf("the token response claims offline_access that was not asked for: %q", sc)
	}
	rtOn, err := e.db.GetRefreshToken(ctx, HashSecret(tokOn.RefreshToken))
	if err != nil {
		t.Fatal(err)
	}
	rtOff, err := e.db.GetRefreshToken(ctx, HashSecret(tokOff.RefreshToken))
	if err != nil {
		t.Fatal(err)
	}
	if want := rtOn.AuthTime.Add(time.Hour); !rtOn.ExpiresAt.Equal(want) {
		t.Errorf("session refresh token ends %v, want the session's end %v", rtOn.ExpiresAt, want)
	}
	if want := e.clock.Now().Add(30 * 24 * time.Hour); rtOff.ExpiresAt.Before(want.Add(-time.Minute)) || rtOff.ExpiresAt.After(want.Add(time.Minute)) {
		t.Errorf("offline refresh token ends %v, want about %v", rtOff.ExpiresAt, want)
	}
	// The session ends (idle, or ended elsewhere): its refresh token stops,
	// the offline one goes on.
	e.ended.Store(rtOn.SessionID, true)
	var re *oauth2.RetrieveError
	if _, err := online.Refresh(tokOn.RefreshToken); !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Fatalf("refresh after the session ended: %v", err)
	}
	next, err := offline.Refresh(tokOff.RefreshToken)
	if err != nil {
		t.Fatalf("offline refresh after the session ended: %v", err)
	}
	rotated, _ := e.db.GetRefreshToken(ctx, HashSecret(next.RefreshToken))
	if !rotated.ExpiresAt.Equal(rtOff.ExpiresAt) {
		t.Errorf("rotation moved the family's end from %v to %v", rtOff.ExpiresAt, rotated.ExpiresAt)
	}
	// A logout of the session revokes the offline token too (A5).
	q := url.Values{"id_token_hint": {idTokenOf(t, tokOff)}}
	resp, err := http.Get(e.issuer + "/end_session?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if _, err := offline.Refresh(next.RefreshToken); err == nil {
		t.Fatal("the offline token survived the logout of its session")
	}
}

// Defect 11: a replayed code revokes the tokens of its first use; a code of
// a user disabled meanwhile is invalid_grant, not a server error.
func TestCodeReplayRevokesFirstTokens(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	u := e.user("dave", "")
	_, secret := e.client("app", false)
	rp := oidctest.NewRP(t, e.issuer, "app", secret)
	b := oidctest.Browser(t)
	res := rp.Authorize(t, b, "dave", "password of dave", verifier, "n")
	tok, _, _ := rp.Exchange(t, res.Code, verifier)
	var re *oauth2.RetrieveError
	if _, err := rp.Config.Exchange(ctx, res.Code, oauth2.VerifierOption(verifier)); !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Fatalf("replayed code: %v", err)
	}
	if status, _, _ := userinfoRaw(t, e.issuer, tok.AccessToken); status != http.StatusUnauthorized {
		t.Fatalf("the first use's access token still works: %d", status)
	}
	if _, err := rp.Refresh(tok.RefreshToken); err == nil {
		t.Fatal("the first use's refresh token still works")
	}

	res = rp.Authorize(t, b, "dave", "password of dave", verifier, "n")
	u, _ = e.db.GetUser(ctx, directory.Scope{}, u.ID)
	u.Enabled = false
	if _, err := e.db.UpdateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	_, err := rp.Config.Exchange(ctx, res.Code, oauth2.VerifierOption(verifier))
	if !errors.As(err, &re) || re.Response.StatusCode != http.StatusBadRequest || re.ErrorCode != "invalid_grant" {
		t.Fatalf("code of a disabled user: %v", err)
	}
}

// Defect 10: only the token's audience, or a resource server, learns that
// a token is active.
func TestIntrospectionOnlyForAudience(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.user("erin", "")
	_, secretA := e.client("appa", false)
	_, secretB := e.client("appb", false)
	rp := oidctest.NewRP(t, e.issuer, "appa", secretA)
	tok := signIn(t, rp, oidctest.Browser(t), "erin")
	if m := introspect(t, e.issuer, "appa", secretA, tok.AccessToken); m["active"] != true {
		t.Fatalf("the token's own client: %v", m)
	}
	if m := introspect(t, e.issuer, "appb", secretB, tok.AccessToken); m["active"] != false || len(m) != 1 {
		t.Fatalf("another client learned of the token: %v", m)
	}
	in := ClientInput{ClientID: "api", Name: "API", GrantTypes: []string{GrantClientCredentials}, ResourceServer: true}
	_, secretRS, err := e.clients.Create(ctx, Actor{Name: "test"}, in)
	if err != nil {
		t.Fatal(err)
	}
	if m := introspect(t, e.issuer, "api", secretRS, tok.AccessToken); m["active"] != true || m["sub"] == nil {
		t.Fatalf("a resource server: %v", m)
	}
}

// Defect 6: discovery advertises exactly what works.
func TestDiscoveryAdvertisesOnlyWhatWorks(t *testing.T) {
	e := newEnv(t)
	resp, err := http.Get(e.issuer + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	var d map[string]any
	err = json.NewDecoder(resp.Body).Decode(&d)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	list := func(key string) []string {
		var out []string
		for _, v := range d[key].([]any) {
			out = append(out, v.(string))
		}
		slices.Sort(out)
		return out
	}
	for key, want := range map[string][]string{
		"grant_types_supported":    {"authorization_code", "client_credentials", "refresh_token"},
		"response_types_supported": {"code"},
		"scopes_supported":         {"email", "offline_access", "openid", "profile"},
		"acr_values_supported":     {ACRMultiFactor, ACRSingleFactor},
	} {
		if got := list(key); !slices.Equal(got, want) {
			t.Errorf("%s = %v, want %v", key, got, want)
		}
	}
	for _, key := range []string{"device_authorization_endpoint", "check_session_iframe", "request_object_signing_alg_values_supported"} {
		if v, ok := d[key]; ok {
			t.Errorf("discovery advertises %s = %v", key, v)
		}
	}
	// Every advertised endpoint exists.
	for key, v := range d {
		u, ok := v.(string)
		if !ok || !strings.HasSuffix(key, "_endpoint") && key != "jwks_uri" {
			continue
		}
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusNotFound {
			t.Errorf("%s %s answers 404", key, u)
		}
	}
}

// Defect 7: a public client's loopback redirect URI may differ in its port
// only; registration refuses wildcards and surrounding spaces.
func TestLoopbackRedirectStrict(t *testing.T) {
	e := newEnv(t)
	e.user("frank", "")
	ctx := context.Background()
	if _, _, err := e.clients.Create(ctx, Actor{}, ClientInput{ClientID: "cli", Name: "CLI", Public: true,
		RedirectURIs: []string{"http://127.0.0.1:8400/callback", "https://app.example/cb"}}); err != nil {
		t.Fatal(err)
	}
	b := oidctest.Browser(t)
	try := func(redirect string) int {
		q := url.Values{"client_id": {"cli"}, "redirect_uri": {redirect}, "response_type": {"code"}, "scope": {"openid"},
			"code_challenge": {oauth2.S256ChallengeFromVerifier(verifier)}, "code_challenge_method": {"S256"}, "state": {"s"}}
		b.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		resp, err := b.Get(e.issuer + "/authorize?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, ok := range []string{"http://127.0.0.1:8400/callback", "http://127.0.0.1:51234/callback", "https://app.example/cb"} {
		if status := try(ok); status != http.StatusFound {
			t.Errorf("%s refused: %d", ok, status)
		}
	}
	for _, bad := range []string{
		"http://localhost:51234/callback", "http://127.0.0.2:51234/callback", "http://[::1]:51234/callback",
		"http://127.0.0.1:51234/callback/x", "http://127.0.0.1:51234/Callback", "http://127.0.0.1:51234/%63allback",
		"http://127.0.0.1:51234/callback#frag", "http://user@127.0.0.1:51234/callback", "http://127.0.0.1:51234/callback?x=1",
		"https://127.0.0.1:51234/callback", "https://app.example/cb/", "http://127.0.0.1/callback",
	} {
		if status := try(bad); status != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", bad, status)
		}
	}
	for _, uri := range []string{"https://*.example/cb", " https://app.example/cb", "https://app.example/cb ", "https://app.example/c b"} {
		in := ClientInput{ClientID: "x", Name: "X", RedirectURIs: []string{uri}}
		if err := ValidateClient(in); err == nil || !strings.Contains(err.Error(), "redirect_uris") {
			t.Errorf("registered %q: %v", uri, err)
		}
	}
}

// Defect 9: token answers are not cached; userinfo refusals carry a
// Bearer challenge.
func TestTokenNoStoreAndUserinfoChallenge(t *testing.T) {
	e := newEnv(t)
	e.user("gina", "")
	_, secret := e.client("app", false)
	rp := oidctest.NewRP(t, e.issuer, "app", secret)
	res := rp.Authorize(t, oidctest.Browser(t), "gina", "password of gina", verifier, "n")
	form := url.Values{"grant_type": {"authorization_code"}, "code": {res.Code}, "code_verifier": {verifier},
		"redirect_uri": {oidctest.RedirectURI("app")}}
	req, _ := http.NewRequest(http.MethodPost, e.issuer+"/oauth/token", strings.NewReader(form.Encode()))
	req.SetBasicAuth("app", secret)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Cache-Control") != "no-store" || resp.Header.Get("Pragma") != "no-cache" {
		t.Fatalf("token response: %d, Cache-Control %q", resp.StatusCode, resp.Header.Get("Cache-Control"))
	}
	if status, h, _ := userinfoRaw(t, e.issuer, ""); status != http.StatusUnauthorized || !strings.HasPrefix(h, "Bearer") || strings.Contains(h, "error=") {
		t.Fatalf("userinfo without a token: %d %q", status, h)
	}
	if status, h, _ := userinfoRaw(t, e.issuer, "not-a-token"); status != http.StatusUnauthorized || !strings.Contains(h, `error="invalid_token"`) {
		t.Fatalf("userinfo with a bad token: %d %q", status, h)
	}
}

// Defect 12: /authorize refuses oversized parameters before storing
// anything.
func TestAuthorizeBoundsParameters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bounds.db")
	db, err := sqlstore.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	e := newEnvOn(t, db, 1)
	_, _ = e.client("app", false)
	authRequests := func() int {
		t.Helper()
		raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		var n int
		if err := raw.QueryRow("SELECT COUNT(*) FROM oidc_auth_requests").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	base := url.Values{"client_id": {"app"}, "redirect_uri": {oidctest.RedirectURI("app")}, "response_type": {"code"},
		"scope": {"openid"}, "code_challenge": {oauth2.S256ChallengeFromVerifier(verifier)}, "code_challenge_method": {"S256"}}
	var resp *http.Response
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for name, q := range map[string]url.Values{
		"state of 8 MB":   with(base, "state", strings.Repeat("s", 8<<20)),
		"nonce of 3 KB":   with(base, "nonce", strings.Repeat("n", 3<<10)),
		"20 KB in all":    manyParams(base, 10),
		"NUL in state":    with(base, "state", "a\x00b"),
		"bad UTF-8 nonce": with(base, "nonce", "\xff\xfe"),
	} {
		var resp *http.Response
		if len(q.Encode()) > 1<<20 {
			resp, err = noFollow.Post(e.issuer+"/authorize", "application/x-www-form-urlencoded", strings.NewReader(q.Encode()))
		} else {
			resp, err = noFollow.Get(e.issuer + "/authorize?" + q.Encode())
		}
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", name, resp.StatusCode)
		}
	}
	if n := authRequests(); n != 0 {
		t.Fatalf("%d authorization requests stored", n)
	}
	resp, err = noFollow.Get(e.issuer + "/authorize?" + with(base, "state", strings.Repeat("s", 2000)).Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || authRequests() != 1 {
		t.Fatalf("a request within the bounds: %d", resp.StatusCode)
	}
}

// manyParams adds n parameters of 2,000 bytes each to q.
func manyParams(q url.Values, n int) url.Values {
	for i := range n {
		q = with(q, fmt.Sprintf("p%d", i), strings.Repeat("x", 2000))
	}
	return q
}

func with(q url.Values, k, v string) url.Values {
	out := url.Values{}
	for key, vs := range q {
		out[key] = slices.Clone(vs)
	}
	out.Set(k, v)
	return out
}

// TestTokenErrorsDoNotEcho is issue 14, item 7: a 2 MiB grant_type is
// refused without being repeated, as is any overlong parameter.
func TestTokenErrorsDoNotEcho(t *testing.T) {
	e := newEnv(t)
	_, secret := e.client("app", false)
	for name, form := range map[string]url.Values{
		"huge grant_type":  {"grant_type": {strings.Repeat("g", 2<<20)}},
		"long grant_type":  {"grant_type": {strings.Repeat("g", 3000)}},
		"long code":        {"grant_type": {"authorization_code"}, "code": {strings.Repeat("c", 5000)}},
		"unknown grant":    {"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}},
		"jwt bearer grant": {"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {"x.y.z"}},
		"password grant":   {"grant_type": {"password"}, "username": {"admin"}, "password": {"x"}},
	} {
		req, _ := http.NewRequest(http.MethodPost, e.issuer+"/oauth/token", strings.NewReader(form.Encode()))
		req.SetBasicAuth("app", secret)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body bytes.Buffer
		body.ReadFrom(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || body.Len() > 512 {
			t.Errorf("%s: %d with %d bytes: %.200s", name, resp.StatusCode, body.Len(), body.String())
		}
	}
}
