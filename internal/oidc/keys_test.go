package oidc

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"

	"opsiam/internal/directory"
	"opsiam/internal/oidc/oidctest"
	"opsiam/internal/store"
)

func jwksIDs(t *testing.T, issuer string) []string {
	t.Helper()
	resp, err := http.Get(issuer + "/keys")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, k := range set.Keys {
		if k.Algorithm != "RS256" || k.Use != "sig" || !k.IsPublic() {
			t.Fatalf("JWKS key %s: alg %s use %s public %v", k.KeyID, k.Algorithm, k.Use, k.IsPublic())
		}
		ids = append(ids, k.KeyID)
	}
	return ids
}

func kidOf(t *testing.T, raw string) string {
	t.Helper()
	jws, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	return jws.Signatures[0].Header.KeyID
}

// TestKeyRotation is acceptance 4 of issue 5: tokens signed before a
// rotation verify until they expire; afterwards the old key leaves JWKS.
func TestKeyRotation(t *testing.T) {
	e := newEnv(t)
	e.user("alice", "", directory.RoleNameItsmUser)
	_, secret := e.client("app", false)
	ctx := context.Background()
	r := oidctest.NewRP(t, e.issuer, "app", secret)
	sign := func() (*oauth2.Token, string) {
		res := r.Authorize(t, oidctest.Browser(t), "alice", "password of alice", "verifier-0123456789012345678901234567890123", "n")
		tok, _ := r.Config.Exchange(ctx, res.Code, oauth2.VerifierOption("verifier-0123456789012345678901234567890123"))
		raw, _ := tok.Extra("id_token").(string)
		return tok, raw
	}
	// a verifier on the provider's clock, with a fresh key cache each time
	verify := func(raw string, skipExpiry bool) error {
		p, err := gooidc.NewProvider(ctx, e.issuer)
		if err != nil {
			t.Fatal(err)
		}
		_, err = p.Verifier(&gooidc.Config{ClientID: "app", Now: e.clock.Now, SkipExpiryCheck: skipExpiry}).Verify(ctx, raw)
		return err
	}
	oldTok, oldID := sign()
	k1 := kidOf(t, oldID)
	if ids := jwksIDs(t, e.issuer); len(ids) != 1 || ids[0] != k1 {
		t.Fatalf("JWKS before rotation: %v, token kid %s", ids, k1)
	}

	// Rotation (scheduled rotation: TestKeysReplicas).
	if err := e.prov.Keys().Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	_, newID := sign()
	k2 := kidOf(t, newID)
	if k2 == k1 {
		t.Fatal("no new signing key after the rotation period")
	}
	if ids := jwksIDs(t, e.issuer); len(ids) != 2 {
		t.Fatalf("JWKS after rotation: %v, want the new and the retired key", ids)
	}
	if err := verify(oldID, false); err != nil {
		t.Fatalf("a token signed before the rotation no longer verifies: %v", err)
	}
	if _, err := r.Provider.UserInfo(ctx, oauth2.StaticTokenSource(oldTok)); err != nil {
		t.Fatalf("an access token issued before the rotation no longer works: %v", err)
	}
	if err := verify(newID, false); err != nil {
		t.Fatalf("new token: %v", err)
	}

	// Once every token of the old key has expired, the key leaves JWKS.
	e.clock.Add(time.Hour + 6*time.Minute)
	if err := verify(oldID, false); err == nil {
		t.Fatal("an expired token verified")
	}
	if err := e.prov.Maintain(ctx); err != nil {
		t.Fatal(err)
	}
	if ids := jwksIDs(t, e.issuer); len(ids) != 1 || ids[0] != k2 {
		t.Fatalf("JWKS after the old key's tokens expired: %v, want only %s", ids, k2)
	}
	if err := verify(oldID, true); err == nil {
		t.Fatal("a token of the removed key still verifies")
	}
}

// TestKeysReplicas: replicas that find the key due at the same moment
// rotate once (scheduled rotation); a replica with another key-encryption key cannot use the keys.
func TestKeysReplicas(t *testing.T) {
	for _, pg := range []bool{false, true} {
		name := map[bool]string{false: "SQLite", true: "Postgres"}[pg]
		t.Run(name, func(t *testing.T) {
			db := openDB(t, pg)
			ctx := context.Background()
			c := &clock{t: time.Now().UTC()}
			mk := func(kek byte) *Keys {
				return &Keys{Store: db, KEK: [32]byte{kek}, Now: c.Now, RotateEvery: time.Hour, PublishAfterRetire: time.Hour, Bits: 1024}
			}
			if err := mk(1).Maintain(ctx); err != nil {
				t.Fatal(err)
			}
			c.Add(2 * time.Hour)
			var wg sync.WaitGroup
			for i := 0; i < 4; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if err := mk(1).Maintain(ctx); err != nil {
						t.Error(err)
					}
				}()
			}
			wg.Wait()
			keys, err := db.ListSigningKeys(ctx)
			if err != nil {
				t.Fatal(err)
			}
			current := 0
			for _, k := range keys {
				if k.RetiredAt.IsZero() {
					current++
				}
			}
			if len(keys) != 2 || current != 1 {
				t.Fatalf("after parallel rotation: %d keys, %d current; want 2 and 1", len(keys), current)
			}
			if _, err := mk(9).SigningKey(ctx); err == nil {
				t.Fatal("a replica with another key-encryption key read the keys")
			}
			var enc store.SigningKey = keys[0]
			if len(enc.PrivateEnc) < 100 {
				t.Fatalf("private key not stored: %d bytes", len(enc.PrivateEnc))
			}
		})
	}
}

// verifyAccessToken checks a JWT access token against the JWKS and returns its claims.
func verifyAccessToken(t *testing.T, issuer, raw string) map[string]any {
	t.Helper()
	ctx := context.Background()
	payload, err := gooidc.NewRemoteKeySet(ctx, issuer+"/keys").VerifySignature(ctx, raw)
	if err != nil {
		t.Fatalf("access token signature: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(payload, &m); err != nil {
		t.Fatal(err)
	}
	if m["iss"] != issuer {
		t.Fatalf("access token issuer %v", m["iss"])
	}
	return m
}

// TestDiscovery checks the discovery document relying parties configure
// themselves from (S1).
func TestDiscovery(t *testing.T) {
	e := newEnv(t)
	resp, err := http.Get(e.issuer + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var d map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&d); err != nil {
		t.Fatal(err)
	}
	has := func(key, want string) bool {
		list, _ := d[key].([]any)
		for _, v := range list {
			if v == want {
				return true
			}
		}
		return false
	}
	if d["issuer"] != e.issuer || d["jwks_uri"] != e.issuer+"/keys" || d["end_session_endpoint"] != e.issuer+"/end_session" ||
		d["userinfo_endpoint"] != e.issuer+"/userinfo" || d["backchannel_logout_supported"] != true ||
		d["backchannel_logout_session_supported"] != true {
		t.Fatalf("discovery: %v", d)
	}
	for key, want := range map[string]string{
		"code_challenge_methods_supported":      "S256",
		"id_token_signing_alg_values_supported": "RS256",
		"grant_types_supported":                 "refresh_token",
		"claims_supported":                      ClaimITSMRole,
		"response_types_supported":              "code",
	} {
		if !has(key, want) {
			t.Errorf("discovery %s lacks %s: %v", key, want, d[key])
		}
	}
	if !has("grant_types_supported", "client_credentials") {
		t.Errorf("client_credentials not offered: %v", d["grant_types_supported"])
	}
}
