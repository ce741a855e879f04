package main

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"opsiam/internal/oidc/oidctest"
)

// runCLI runs an opsiam command to completion and returns its stdout.
func runWithEnv(t *testing.T, env map[string]string, args ...string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	if err := run(context.Background(), args, func(k string) string { return env[k] }, strings.NewReader(""), &out, &errOut); err != nil {
		t.Fatalf("opsiam %v: %v\n%s", args, err, errOut.String())
	}
	return out.String()
}

var secretRE = regexp.MustCompile(`client_secret: (\S+)`)

// addClient registers a confidential client with the CLI and returns its secret.
func addClient(t *testing.T, dir, id string, extra ...string) string {
	t.Helper()
	out := runWithEnv(t, nil, append([]string{"client", "add", "--data-dir", dir, "--client-id", id, "--name", "App " + id,
		"--redirect-uri", oidctest.RedirectURI(id), "--post-logout-redirect-uri", oidctest.PostLogoutURI(id)}, extra...)...)
	m := secretRE.FindStringSubmatch(out)
	if m == nil || !strings.Contains(out, "client_id: "+id) {
		t.Fatalf("client add printed:\n%s", out)
	}
	return m[1]
}

// TestOIDCCodeFlowThroughSignInPage is acceptance 1 of issue 5: a relying
// party built from coreos/go-oidc and x/oauth2 runs the whole code flow
// against `opsiam serve` through the real sign-in page, verifies the ID
// token and its claims, refreshes, and calls userinfo; a second client in
// the same browser session gets its code without a password prompt.
func TestOIDCCodeFlowThroughSignInPage(t *testing.T) {
	t.Parallel() // its own data directory and server (issue 17, point 7)
	dir := filepath.Join(t.TempDir(), "data")
	const pw = "a long admin secret"
	runWithEnv(t, map[string]string{"OPSIAM_ADMIN_PASSWORD": pw}, "migrate", "--data-dir", dir)
	secret1 := addClient(t, dir, "app1")
	secret2 := addClient(t, dir, "app2", "--itsm")
	if out := runWithEnv(t, nil, "client", "secret", "--data-dir", dir, "app1"); !secretRE.MatchString(out) {
		t.Fatalf("client secret printed:\n%s", out)
	} else {
		secret1 = secretRE.FindStringSubmatch(out)[1]
	}
	if out := runWithEnv(t, nil, "client", "list", "--data-dir", dir); !strings.Contains(out, "app1\tApp app1\tconfidential") ||
		!strings.Contains(out, "app2\tApp app2\tconfidential,itsm") {
		t.Fatalf("client list:\n%s", out)
	}
	base, _ := startServer(t, nil, "--data-dir", dir)
	ctx := context.Background()
	b := oidctest.Browser(t)

	rp1 := oidctest.NewRP(t, base, "app1", secret1)
	res := rp1.Authorize(t, b, "admin", pw, "verifier-one-0123456789012345678901234567890", "nonce-1")
	if res.Code == "" || !res.Prompted {
		t.Fatalf("first client: %+v", res)
	}
	tok, idt, c := rp1.Exchange(t, res.Code, "verifier-one-0123456789012345678901234567890")
	if c.PreferredUsername != "admin" || c.Email != "admin@localhost" || !c.EmailVerified || c.GivenName != "System" ||
		c.FamilyName != "Administrator" || c.Name != "System Administrator" || c.Zoneinfo != "UTC" || c.Nonce != "nonce-1" ||
		c.SID == "" || c.ITSMRole != "" || idt.Issuer != base || !slices.Equal(c.Groups, []string{"global"}) {
		t.Fatalf("ID token claims: %+v (issuer %s)", c, idt.Issuer)
	}
	for _, want := range []string{"System Security Administrator", "user_admin", "token_admin", "itsm_admin", "user"} {
		if !slices.Contains(c.Roles, want) {
			t.Fatalf("roles %v lack %q", c.Roles, want)
		}
	}

	ui, err := rp1.Provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatalf("userinfo: %v", err)
	}
	var uc oidctest.Claims
	if err := ui.Claims(&uc); err != nil || uc.Sub != c.Sub || uc.PreferredUsername != "admin" || len(uc.Roles) == 0 {
		t.Fatalf("userinfo claims: %+v %v", uc, err)
	}

	tok2, err := rp1.Refresh(tok.RefreshToken)
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	raw, _ := tok2.Extra("id_token").(string)
	if _, err := rp1.Verifier.Verify(ctx, raw); err != nil || tok2.RefreshToken == tok.RefreshToken {
		t.Fatalf("refreshed tokens: %v", err)
	}
	var re *oauth2.RetrieveError
	if _, err := rp1.Refresh(tok.RefreshToken); !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Fatalf("reused refresh token: %v", err)
	}

	time.Sleep(1100 * time.Millisecond) // auth_time has whole seconds

	// Second client, same browser: no password prompt (SSO); it is the ITSM
	// app, and admin holds itsm_admin through System Security Administrator.
	rp2 := oidctest.NewRP(t, base, "app2", secret2)
	res2 := rp2.Authorize(t, b, "admin", pw, "verifier-two-0123456789012345678901234567890", "nonce-2")
	if res2.Code == "" || res2.Prompted {
		t.Fatalf("second client: %+v", res2)
	}
	_, idt2, c2 := rp2.Exchange(t, res2.Code, "verifier-two-0123456789012345678901234567890")
	if c2.Sub != c.Sub || c2.SID != c.SID || c2.ITSMRole != "administrator" {
		t.Fatalf("second client's claims: %+v", c2)
	}
	// auth_time is when the session signed in, not when the second client asked
	var a1, a2 struct {
		AuthTime int64 `json:"auth_time"`
	}
	if err := errors.Join(idt.Claims(&a1), idt2.Claims(&a2)); err != nil || a1.AuthTime == 0 || a1.AuthTime != a2.AuthTime {
		t.Fatalf("auth_time %d, then %d (%v)", a1.AuthTime, a2.AuthTime, err)
	}
}

// TestOIDCPlatformLogoutReachesClients: signing out on the platform's own
// /logout page ends the session at every application (A5): each client the
// session signed in to receives a back-channel logout token through the
// server's outbox worker.
func TestOIDCPlatformLogoutReachesClients(t *testing.T) {
	t.Parallel() // its own data directory and server (issue 17, point 7)
	dir := filepath.Join(t.TempDir(), "data")
	const pw = "a long admin secret"
	runWithEnv(t, map[string]string{"OPSIAM_ADMIN_PASSWORD": pw}, "migrate", "--data-dir", dir)
	got := make(chan string, 4)
	rp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.URL.Path + " " + r.PostFormValue("logout_token")
	}))
	defer rp.Close()
	secrets := map[string]string{}
	for _, id := range []string{"app1", "app2"} {
		secrets[id] = addClient(t, dir, id, "--backchannel-logout-uri", rp.URL+"/"+id)
	}
	base, _ := startServer(t, nil, "--data-dir", dir)
	b := oidctest.Browser(t)
	for _, id := range []string{"app1", "app2"} {
		r := oidctest.NewRP(t, base, id, secrets[id])
		if res := r.Authorize(t, b, "admin", pw, "verifier-0123456789012345678901234567890123", "n"); res.Code == "" {
			t.Fatalf("%s: %+v", id, res)
		}
	}
	resp, err := b.Get(base + "/logout")
	if err != nil {
		t.Fatal(err)
	}
	page := oidctest.ReadBody(t, resp)
	resp = oidctest.SubmitForm(t, b, resp.Request.URL, page, "logout-form", nil)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /logout: %d", resp.StatusCode)
	}
	seen := map[string]bool{}
	for len(seen) < 2 {
		select {
		case s := <-got:
			path, tok, _ := strings.Cut(s, " ")
			if strings.Count(tok, ".") != 2 {
				t.Fatalf("%s received %q", path, tok)
			}
			seen[path] = true
		case <-time.After(15 * time.Second):
			t.Fatalf("logout tokens received by %v only", seen)
		}
	}
}
