package oidc

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"opsiam/internal/oidc/oidctest"
)

func allAlgorithms(c *Config) { c.SigningAlgorithms = SigningAlgorithms }

// TestSigningAlgorithms is SPEC §9 / issue 15 goal 1: the provider keeps an
// RS256, an ES256 and an EdDSA key, publishes all three in JWKS and lists
// them in discovery; each client's ID tokens (of the code and of a refresh)
// are signed with the algorithm it chose, and go-oidc, a relying party we
// did not write, verifies them.
func TestSigningAlgorithms(t *testing.T) {
	e := newEnv(t, allAlgorithms)
	e.user("alice", "")
	ctx := context.Background()
	resp, err := http.Get(e.issuer + "/keys")
	if err != nil {
		t.Fatal(err)
	}
	var set jose.JSONWebKeySet
	err = json.NewDecoder(resp.Body).Decode(&set)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	var algs []string
	for _, k := range set.Keys {
		algs = append(algs, k.Algorithm)
	}
	slices.Sort(algs)
	if !slices.Equal(algs, []string{"ES256", "EdDSA", "RS256"}) {
		t.Fatalf("JWKS algorithms: %v", algs)
	}
	for _, alg := range []string{"", "RS256", "ES256", "EdDSA"} {
		id := "app" + alg
		_, secret, err := e.clients.Create(ctx, Actor{Name: "test"}, ClientInput{ClientID: id, Name: id,
			RedirectURIs: []string{oidctest.RedirectURI(id)}, IDTokenAlg: alg})
		if err != nil {
			t.Fatal(err)
		}
		rp := oidctest.NewRP(t, e.issuer, id, secret)
		tok := signIn(t, rp, oidctest.Browser(t), "alice") // Exchange verifies the ID token with go-oidc
		refreshed, err := rp.Refresh(tok.RefreshToken)
		if err != nil {
			t.Fatal(err)
		}
		want := alg
		if want == "" {
			want = "RS256"
		}
		for _, raw := range []string{idTokenOf(t, tok), idTokenOf(t, refreshed)} {
			jws, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.EdDSA})
			if err != nil {
				t.Fatal(err)
			}
			if got := jws.Signatures[0].Header.Algorithm; got != want {
				t.Errorf("client %s: ID token signed with %s, want %s", id, got, want)
			}
			if _, err := rp.Verifier.Verify(ctx, raw); err != nil {
				t.Errorf("client %s: go-oidc refuses the %s ID token: %v", id, want, err)
			}
		}
	}
	if err := ValidateClient(ClientInput{ClientID: "x", Name: "X", RedirectURIs: []string{"https://x.example/cb"}, IDTokenAlg: "HS256"}); err == nil {
		t.Fatal("HS256 accepted as a client's algorithm")
	}
}
