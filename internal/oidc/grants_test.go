package oidc

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"opsiam/internal/directory"
	"opsiam/internal/oidc/oidctest"
)

// TestPublicClientNeedsPKCE: a public client must send a S256 code
// challenge; nobody may use the plain method (S1).
func TestPublicClientNeedsPKCE(t *testing.T) {
	e := newEnv(t)
	e.user("alice", "")
	ctx := context.Background()
	if _, _, err := e.clients.Create(ctx, Actor{}, ClientInput{ClientID: "spa", Name: "SPA", Public: true,
		RedirectURIs: []string{oidctest.RedirectURI("spa")}}); err != nil {
		t.Fatal(err)
	}
	r := oidctest.NewRP(t, e.issuer, "spa", "")
	b := oidctest.Browser(t)
	try := func(opts ...oauth2.AuthCodeOption) oidctest.Result {
		_, res := oidctest.Browse(t, b, r.Config.AuthCodeURL("s", opts...), "alice", "password of alice")
		return res
	}
	if res := try(); res.Error != "invalid_request" {
		t.Fatalf("without PKCE: %+v", res)
	}
	plain := []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("code_challenge", "abcdefghijklmnopqrstuvwxyz0123456789abcdefghijk"),
		oauth2.SetAuthURLParam("code_challenge_method", "plain")}
	if res := try(plain...); res.Error != "invalid_request" {
		t.Fatalf("plain PKCE: %+v", res)
	}
	v := "verifier-0123456789012345678901234567890123"
	res := try(oauth2.S256ChallengeOption(v))
	if res.Code == "" {
		t.Fatalf("with S256: %+v", res)
	}
	if _, err := r.Config.Exchange(ctx, res.Code, oauth2.VerifierOption("wrong-verifier-0123456789012345678901234567")); err == nil {
		t.Fatal("a wrong code verifier was accepted")
	}
}

// TestClientCredentials: a service client gets a signed access token; a
// wrong secret or a client without the grant does not.
func TestClientCredentials(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, secret := e.client("svc", false, GrantClientCredentials)
	_, other := e.client("web", false)
	p := oidctest.NewRP(t, e.issuer, "svc", secret)
	cc := clientcredentials.Config{ClientID: "svc", ClientSecret: secret, TokenURL: p.Provider.Endpoint().TokenURL}
	tok, err := cc.Token(ctx)
	if err != nil || tok.AccessToken == "" || strings.Count(tok.AccessToken, ".") != 2 {
		t.Fatalf("client credentials: %+v %v", tok, err)
	}
	claims := verifyAccessToken(t, e.issuer, tok.AccessToken)
	if claims["sub"] != "svc" || claims["client_id"] != "svc" || claims["roles"] != nil {
		t.Fatalf("access token claims: %v", claims)
	}
	cc.ClientSecret = "wrong"
	if _, err := cc.Token(ctx); err == nil {
		t.Fatal("a wrong secret was accepted")
	}
	cc.ClientID, cc.ClientSecret = "web", other
	if _, err := cc.Token(ctx); err == nil {
		t.Fatal("a client without the grant got a token")
	}
}

// TestDisabledUserTokensStop: disabling a user stops its tokens at once (U7).
func TestDisabledUserTokensStop(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	u := e.user("bob", "", directory.RoleNameItsmUser)
	_, secret := e.client("app", false)
	r := oidctest.NewRP(t, e.issuer, "app", secret)
	res := r.Authorize(t, oidctest.Browser(t), "bob", "password of bob", "verifier-0123456789012345678901234567890123", "n")
	tok, _, _ := r.Exchange(t, res.Code, "verifier-0123456789012345678901234567890123")
	if strings.Count(tok.AccessToken, ".") == 2 {
		t.Fatal("a sign-in client got a JWT access token; it must be opaque so that it can stop at once")
	}
	if got := introspect(t, e.issuer, "app", secret, tok.AccessToken); got["active"] != true || got["sub"] != string(u.ID) ||
		got["preferred_username"] != "bob" || got["client_id"] != "app" {
		t.Fatalf("introspection of a live token: %v", got)
	}
	u.Enabled = false
	if _, err := e.db.UpdateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Provider.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err == nil {
		t.Fatal("userinfo answered for a disabled user")
	}
	if got := introspect(t, e.issuer, "app", secret, tok.AccessToken); got["active"] == true {
		t.Fatalf("introspection calls a disabled user's token active: %v", got)
	}
	if _, err := r.Refresh(tok.RefreshToken); err == nil {
		t.Fatal("a disabled user's refresh token worked")
	}
	res = r.Authorize(t, oidctest.Browser(t), "bob", "password of bob", "verifier-0123456789012345678901234567890123", "n")
	if res.Status != http.StatusForbidden || !strings.Contains(res.Page, "disabled") {
		t.Fatalf("a disabled user was signed in: %+v", res)
	}
}

// TestRevocation: revoking a refresh token (RFC 7009) revokes its family.
func TestRevocation(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.user("carol", "")
	_, secret := e.client("app", false)
	r := oidctest.NewRP(t, e.issuer, "app", secret)
	res := r.Authorize(t, oidctest.Browser(t), "carol", "password of carol", "verifier-0123456789012345678901234567890123", "n")
	tok, _, _ := r.Exchange(t, res.Code, "verifier-0123456789012345678901234567890123")
	req, _ := http.NewRequest(http.MethodPost, e.issuer+"/revoke", strings.NewReader(url.Values{"token": {tok.RefreshToken},
		"token_type_hint": {"refresh_token"}}.Encode()))
	req.SetBasicAuth("app", secret)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}
	if _, err := r.Refresh(tok.RefreshToken); err == nil {
		t.Fatal("a revoked refresh token worked")
	}
	if _, err := r.Provider.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err == nil {
		t.Fatal("the revoked family's access token worked")
	}
}

// introspect asks the introspection endpoint (RFC 7662) about token.
func introspect(t *testing.T, issuer, id, secret, token string) map[string]any {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, issuer+"/oauth/introspect", strings.NewReader(url.Values{"token": {token}}.Encode()))
	req.SetBasicAuth(id, secret)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatalf("introspection: %d %v", resp.StatusCode, err)
	}
	return m
}

// TestPromptNone: without a platform session, prompt=none returns
// login_required to the client instead of showing the sign-in page.
func TestPromptNone(t *testing.T) {
	e := newEnv(t)
	_, secret := e.client("app", false)
	r := oidctest.NewRP(t, e.issuer, "app", secret)
	_, res := oidctest.Browse(t, oidctest.Browser(t), r.Config.AuthCodeURL("s", oauth2.SetAuthURLParam("prompt", "none")), "", "")
	if res.Error != "login_required" || res.Prompted {
		t.Fatalf("prompt=none without a session: %+v", res)
	}
}

// TestITSMRoleRemovedStopsRefresh: an agent whose ITSM role is taken away
// gets no new tokens for the ITSM app (T2).
func TestITSMRoleRemovedStopsRefresh(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	u := e.user("dave", "", directory.RoleNameItsmUser)
	_, secret := e.client("otobo", true)
	r := oidctest.NewRP(t, e.issuer, "otobo", secret)
	res := r.Authorize(t, oidctest.Browser(t), "dave", "password of dave", "verifier-0123456789012345678901234567890123", "n")
	tok, _, _ := r.Exchange(t, res.Code, "verifier-0123456789012345678901234567890123")
	tok2, err := r.Refresh(tok.RefreshToken)
	if err != nil {
		t.Fatalf("agent's refresh: %v", err)
	}
	role, err := e.db.GetRoleByName(ctx, directory.RoleNameItsmUser)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.db.UnassignUserRole(ctx, u.ID, role.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Refresh(tok2.RefreshToken); err == nil {
		t.Fatal("a former agent refreshed its ITSM tokens")
	}
	res = r.Authorize(t, oidctest.Browser(t), "dave", "password of dave", "verifier-0123456789012345678901234567890123", "n")
	if res.Status != http.StatusForbidden {
		t.Fatalf("a former agent was admitted: %+v", res)
	}
}
