package oidc

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"opsiam/internal/directory"
	"opsiam/internal/oidc/oidctest"
	"opsiam/internal/store"
)

func TestCodeFlowClaimsRefreshUserinfoSSO(t *testing.T) {
	testCodeFlow(t, newEnv(t))
}

// TestReplicasOnPostgres runs the same flow against two providers sharing
// one PostgreSQL database, every request going to the other replica than
// the one before: nothing of a flow lives in one process's memory.
func TestReplicasOnPostgres(t *testing.T) {
	testCodeFlow(t, newEnvOn(t, openDB(t, true), 2))
}

func testCodeFlow(t *testing.T, e *testEnv) {
	alice := e.user("alice", "acme", directory.RoleNameManager)
	_, secret := e.client("app1", false)
	_, secret2 := e.client("app2", false)
	ctx := context.Background()
	b := oidctest.Browser(t)
	rp1 := oidctest.NewRP(t, e.issuer, "app1", secret)

	res := rp1.Authorize(t, b, "alice", "password of alice", "verifier-one-0123456789012345678901234567890", "nonce-1")
	if res.Code == "" || !res.Prompted {
		t.Fatalf("first client: %+v", res)
	}
	tok, idt, c := rp1.Exchange(t, res.Code, "verifier-one-0123456789012345678901234567890")
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
	ui, err := rp1.Provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatalf("userinfo: %v", err)
	}
	var uc oidctest.Claims
	if err := ui.Claims(&uc); err != nil {
		t.Fatal(err)
	}
	if uc.Sub != string(alice.ID) || uc.PreferredUsername != "alice" || uc.Email != "alice@example.com" || uc.Customer != "acme" || len(uc.Roles) == 0 {
		t.Fatalf("userinfo: %+v", uc)
	}

	// refresh: a new refresh token and a new ID token with the same claims
	old := tok.RefreshToken
	tok2, err := rp1.Config.TokenSource(ctx, &oauth2.Token{RefreshToken: old, Expiry: time.Now().Add(-time.Hour)}).Token()
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if tok2.RefreshToken == "" || tok2.RefreshToken == old || tok2.AccessToken == tok.AccessToken {
		t.Fatalf("refresh did not rotate: %+v", tok2)
	}
	raw2, _ := tok2.Extra("id_token").(string)
	idt2, err := rp1.Verifier.Verify(ctx, raw2)
	if err != nil {
		t.Fatalf("refreshed id_token: %v", err)
	}
	var c2 oidctest.Claims
	if err := idt2.Claims(&c2); err != nil || c2.Sub != c.Sub || c2.SID != c.SID || c2.Customer != "acme" {
		t.Fatalf("refreshed claims: %+v %v", c2, err)
	}

	// reuse of the rotated refresh token revokes the whole family
	_, err = rp1.Config.TokenSource(ctx, &oauth2.Token{RefreshToken: old, Expiry: time.Now().Add(-time.Hour)}).Token()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Fatalf("reused refresh token: %v", err)
	}
	if a, _ := e.db.ListAudit(ctx, store.AuditQuery{Action: "oidc.refresh_token_reused"}); len(a.Items) != 1 || a.Items[0].ActorID != string(alice.ID) {
		t.Fatalf("reuse not audited: %+v", a.Items)
	}
	if _, err := rp1.Config.TokenSource(ctx, &oauth2.Token{RefreshToken: tok2.RefreshToken, Expiry: time.Now().Add(-time.Hour)}).Token(); err == nil {
		t.Fatal("the family's newest refresh token still works after a reuse")
	}
	if _, err := rp1.Provider.UserInfo(ctx, oauth2.StaticTokenSource(tok2)); err == nil {
		t.Fatal("the family's access token still works after a reuse")
	}

	// a code works once
	if _, err := rp1.Config.Exchange(ctx, res.Code, oauth2.VerifierOption("verifier-one-0123456789012345678901234567890")); err == nil {
		t.Fatal("a code was accepted twice")
	}

	// SSO: a second client in the same browser gets its code without a prompt
	rp2 := oidctest.NewRP(t, e.issuer, "app2", secret2)
	prompts := e.logins.Load()
	res2 := rp2.Authorize(t, b, "alice", "password of alice", "verifier-two-0123456789012345678901234567890", "nonce-2")
	if res2.Code == "" || res2.Prompted || e.logins.Load() != prompts {
		t.Fatalf("second client asked for the password again: %+v", res2)
	}
	_, _, c3 := rp2.Exchange(t, res2.Code, "verifier-two-0123456789012345678901234567890")
	if c3.Sub != c.Sub || c3.SID != c.SID {
		t.Fatalf("second client's claims: %+v", c3)
	}
}

// TestClientClaims: a client receives only the optional claims it was
// registered for (groups, roles, customer).
func TestClientClaims(t *testing.T) {
	e := newEnv(t)
	e.user("fay", "acme", directory.RoleNameManager)
	ctx := context.Background()
	_, secret, err := e.clients.Create(ctx, Actor{}, ClientInput{ClientID: "docs", Name: "Docs",
		RedirectURIs: []string{oidctest.RedirectURI("docs")}, Claims: []string{ClaimGroups}})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = e.clients.Create(ctx, Actor{}, ClientInput{ClientID: "bad", Name: "Bad",
		RedirectURIs: []string{oidctest.RedirectURI("bad")}, Claims: []string{"salary"}})
	var fe directory.FieldErrors
	if !errors.As(err, &fe) || !fe.Has("claims", directory.CodeInvalid) {
		t.Fatalf("unknown claim: %v", err)
	}
	r := oidctest.NewRP(t, e.issuer, "docs", secret)
	res := r.Authorize(t, oidctest.Browser(t), "fay", "password of fay", "verifier-0123456789012345678901234567890123", "n")
	tok, _, c := r.Exchange(t, res.Code, "verifier-0123456789012345678901234567890123")
	if len(c.Groups) != 1 || c.Roles != nil || c.Customer != "" || c.PreferredUsername != "fay" {
		t.Fatalf("ID token claims: %+v", c)
	}
	ui, err := r.Provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatal(err)
	}
	var uc oidctest.Claims
	if err := ui.Claims(&uc); err != nil || uc.Roles != nil || uc.Customer != "" || len(uc.Groups) != 1 {
		t.Fatalf("userinfo claims: %+v %v", uc, err)
	}
}
