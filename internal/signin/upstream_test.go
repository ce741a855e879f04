package signin_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"opsiam/internal/auth"
	"opsiam/internal/directory"
	"opsiam/internal/manage"
	"opsiam/internal/seal"
	"opsiam/internal/signin"
	"opsiam/internal/store"
)

// fakeIdP is an external OpenID Connect provider faked with httptest: it
// publishes discovery and a JWKS of a key made here, answers /authorize
// at once with a code (no sign-in page) and /token with an ID token the
// test shapes (issuer, expiry, nonce, claims), so that every token-level
// failure can be produced. Only its own key signs.
type fakeIdP struct {
	*httptest.Server
	key *rsa.PrivateKey

	mu       sync.Mutex
	codes    map[string]string // code → nonce
	lastBack string            // the last redirect back to the relying party
	// shape changes the claims of the next ID tokens.
	shape func(claims map[string]any)
	// state, when set, replaces the state sent back.
	state string
}

func newFakeIdP(t *testing.T) *fakeIdP {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeIdP{key: key, codes: map[string]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"issuer": f.URL, "authorization_endpoint": f.URL + "/authorize",
			"token_endpoint": f.URL + "/token", "jwks_uri": f.URL + "/jwks", "id_token_signing_alg_values_supported": []string{"RS256"},
			"response_types_supported": []string{"code"}, "subject_types_supported": []string{"public"}})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	})
	mux.HandleFunc("GET /authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("nonce") == "" {
			http.Error(w, "PKCE and nonce required", http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		code := "code-" + q.Get("nonce")[:8]
		f.codes[code] = q.Get("nonce")
		state := q.Get("state")
		if f.state != "" {
			state = f.state
		}
		back := q.Get("redirect_uri") + "?" + url.Values{"code": {code}, "state": {state}}.Encode()
		f.lastBack = back
		f.mu.Unlock()
		http.Redirect(w, r, back, http.StatusFound)
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		f.mu.Lock()
		nonce, ok := f.codes[r.PostForm.Get("code")]
		delete(f.codes, r.PostForm.Get("code")) // codes work once
		shape := f.shape
		f.mu.Unlock()
		if !ok || r.PostForm.Get("code_verifier") == "" {
			w.WriteHeader(http.StatusBadRequest)
			json.NewEncoder(w).Encode(map[string]string{"error": "invalid_grant"})
			return
		}
		now := time.Now()
		claims := map[string]any{"iss": f.URL, "sub": "up-1", "aud": "platform", "exp": now.Add(time.Hour).Unix(),
			"iat": now.Unix(), "nonce": nonce, "email": "hana@acme.test", "email_verified": true, "name": "Hana Sato"}
		if shape != nil {
			shape(claims)
		}
		sig, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, (&jose.SignerOptions{}).WithHeader("kid", "k1"))
		payload, _ := json.Marshal(claims)
		jws, _ := sig.Sign(payload)
		idt, _ := jws.CompactSerialize()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"access_token": "at", "token_type": "Bearer", "expires_in": 3600, "id_token": idt})
	})
	f.Server = httptest.NewServer(mux)
	t.Cleanup(f.Close)
	return f
}

func (f *fakeIdP) setShape(fn func(map[string]any)) { f.mu.Lock(); f.shape = fn; f.mu.Unlock() }

// upstreamEnv is the sign-in pages with a manage.Service, a customer acme
// and a provider for acme.test pointing at a fakeIdP.
type upstreamEnv struct {
	*server
	svc      *manage.Service
	idp      *fakeIdP
	provider directory.IdentityProvider
	acme     directory.Customer
}

func newUpstreamEnv(t *testing.T, dsn string) *upstreamEnv {
	ctx := context.Background()
	db := openDB(t, dsn)
	h := auth.Hasher{Params: fastParams}
	if _, err := manage.Bootstrap(ctx, db, h, "admin password 1"); err != nil {
		t.Fatal(err)
	}
	secrets, _ := seal.New([32]byte{1}, "test secrets")
	state, _ := seal.New([32]byte{1}, "test state")
	svc := &manage.Service{Store: db, Hasher: h, Now: time.Now, IdPSecrets: secrets, InsecureIssuer: true}
	up := &signin.Upstream{Manage: svc, State: state}
	srv := newServer(t, db, func(c *signin.Config) { c.Upstream = up })
	srv.auth.PasswordAllowed = svc.PasswordAllowed
	up.BaseURL = srv.URL
	f := newFakeIdP(t)
	sys := manage.SystemCaller("test", "test")
	acme, err := svc.CreateCustomer(ctx, sys, directory.Customer{Code: "acme", Name: "Acme", State: directory.CustomerValid})
	if err != nil {
		t.Fatal(err)
	}
	name, client, secret := "Acme IdP", "platform", "s3cret"
	p, err := svc.CreateIdentityProvider(ctx, sys, manage.ProviderPatch{Name: &name, Issuer: &f.URL, ClientID: &client,
		ClientSecret: &secret, CustomerID: &acme.ID, Domains: &[]string{"acme.test"}, AutoCreate: ptrTo(true)})
	if err != nil {
		t.Fatal(err)
	}
	return &upstreamEnv{server: srv, svc: svc, idp: f, provider: p, acme: acme}
}

func ptrTo[T any](v T) *T { return &v }

// start posts the mail alone to /login and follows the redirects (through
// the fake provider and back).
func (e *upstreamEnv) start(b *browser, mail string) (int, string) {
	b.get("/login")
	return b.post("/login", url.Values{"username": {mail}, "password": {""}, "next": {"/account"}})
}

func (e *upstreamEnv) signedIn(t *testing.T, b *browser) bool {
	code, _ := b.get("/api/whoami")
	return code == http.StatusOK
}

func TestUpstreamSignInFailures(t *testing.T) {
	t.Parallel()
	databases(t, func(t *testing.T, dsn string) {
		e := newUpstreamEnv(t, dsn)
		ctx := context.Background()
		failed := "Signing in with your organisation"

		// The happy path: created in acme, signed in with amr fed.
		b := newBrowser(t, e.URL)
		code, body := e.start(b, "Hana@ACME.test")
		if code != http.StatusOK || !e.signedIn(t, b) {
			t.Fatalf("happy path: %d\n%s", code, body)
		}
		hana, err := e.db.GetUserByLogin(ctx, "hana@acme.test")
		if err != nil || hana.CustomerID != e.acme.ID {
			t.Fatalf("created %+v %v", hana, err)
		}
		sess, _ := e.auth.Session(ctx, b.cookie(signin.SessionCookie))
		if sess.Method != store.MethodUpstream {
			t.Fatalf("session method %q", sess.Method)
		}

		// Replaying the callback: the state cookie was used up.
		code, body = b.get(strings.TrimPrefix(e.idp.lastBack, e.URL))
		if code != http.StatusUnauthorized || !strings.Contains(body, failed) {
			t.Fatalf("replay: %d\n%s", code, body)
		}
		// A callback in another browser (no state cookie) fails.
		other := newBrowser(t, e.URL)
		if code, _ := other.get(strings.TrimPrefix(e.idp.lastBack, e.URL)); code != http.StatusUnauthorized || e.signedIn(t, other) {
			t.Fatalf("foreign browser: %d", code)
		}

		// Each failure: one answer, nobody signed in.
		cases := []struct {
			name  string
			shape func(c map[string]any)
			state string
		}{
			{"wrong state", nil, "forged-state"},
			{"another issuer", func(c map[string]any) { c["iss"] = "https://evil.example" }, ""},
			{"expired ID token", func(c map[string]any) {
				c["exp"], c["iat"] = time.Now().Add(-time.Hour).Unix(), time.Now().Add(-2*time.Hour).Unix()
			}, ""},
			{"bad nonce", func(c map[string]any) { c["nonce"] = "other-nonce" }, ""},
			{"another audience", func(c map[string]any) { c["aud"] = "someone-else" }, ""},
			{"mail not verified", func(c map[string]any) { c["sub"], c["email"], c["email_verified"] = "up-2", "ken@acme.test", false }, ""},
			{"mail verified as a string false", func(c map[string]any) { c["sub"], c["email"], c["email_verified"] = "up-2", "ken@acme.test", "false" }, ""},
			{"mail of another domain", func(c map[string]any) { c["sub"], c["email"] = "up-3", "ken@globex.test" }, ""},
		}
		for _, tc := range cases {
			e.idp.setShape(tc.shape)
			e.idp.mu.Lock()
			e.idp.state = tc.state
			e.idp.mu.Unlock()
			b := newBrowser(t, e.URL)
			code, body := e.start(b, "hana@acme.test")
			if code != http.StatusUnauthorized || !strings.Contains(body, failed) || e.signedIn(t, b) {
				t.Errorf("%s: %d signed in %v\n%s", tc.name, code, e.signedIn(t, b), body)
			}
		}
		e.idp.setShape(nil)
		e.idp.mu.Lock()
		e.idp.state = ""
		e.idp.mu.Unlock()
		if _, err := e.db.GetUserByLogin(ctx, "ken@acme.test"); err == nil {
			t.Fatal("an unverified mail created a user")
		}

		// A mail whose domain belongs to no provider, with an empty
		// password, gets the ordinary failure, the same for a user that
		// exists and one that does not.
		createUser(t, e.db, e.auth.Hasher, "taro", "a long password 1", false) // taro@example.test
		for _, mail := range []string{"taro@example.test", "nobody@example.test"} {
			b := newBrowser(t, e.URL)
			code, body := e.start(b, mail)
			if code != http.StatusUnauthorized || !strings.Contains(body, "The user name, password or code is wrong") {
				t.Fatalf("%s: %d\n%s", mail, code, body)
			}
		}

		// A disabled local user stays refused with a valid upstream sign-in.
		sys := manage.SystemCaller("test", "test")
		if _, err := e.svc.SetEnabled(ctx, sys, directory.Scope{}, hana.ID, false); err != nil {
			t.Fatal(err)
		}
		b = newBrowser(t, e.URL)
		if code, body := e.start(b, "hana@acme.test"); code != http.StatusUnauthorized || e.signedIn(t, b) {
			t.Fatalf("disabled user: %d\n%s", code, body)
		}
		if _, err := e.svc.SetEnabled(ctx, sys, directory.Scope{}, hana.ID, true); err != nil {
			t.Fatal(err)
		}

		// A disabled provider: the mail is no longer sent there, and a
		// flow begun before it was disabled is refused at the callback.
		b = newBrowser(t, e.URL)
		b.c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
			if strings.HasPrefix(req.URL.String(), e.URL+"/login/idp/") {
				return http.ErrUseLastResponse
			}
			return nil
		}
		e.start(b, "hana@acme.test") // stops before the callback
		if _, err := e.svc.UpdateIdentityProvider(ctx, sys, e.provider.ID, 0, manage.ProviderPatch{Enabled: ptrTo(false)}); err != nil {
			t.Fatal(err)
		}
		b.c.CheckRedirect = nil
		if code, _ := b.get(strings.TrimPrefix(e.idp.lastBack, e.URL)); code != http.StatusUnauthorized || e.signedIn(t, b) {
			t.Fatalf("disabled provider at the callback: %d", code)
		}
		b = newBrowser(t, e.URL)
		if code, body := e.start(b, "hana@acme.test"); code != http.StatusUnauthorized || !strings.Contains(body, "The user name, password or code is wrong") {
			t.Fatalf("disabled provider: %d\n%s", code, body)
		}

		// Mandatory: hana's local password is refused; user name and
		// password of another user still work (the page works both ways).
		if _, err := e.svc.UpdateIdentityProvider(ctx, sys, e.provider.ID, 0, manage.ProviderPatch{Enabled: ptrTo(true), Mandatory: ptrTo(true)}); err != nil {
			t.Fatal(err)
		}
		hash, _ := e.auth.Hasher.Hash("hana local password")
		if err := e.db.SetPasswordHash(ctx, hana.ID, hash); err != nil {
			t.Fatal(err)
		}
		b = newBrowser(t, e.URL)
		b.c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		b.get("/login")
		code, _ = b.post("/login", url.Values{"username": {"hana@acme.test"}, "password": {"hana local password"}})
		if code != http.StatusSeeOther {
			t.Fatalf("mandatory provider with a password: %d, want the redirect to the provider", code)
		}
		if _, _, err := e.auth.SignIn(ctx, hana.Username, "hana local password", auth.Source{}); err != auth.ErrInvalidCredentials {
			t.Fatalf("mandatory provider: the local password itself: %v", err)
		}
		b = newBrowser(t, e.URL)
		if code, _ := b.signIn("taro", "a long password 1"); code != http.StatusOK || !e.signedIn(t, b) {
			t.Fatalf("local user: %d", code)
		}

		// A deleted local user stays refused whatever the upstream says:
		// auto_create does not make a new user for its upstream account.
		if _, err := e.svc.UpdateIdentityProvider(ctx, sys, e.provider.ID, 0, manage.ProviderPatch{Mandatory: ptrTo(false)}); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.DeleteUser(ctx, sys, directory.Scope{}, hana.ID, 0); err != nil {
			t.Fatal(err)
		}
		b = newBrowser(t, e.URL)
		if code, body := e.start(b, "hana@acme.test"); code != http.StatusUnauthorized || !strings.Contains(body, failed) || e.signedIn(t, b) {
			t.Fatalf("deleted user: %d\n%s", code, body)
		}
		if u, err := e.db.GetUserByLogin(ctx, "hana@acme.test"); err == nil {
			t.Fatalf("the upstream sign-in of a deleted user created %+v", u)
		}
	})
}
