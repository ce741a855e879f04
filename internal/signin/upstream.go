package signin

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"opsiam/internal/auth"
	"opsiam/internal/directory"
	"opsiam/internal/manage"
	"opsiam/internal/seal"
	"opsiam/internal/store"
)

// Upstream sends the users of a customer's own OpenID Connect provider
// there to sign in (issue 18): /login with a mail address of one of its
// domains redirects to the provider (authorization code with PKCE, state
// and nonce), and /login/idp/{id}/callback verifies the ID token with
// go-oidc (discovery, JWKS, issuer, audience, expiry) before manage
// decides who signs in.
type Upstream struct {
	Manage *manage.Service
	// BaseURL is the server's public URL (the issuer); the redirect URI
	// registered at the provider is BaseURL/login/idp/{id}/callback.
	BaseURL string
	// State seals the flow's state cookie (state, nonce, PKCE verifier,
	// next) under a key derived from the key-encryption key.
	State *seal.Box
	// Client talks to the providers; nil: a client with a 10 s timeout.
	Client *http.Client
	Now    func() time.Time

	mu    sync.Mutex
	cache map[string]*oidc.Provider // by provider id and issuer
}

// upstreamCookie holds the sealed flow state; its path limits it to the
// callback. SameSite=Lax: the provider's redirect back is a top-level GET.
const (
	upstreamCookie   = "opsiam_idp"
	upstreamStateTTL = 10 * time.Minute
	upstreamStateAD  = "opsiam upstream state"
)

// flowState is what the state cookie carries.
type flowState struct {
	Provider string `json:"p"`
	State    string `json:"s"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
	Next     string `json:"x"`
	Expires  int64  `json:"e"`
}

func (u *Upstream) now() time.Time {
	if u.Now == nil {
		return time.Now()
	}
	return u.Now()
}

func (u *Upstream) client() *http.Client {
	if u.Client == nil {
		return &http.Client{Timeout: 10 * time.Second}
	}
	return u.Client
}

// provider returns the go-oidc provider of p, fetching its discovery
// document once (go-oidc caches its JWKS and refreshes it on an unknown key).
func (u *Upstream) provider(ctx context.Context, p directory.IdentityProvider) (*oidc.Provider, error) {
	key := p.ID + " " + p.Issuer
	u.mu.Lock()
	op, ok := u.cache[key]
	u.mu.Unlock()
	if ok {
		return op, nil
	}
	// The provider keeps the context for its later JWKS fetches: only the
	// client, never the request's cancellation.
	op, err := oidc.NewProvider(oidc.ClientContext(context.WithoutCancel(ctx), u.client()), p.Issuer)
	if err != nil {
		return nil, err
	}
	u.mu.Lock()
	if u.cache == nil {
		u.cache = map[string]*oidc.Provider{}
	}
	u.cache[key] = op
	u.mu.Unlock()
	return op, nil
}

func (u *Upstream) oauth(ctx context.Context, p directory.IdentityProvider, op *oidc.Provider) (*oauth2.Config, error) {
	secret, err := u.Manage.IdentityProviderSecret(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	return &oauth2.Config{ClientID: p.ClientID, ClientSecret: secret, Endpoint: op.Endpoint(),
		RedirectURL: u.BaseURL + "/login/idp/" + url.PathEscape(p.ID) + "/callback", Scopes: p.Scopes}, nil
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// beginUpstream sends the browser to provider p with a new state, nonce
// and PKCE verifier kept in the sealed cookie, the mail as login_hint.
func (h *Handler) beginUpstream(w http.ResponseWriter, r *http.Request, v *view, p directory.IdentityProvider, login string) error {
	u := h.cfg.Upstream
	ctx := r.Context()
	op, err := u.provider(ctx, p)
	if err == nil {
		var cfg *oauth2.Config
		if cfg, err = u.oauth(ctx, p, op); err == nil {
			st := flowState{Provider: p.ID, State: randomToken(), Nonce: randomToken(), Verifier: oauth2.GenerateVerifier(),
				Next: v.Next, Expires: u.now().Add(upstreamStateTTL).Unix()}
			raw, _ := json.Marshal(st)
			var sealed string
			if sealed, err = u.State.Seal(upstreamStateAD, string(raw)); err == nil {
				http.SetCookie(w, &http.Cookie{Name: upstreamCookie, Value: sealed, Path: "/login/idp/", MaxAge: int(upstreamStateTTL.Seconds()),
					HttpOnly: true, Secure: h.cfg.Secure, SameSite: http.SameSiteLaxMode})
				http.Redirect(w, r, cfg.AuthCodeURL(st.State, oauth2.S256ChallengeOption(st.Verifier), oidc.Nonce(st.Nonce),
					oauth2.SetAuthURLParam("login_hint", login)), http.StatusSeeOther)
				return nil
			}
		}
	}
	h.cfg.Log.WarnContext(ctx, "identity provider unavailable", "provider", p.ID, "issuer", p.Issuer, "err", err)
	v.Error = v.T("upstream.unavailable")
	h.render(w, http.StatusBadGateway, "login", v)
	return nil
}

// upstreamFailed answers every refused callback alike (no user
// enumeration); the cause goes to the log and, for refusals by the
// rules, to the audit log (manage).
func (h *Handler) upstreamFailed(w http.ResponseWriter, r *http.Request, v *view, cause string, err error) error {
	h.cfg.Log.InfoContext(r.Context(), "upstream sign-in failed", "provider", r.PathValue("id"), "cause", cause, "err", err)
	v.Error = v.T("upstream.failed")
	h.render(w, http.StatusUnauthorized, "login", v)
	return nil
}

// getUpstreamCallback finishes an upstream sign-in: the state cookie must
// be this browser's, unexpired, for this provider and with this state
// (then it is cleared, so a replay fails); the code is exchanged with the
// PKCE verifier; the ID token is verified by go-oidc and must carry the
// nonce. manage then links or creates the user, and auth opens the session.
func (h *Handler) getUpstreamCallback(w http.ResponseWriter, r *http.Request, v *view) error {
	u := h.cfg.Upstream
	ctx := r.Context()
	id := r.PathValue("id")
	http.SetCookie(w, &http.Cookie{Name: upstreamCookie, Value: "", Path: "/login/idp/", MaxAge: -1, HttpOnly: true,
		Secure: h.cfg.Secure, SameSite: http.SameSiteLaxMode})
	var st flowState
	c, err := r.Cookie(upstreamCookie)
	if err != nil {
		return h.upstreamFailed(w, r, v, "no state cookie", err)
	}
	raw, err := u.State.Open(upstreamStateAD, c.Value)
	if err == nil {
		err = json.Unmarshal([]byte(raw), &st)
	}
	q := r.URL.Query()
	switch {
	case err != nil:
		return h.upstreamFailed(w, r, v, "unreadable state cookie", err)
	case u.now().Unix() > st.Expires:
		return h.upstreamFailed(w, r, v, "state expired", nil)
	case st.Provider != id:
		return h.upstreamFailed(w, r, v, "state of another provider", nil)
	case subtle.ConstantTimeCompare([]byte(st.State), []byte(q.Get("state"))) != 1:
		return h.upstreamFailed(w, r, v, "state mismatch", nil)
	case q.Get("error") != "":
		return h.upstreamFailed(w, r, v, "provider answered "+q.Get("error"), nil)
	case q.Get("code") == "":
		return h.upstreamFailed(w, r, v, "no code", nil)
	}
	v.Next = st.Next
	p, err := u.Manage.Store.GetIdentityProvider(ctx, id)
	if err != nil || !p.Enabled {
		return h.upstreamFailed(w, r, v, "provider missing or disabled", err)
	}
	op, err := u.provider(ctx, p)
	if err != nil {
		return h.upstreamFailed(w, r, v, "discovery", err)
	}
	cfg, err := u.oauth(ctx, p, op)
	if err != nil {
		return err
	}
	cctx := oidc.ClientContext(ctx, u.client())
	tok, err := cfg.Exchange(cctx, q.Get("code"), oauth2.VerifierOption(st.Verifier))
	if err != nil {
		return h.upstreamFailed(w, r, v, "code exchange", err)
	}
	rawID, _ := tok.Extra("id_token").(string)
	if rawID == "" {
		return h.upstreamFailed(w, r, v, "no id_token", nil)
	}
	idt, err := op.VerifierContext(cctx, &oidc.Config{ClientID: p.ClientID, Now: u.now}).Verify(cctx, rawID)
	if err != nil {
		return h.upstreamFailed(w, r, v, "id_token", err)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(st.Nonce)) != 1 {
		return h.upstreamFailed(w, r, v, "nonce mismatch", nil)
	}
	claims, err := upstreamClaims(cctx, op, idt, tok)
	if err != nil {
		return h.upstreamFailed(w, r, v, "claims", err)
	}
	user, err := u.Manage.UpstreamSignIn(ctx, p.ID, claims, source(r).Address)
	if errors.Is(err, manage.ErrUpstreamRefused) {
		return h.upstreamFailed(w, r, v, "refused", err)
	}
	if err != nil {
		return err
	}
	return h.finishVerified(w, r, v, user)
}

// upstreamClaims reads sub, email, email_verified and the names from the
// ID token, and from userinfo when the token carries no mail (its sub
// must be the token's, OIDC Core §5.3.2). email_verified may be a JSON
// boolean or the string "true" (some providers send strings).
func upstreamClaims(ctx context.Context, op *oidc.Provider, idt *oidc.IDToken, tok *oauth2.Token) (directory.UpstreamClaims, error) {
	var raw struct {
		Email         string          `json:"email"`
		EmailVerified json.RawMessage `json:"email_verified"`
		GivenName     string          `json:"given_name"`
		FamilyName    string          `json:"family_name"`
		Name          string          `json:"name"`
	}
	if err := idt.Claims(&raw); err != nil {
		return directory.UpstreamClaims{}, err
	}
	if raw.Email == "" && op.UserInfoEndpoint() != "" {
		info, err := op.UserInfo(ctx, oauth2.StaticTokenSource(tok))
		if err != nil {
			return directory.UpstreamClaims{}, err
		}
		if info.Subject != idt.Subject {
			return directory.UpstreamClaims{}, errors.New("userinfo is about another subject")
		}
		if err := info.Claims(&raw); err != nil {
			return directory.UpstreamClaims{}, err
		}
	}
	verified := string(raw.EmailVerified) == "true" || string(raw.EmailVerified) == `"true"`
	return directory.UpstreamClaims{Subject: idt.Subject, Email: raw.Email, EmailVerified: verified,
		GivenName: raw.GivenName, FamilyName: raw.FamilyName, Name: raw.Name}, nil
}

// finishVerified opens the session of a user proven upstream (amr fed)
// and goes on to the flow's target.
func (h *Handler) finishVerified(w http.ResponseWriter, r *http.Request, v *view, user directory.User) error {
	ctx := r.Context()
	old := sessionToken(r)
	token, sess, err := h.cfg.Auth.SignInVerified(ctx, user, store.MethodUpstream, source(r))
	if errors.Is(err, auth.ErrInvalidCredentials) {
		return h.upstreamFailed(w, r, v, "session refused", err)
	}
	if err != nil {
		return err
	}
	if old != "" {
		_ = h.cfg.Auth.SignOut(ctx, old, source(r))
	}
	h.setSession(w, token)
	http.Redirect(w, r, localPath(v.Next, h.home(ctx, sess.UserID)), http.StatusSeeOther)
	return nil
}
