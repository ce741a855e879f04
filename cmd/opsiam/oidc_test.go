package main

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"opsiam/internal/oidc/oidctest"
)

// runCLI runs an opsiam command to completion and returns its stdout.
func runCLI(t *testing.T, env map[string]string, args ...string) string {
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
	out := runCLI(t, nil, append([]string{"client", "add", "--data-dir", dir, "--client-id", id, "--name", "App " + id,
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
	dir := filepath.Join(t.TempDir(), "data")
	const pw = "a long admin secret"
	runCLI(t, map[string]string{"OPSIAM_ADMIN_PASSWORD": pw}, "migrate", "--data-dir", dir)
	secret1 := addClient(t, dir, "app1")
	secret2 := addClient(t, dir, "app2", "--itsm")
	if out := runCLI(t, nil, "client", "list", "--data-dir", dir); !strings.Contains(out, "app1\tApp app1\tconfidential") ||
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

	// Second client, same browser: no password prompt (SSO); it is the ITSM
	// app, and admin holds itsm_admin through System Security Administrator.
	rp2 := oidctest.NewRP(t, base, "app2", secret2)
	res2 := rp2.Authorize(t, b, "admin", pw, "verifier-two-0123456789012345678901234567890", "nonce-2")
	if res2.Code == "" || res2.Prompted {
		t.Fatalf("second client: %+v", res2)
	}
	_, _, c2 := rp2.Exchange(t, res2.Code, "verifier-two-0123456789012345678901234567890")
	if c2.Sub != c.Sub || c2.SID != c.SID || c2.ITSMRole != "administrator" {
		t.Fatalf("second client's claims: %+v", c2)
	}
}
