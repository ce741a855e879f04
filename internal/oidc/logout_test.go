package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"

	"opsiam/internal/directory"
	"opsiam/internal/oidc/oidctest"
	"opsiam/internal/provision"
	"opsiam/internal/store"
)

// fakeRP receives back-channel logout tokens; while down it answers 503.
type fakeRP struct {
	srv    *httptest.Server
	down   atomic.Bool
	mu     sync.Mutex
	tokens []string
	tried  atomic.Int32
}

func newFakeRP(t *testing.T) *fakeRP {
	f := &fakeRP{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.tried.Add(1)
		if f.down.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		f.tokens = append(f.tokens, r.PostFormValue("logout_token"))
		f.mu.Unlock()
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeRP) received() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.tokens...)
}

// checkLogoutToken validates a logout token the way Back-Channel Logout
// 1.0 §2.6 asks a relying party to.
func checkLogoutToken(t *testing.T, issuer, raw, clientID, sub, sid string) {
	t.Helper()
	ctx := context.Background()
	jws, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatalf("logout token: %v", err)
	}
	if typ, _ := jws.Signatures[0].Header.ExtraHeaders["typ"].(string); typ != "logout+jwt" {
		t.Fatalf("typ = %q", typ)
	}
	payload, err := gooidc.NewRemoteKeySet(ctx, issuer+"/keys").VerifySignature(ctx, raw)
	if err != nil {
		t.Fatalf("logout token signature: %v", err)
	}
	var c struct {
		Iss    string                     `json:"iss"`
		Aud    string                     `json:"aud"`
		Iat    int64                      `json:"iat"`
		Jti    string                     `json:"jti"`
		Sub    string                     `json:"sub"`
		Sid    string                     `json:"sid"`
		Events map[string]json.RawMessage `json:"events"`
		Nonce  *string                    `json:"nonce"`
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		t.Fatal(err)
	}
	if c.Iss != issuer || c.Aud != clientID || c.Iat == 0 || c.Jti == "" || c.Sub != sub || c.Sid != sid ||
		c.Nonce != nil || string(c.Events[BackchannelLogoutEvent]) != "{}" {
		t.Fatalf("logout token claims: %+v", c)
	}
}

// TestBackchannelLogout is acceptance 5 of issue 5 (A5): RP-initiated
// logout ends the platform session; both clients that signed in through
// the session receive a valid logout token through the outbox worker; a
// client that is down receives it once it is back.
func TestBackchannelLogout(t *testing.T) { testBackchannelLogout(t, newEnv(t)) }

// TestBackchannelLogoutPostgres: the same on PostgreSQL, two replicas
// (requests alternate), the worker claiming with SKIP LOCKED.
func TestBackchannelLogoutPostgres(t *testing.T) {
	testBackchannelLogout(t, newEnvOn(t, openDB(t, true), 2))
}

func testBackchannelLogout(t *testing.T, e *testEnv) {
	alice := e.user("alice", "", directory.RoleNameItsmUser)
	ctx := context.Background()
	rp1, rp2 := newFakeRP(t), newFakeRP(t)
	rp2.down.Store(true)
	secrets := map[string]string{}
	for id, f := range map[string]*fakeRP{"app1": rp1, "app2": rp2} {
		_, s, err := e.clients.Create(ctx, Actor{Name: "test"}, ClientInput{ClientID: id, Name: id,
			RedirectURIs: []string{"http://127.0.0.1:1/" + id + "/cb"}, PostLogoutRedirectURIs: []string{"http://127.0.0.1:1/" + id + "/bye"},
			BackchannelLogoutURI: f.srv.URL + "/backchannel"})
		if err != nil {
			t.Fatal(err)
		}
		secrets[id] = s
	}
	b := oidctest.Browser(t)
	var sid, idToken1 string
	var tok2 *oauth2.Token
	var r2 *oidctest.RP
	for _, id := range []string{"app1", "app2"} {
		r := oidctest.NewRP(t, e.issuer, id, secrets[id])
		res := r.Authorize(t, b, "alice", "password of alice", "verifier-0123456789012345678901234567890123", "n")
		tok, _, c := r.Exchange(t, res.Code, "verifier-0123456789012345678901234567890123")
		sid = c.SID
		if id == "app1" {
			idToken1, _ = tok.Extra("id_token").(string)
		} else {
			tok2, r2 = tok, r
		}
	}

	// RP-initiated logout from app1.
	q := url.Values{"id_token_hint": {idToken1}, "post_logout_redirect_uri": {"http://127.0.0.1:1/app1/bye"}, "state": {"s1"}}
	resp, err := b.Get(e.issuer + "/end_session?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || loc != "http://127.0.0.1:1/app1/bye?state=s1" {
		t.Fatalf("end_session answered %d to %q", resp.StatusCode, loc)
	}
	// The platform session is over: the next sign-in asks for the password.
	r1 := oidctest.NewRP(t, e.issuer, "app1", secrets["app1"])
	prompts := e.logins.Load()
	resp, err = b.Get(r1.Config.AuthCodeURL("x", oauth2.S256ChallengeOption("verifier-0123456789012345678901234567890123")))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if e.logins.Load() != prompts+1 {
		t.Fatal("the platform session survived RP-initiated logout")
	}
	// The session's tokens are revoked at every client.
	if _, err := r2.Provider.UserInfo(ctx, oauth2.StaticTokenSource(tok2)); err == nil {
		t.Fatal("app2's access token works after logout")
	}
	if _, err := r2.Config.TokenSource(ctx, &oauth2.Token{RefreshToken: tok2.RefreshToken, Expiry: time.Now().Add(-time.Hour)}).Token(); err == nil {
		t.Fatal("app2's refresh token works after logout")
	}

	// The outbox worker delivers; app2 is down and gets it once it is back.
	w := provision.NewWorker(e.db, provision.Config{BackoffBase: 20 * time.Millisecond, BackoffMax: 50 * time.Millisecond},
		nil, e.prov.Backchannel(nil))
	round := func() {
		if _, err := w.Round(ctx); err != nil && !errors.Is(err, context.Canceled) {
			t.Fatal(err)
		}
	}
	round()
	if got := rp1.received(); len(got) != 1 {
		t.Fatalf("app1 received %d logout tokens", len(got))
	}
	if rp2.tried.Load() == 0 || len(rp2.received()) != 0 {
		t.Fatalf("app2 (down) was tried %d times", rp2.tried.Load())
	}
	rp2.down.Store(false)
	deadline := time.Now().Add(10 * time.Second)
	for len(rp2.received()) == 0 && time.Now().Before(deadline) {
		time.Sleep(30 * time.Millisecond)
		round()
	}
	if len(rp2.received()) != 1 {
		t.Fatalf("app2 received %d logout tokens after coming back", len(rp2.received()))
	}
	checkLogoutToken(t, e.issuer, rp1.received()[0], "app1", string(alice.ID), sid)
	checkLogoutToken(t, e.issuer, rp2.received()[0], "app2", string(alice.ID), sid)
	round()
	if len(rp1.received()) != 1 || len(rp2.received()) != 1 {
		t.Fatal("a logout token was delivered twice")
	}
}

// TestLogoutWithoutHintAsks: a logout request without id_token_hint is
// confirmed by the user first, so that a link on another site cannot sign
// anyone out; a cross-site confirmation is refused.
func TestLogoutWithoutHintAsks(t *testing.T) {
	e := newEnv(t)
	e.user("erin", "")
	_, secret := e.client("app", false)
	b := oidctest.Browser(t)
	r := oidctest.NewRP(t, e.issuer, "app", secret)
	if res := r.Authorize(t, b, "erin", "password of erin", "verifier-0123456789012345678901234567890123", "n"); res.Code == "" {
		t.Fatalf("sign-in: %+v", res)
	}
	q := url.Values{"client_id": {"app"}, "post_logout_redirect_uri": {oidctest.PostLogoutURI("app")}, "state": {"s2"}}
	resp, err := b.Get(e.issuer + "/end_session?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	page := oidctest.ReadBody(t, resp)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "Sign out?") {
		t.Fatalf("no confirmation: %d\n%s", resp.StatusCode, page)
	}
	// still signed in: a new authorization needs no password
	if res := r.Authorize(t, b, "erin", "password of erin", "verifier-0123456789012345678901234567890123", "n"); res.Prompted {
		t.Fatal("the unconfirmed logout ended the session")
	}
	// a cross-site POST of the confirmation is refused
	req, _ := http.NewRequest(http.MethodPost, e.issuer+"/end_session", strings.NewReader(url.Values{"confirm": {"yes"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if resp, err = b.Do(req); err != nil {
		t.Fatal(err)
	}
	if page := oidctest.ReadBody(t, resp); !strings.Contains(page, "Sign out?") {
		t.Fatalf("a cross-site confirmation was accepted: %d", resp.StatusCode)
	}
	resp = oidctest.SubmitForm(t, b, resp.Request.URL, page, "logout-form", nil)
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || loc != oidctest.PostLogoutURI("app")+"?state=s2" {
		t.Fatalf("confirmed logout answered %d to %q", resp.StatusCode, loc)
	}
	if res := r.Authorize(t, b, "erin", "password of erin", "verifier-0123456789012345678901234567890123", "n"); !res.Prompted {
		t.Fatal("the confirmed logout left the session")
	}
}

// TestEndUserSessions: disabling a user (in its use case's transaction)
// sends logout tokens to every client the user is signed in to (U7, A5).
func TestEndUserSessions(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	u := e.user("gus", "")
	rp := newFakeRP(t)
	_, secret, err := e.clients.Create(ctx, Actor{}, ClientInput{ClientID: "app", Name: "App",
		RedirectURIs: []string{oidctest.RedirectURI("app")}, BackchannelLogoutURI: rp.srv.URL + "/bcl"})
	if err != nil {
		t.Fatal(err)
	}
	r := oidctest.NewRP(t, e.issuer, "app", secret)
	for i := 0; i < 2; i++ { // two browsers, two sessions
		if res := r.Authorize(t, oidctest.Browser(t), "gus", "password of gus", "verifier-0123456789012345678901234567890123", "n"); res.Code == "" {
			t.Fatalf("sign-in: %+v", res)
		}
	}
	err = e.db.InTx(ctx, func(tx store.Tx) error {
		u.Enabled = false
		if _, err := tx.UpdateUser(ctx, u); err != nil {
			return err
		}
		return EndUserSessions(ctx, tx, u.ID)
	})
	if err != nil {
		t.Fatal(err)
	}
	w := provision.NewWorker(e.db, provision.Config{}, nil, e.prov.Backchannel(nil))
	for i := 0; i < 5 && len(rp.received()) < 2; i++ { // events of one client go out in order
		if _, err := w.Round(ctx); err != nil {
			t.Fatal(err)
		}
	}
	got := rp.received()
	if len(got) != 2 {
		t.Fatalf("%d logout tokens for two sessions", len(got))
	}
	sids := map[string]bool{}
	for _, raw := range got {
		jws, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
		if err != nil {
			t.Fatal(err)
		}
		var c struct{ Sub, Sid string }
		if err := json.Unmarshal(jws.UnsafePayloadWithoutVerification(), &c); err != nil || c.Sub != string(u.ID) {
			t.Fatalf("logout token: %+v %v", c, err)
		}
		sids[c.Sid] = true
	}
	if len(sids) != 2 {
		t.Fatalf("both tokens name one session: %v", sids)
	}
}
