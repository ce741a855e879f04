package oidc

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"opsiam/internal/directory"
)

// rp is a relying party built from go-oidc and x/oauth2.
type rp struct {
	cfg      oauth2.Config
	provider *gooidc.Provider
	verifier *gooidc.IDTokenVerifier
}

func newRP(t *testing.T, issuer, clientID, secret string, scopes ...string) *rp {
	t.Helper()
	ctx := context.Background()
	p, err := gooidc.NewProvider(ctx, issuer)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	if len(scopes) == 0 {
		scopes = []string{gooidc.ScopeOpenID, "profile", "email", gooidc.ScopeOfflineAccess}
	}
	return &rp{
		cfg: oauth2.Config{ClientID: clientID, ClientSecret: secret, Endpoint: p.Endpoint(),
			RedirectURL: "http://127.0.0.1:1/" + clientID + "/cb", Scopes: scopes},
		provider: p,
		verifier: p.Verifier(&gooidc.Config{ClientID: clientID}),
	}
}

// flowResult is where an authorization ended.
type flowResult struct {
	code     string
	errCode  string // error= sent to the client
	page     string // a page shown instead of a redirect to the client
	status   int
	prompted bool // the sign-in page was shown
}

// authorize runs the browser part of the code flow with PKCE; when the
// sign-in page appears it signs in as username.
func (r *rp) authorize(t *testing.T, b *http.Client, username, verifier, nonce string) flowResult {
	t.Helper()
	u := r.cfg.AuthCodeURL("state-1", oauth2.S256ChallengeOption(verifier), gooidc.Nonce(nonce))
	resp, err := b.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	var res flowResult
	if resp.StatusCode == http.StatusOK && strings.Contains(resp.Request.URL.Path, "/login") {
		res.prompted = true
		page := readBody(t, resp)
		resp = submitLogin(t, b, resp.Request.URL, page, username, "password of "+username)
	}
	res.status = resp.StatusCode
	if resp.StatusCode != http.StatusFound {
		res.page = readBody(t, resp)
		return res
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if loc.Host != "127.0.0.1:1" {
		t.Fatalf("flow ended at %s", loc)
	}
	if got := loc.Query().Get("state"); got != "state-1" {
		t.Fatalf("state = %q", got)
	}
	res.code, res.errCode = loc.Query().Get("code"), loc.Query().Get("error")
	return res
}

// idClaims are the claims the tests look at.
type idClaims struct {
	Sub               string   `json:"sub"`
	PreferredUsername string   `json:"preferred_username"`
	Email             string   `json:"email"`
	EmailVerified     bool     `json:"email_verified"`
	Name              string   `json:"name"`
	GivenName         string   `json:"given_name"`
	FamilyName        string   `json:"family_name"`
	Zoneinfo          string   `json:"zoneinfo"`
	Groups            []string `json:"groups"`
	Roles             []string `json:"roles"`
	Customer          string   `json:"customer"`
	ITSMRole          string   `json:"itsm_role"`
	SID               string   `json:"sid"`
	Nonce             string   `json:"nonce"`
}

func (r *rp) exchange(t *testing.T, code, verifier string) (*oauth2.Token, *gooidc.IDToken, idClaims) {
	t.Helper()
	ctx := context.Background()
	tok, err := r.cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok {
		t.Fatal("no id_token")
	}
	idt, err := r.verifier.Verify(ctx, raw)
	if err != nil {
		t.Fatalf("verify id_token: %v", err)
	}
	var c idClaims
	if err := idt.Claims(&c); err != nil {
		t.Fatal(err)
	}
	return tok, idt, c
}

func TestCodeFlowClaimsRefreshUserinfoSSO(t *testing.T) {
	e := newEnv(t)
	alice := e.user("alice", "acme", directory.RoleNameManager)
	_, secret := e.client("app1", false)
	_, secret2 := e.client("app2", false)
	ctx := context.Background()
	b := browser(t)
	rp1 := newRP(t, e.issuer, "app1", secret)

	res := rp1.authorize(t, b, "alice", "verifier-one-0123456789012345678901234567890", "nonce-1")
	if res.code == "" || !res.prompted {
		t.Fatalf("first client: %+v", res)
	}
	tok, idt, c := rp1.exchange(t, res.code, "verifier-one-0123456789012345678901234567890")
	if c.Sub != string(alice.ID) || c.PreferredUsername != "alice" || c.Email != "alice@example.com" || !c.EmailVerified ||
		c.Name != "Firstalice Lastalice" || c.GivenName != "Firstalice" || c.FamilyName != "Lastalice" ||
		c.Zoneinfo != "Asia/Tokyo" || c.Customer != "acme" || c.Nonce != "nonce-1" || c.SID == "" || c.ITSMRole != "" {
		t.Fatalf("ID token claims: %+v", c)
	}
	if !slices.Equal(c.Groups, []string{"global"}) {
		t.Fatalf("groups = %v", c.Groups)
	}
	for _, want := range []string{"Manager", "itsm_manager", "user", "user_viewer"} {
		if !slices.Contains(c.Roles, want) {
			t.Fatalf("roles %v lack %s", c.Roles, want)
		}
	}
	if slices.Contains(c.Roles, "itsm_admin") {
		t.Fatalf("roles %v hold a role alice lacks", c.Roles)
	}
	if idt.Audience[0] != "app1" || tok.RefreshToken == "" {
		t.Fatalf("audience %v, refresh %q", idt.Audience, tok.RefreshToken)
	}

	// userinfo with the access token
	ui, err := rp1.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatalf("userinfo: %v", err)
	}
	var uc idClaims
	if err := ui.Claims(&uc); err != nil {
		t.Fatal(err)
	}
	if uc.Sub != string(alice.ID) || uc.PreferredUsername != "alice" || uc.Email != "alice@example.com" || uc.Customer != "acme" || len(uc.Roles) == 0 {
		t.Fatalf("userinfo: %+v", uc)
	}

	// refresh: a new refresh token and a new ID token with the same claims
	old := tok.RefreshToken
	tok2, err := rp1.cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: old, Expiry: time.Now().Add(-time.Hour)}).Token()
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if tok2.RefreshToken == "" || tok2.RefreshToken == old || tok2.AccessToken == tok.AccessToken {
		t.Fatalf("refresh did not rotate: %+v", tok2)
	}
	raw2, _ := tok2.Extra("id_token").(string)
	idt2, err := rp1.verifier.Verify(ctx, raw2)
	if err != nil {
		t.Fatalf("refreshed id_token: %v", err)
	}
	var c2 idClaims
	if err := idt2.Claims(&c2); err != nil || c2.Sub != c.Sub || c2.SID != c.SID || c2.Customer != "acme" {
		t.Fatalf("refreshed claims: %+v %v", c2, err)
	}

	// reuse of the rotated refresh token revokes the whole family
	_, err = rp1.cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: old, Expiry: time.Now().Add(-time.Hour)}).Token()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Fatalf("reused refresh token: %v", err)
	}
	if _, err := rp1.cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok2.RefreshToken, Expiry: time.Now().Add(-time.Hour)}).Token(); err == nil {
		t.Fatal("the family's newest refresh token still works after a reuse")
	}
	if _, err := rp1.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok2)); err == nil {
		t.Fatal("the family's access token still works after a reuse")
	}

	// a code works once
	if _, err := rp1.cfg.Exchange(ctx, res.code, oauth2.VerifierOption("verifier-one-0123456789012345678901234567890")); err == nil {
		t.Fatal("a code was accepted twice")
	}

	// SSO: a second client in the same browser gets its code without a prompt
	rp2 := newRP(t, e.issuer, "app2", secret2)
	prompts := e.logins.Load()
	res2 := rp2.authorize(t, b, "alice", "verifier-two-0123456789012345678901234567890", "nonce-2")
	if res2.code == "" || res2.prompted || e.logins.Load() != prompts {
		t.Fatalf("second client asked for the password again: %+v", res2)
	}
	_, _, c3 := rp2.exchange(t, res2.code, "verifier-two-0123456789012345678901234567890")
	if c3.Sub != c.Sub || c3.SID != c.SID {
		t.Fatalf("second client's claims: %+v", c3)
	}
}
