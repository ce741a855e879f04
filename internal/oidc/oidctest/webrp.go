package oidctest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// WebRP is a confidential web application on its own origin (its own
// port), built from go-oidc and x/oauth2: /start sends the browser to the
// provider with PKCE, state and nonce; /callback exchanges the code,
// verifies the ID token and shows who signed in (#signed-in) or the
// error (#rp-error). A real browser crosses origins through it.
type WebRP struct {
	URL string // the application's origin

	srv      *httptest.Server
	mu       sync.Mutex
	cfg      oauth2.Config
	verifier *gooidc.IDTokenVerifier
	pending  map[string][2]string // state → verifier, nonce
	calls    int
	claims   map[string]any
}

// NewWebRP starts the application; Configure it once the provider runs.
func NewWebRP(t testing.TB) *WebRP {
	rp := &WebRP{pending: map[string][2]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /start", rp.start)
	mux.HandleFunc("GET /callback", rp.callback)
	rp.srv = httptest.NewServer(mux)
	rp.URL = rp.srv.URL
	t.Cleanup(rp.srv.Close)
	return rp
}

// RedirectURI is the URI to register for the application.
func (rp *WebRP) RedirectURI() string { return rp.URL + "/callback" }

// Configure discovers issuer and sets the client's credentials.
func (rp *WebRP) Configure(t testing.TB, issuer, clientID, secret string, scopes ...string) {
	t.Helper()
	p, err := gooidc.NewProvider(context.Background(), issuer)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	if len(scopes) == 0 {
		scopes = []string{gooidc.ScopeOpenID, "profile", "email"}
	}
	rp.mu.Lock()
	defer rp.mu.Unlock()
	rp.cfg = oauth2.Config{ClientID: clientID, ClientSecret: secret, Endpoint: p.Endpoint(), RedirectURL: rp.RedirectURI(), Scopes: scopes}
	rp.verifier = p.Verifier(&gooidc.Config{ClientID: clientID})
}

// Callbacks is how often the provider sent a browser back to /callback.
func (rp *WebRP) Callbacks() int {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	return rp.calls
}

// Claims are the claims of the last verified ID token.
func (rp *WebRP) Claims() map[string]any {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	return rp.claims
}

func random() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (rp *WebRP) start(w http.ResponseWriter, r *http.Request) {
	state, verifier, nonce := random(), oauth2.GenerateVerifier(), random()
	rp.mu.Lock()
	rp.pending[state] = [2]string{verifier, nonce}
	cfg := rp.cfg
	rp.mu.Unlock()
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier), gooidc.Nonce(nonce)}
	for _, k := range []string{"prompt", "max_age"} {
		if v := r.URL.Query().Get(k); v != "" {
			opts = append(opts, oauth2.SetAuthURLParam(k, v))
		}
	}
	http.Redirect(w, r, cfg.AuthCodeURL(state, opts...), http.StatusFound)
}

func (rp *WebRP) callback(w http.ResponseWriter, r *http.Request) {
	rp.mu.Lock()
	rp.calls++
	p, ok := rp.pending[r.URL.Query().Get("state")]
	delete(rp.pending, r.URL.Query().Get("state"))
	cfg, verifier := rp.cfg, rp.verifier
	rp.mu.Unlock()
	fail := func(format string, args ...any) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><p id="rp-error">%s</p>`, html.EscapeString(fmt.Sprintf(format, args...)))
	}
	if e := r.URL.Query().Get("error"); e != "" {
		fail("%s: %s", e, r.URL.Query().Get("error_description"))
		return
	}
	if !ok {
		fail("unknown state")
		return
	}
	tok, err := cfg.Exchange(r.Context(), r.URL.Query().Get("code"), oauth2.VerifierOption(p[0]))
	if err != nil {
		fail("exchange: %v", err)
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := verifier.Verify(r.Context(), raw)
	if err != nil || idt.Nonce != p[1] {
		fail("id token: %v (nonce %q)", err, idt.Nonce)
		return
	}
	var c map[string]any
	if err := idt.Claims(&c); err != nil {
		fail("claims: %v", err)
		return
	}
	rp.mu.Lock()
	rp.claims = c
	rp.mu.Unlock()
	amr := fmt.Sprint(c["amr"])
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprintf(w, `<!doctype html><p id="signed-in">%s</p><p id="amr">%s</p>`,
		html.EscapeString(fmt.Sprint(c["preferred_username"])), html.EscapeString(strings.Trim(amr, "[]")))
}
