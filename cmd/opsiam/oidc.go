package main

import (
	"context"
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	jose "github.com/go-jose/go-jose/v4"

	"opsiam/internal/auth"
	"opsiam/internal/directory"
	"opsiam/internal/manage"
	"opsiam/internal/oidc"
	"opsiam/internal/signin"
	"opsiam/internal/store"
)

// keyEncryptionKey returns the configured key-encryption key, or the one
// in DATA-DIR/key-encryption-key, created (mode 0600) on first start.
func keyEncryptionKey(e *env) ([32]byte, error) {
	if e.cfg.KeyEncryptionKey != "" {
		return oidc.ParseKEK(string(e.cfg.KeyEncryptionKey))
	}
	if err := os.MkdirAll(e.cfg.DataDir, 0o700); err != nil {
		return [32]byte{}, fmt.Errorf("data directory: %w", err)
	}
	path := filepath.Join(e.cfg.DataDir, "key-encryption-key")
	k, created, err := oidc.LoadOrCreateKEKFile(path)
	if err != nil {
		return k, fmt.Errorf("key-encryption-key: %w", err)
	}
	if created {
		e.log.Info("generated the key-encryption key of the OpenID Connect signing keys", "file", path)
	}
	if !e.cfg.UsesSQLite() {
		e.log.Warn("no --key-encryption-key given on PostgreSQL: using the data directory's key file; every replica needs the same key", "file", path)
	}
	return k, nil
}

// sessionCookie is the platform session's cookie.
func sessionCookie(r *http.Request) string {
	if c, err := r.Cookie(signin.SessionCookie); err == nil {
		return c.Value
	}
	return ""
}

// sessionKey is the key the sid claim is derived from: the stored hash of
// the session cookie, so that the provider can find a session by its sid
// (platformSessions) while the claim reveals nothing of the cookie.
func sessionKey(r *http.Request) string {
	if c := sessionCookie(r); c != "" {
		return auth.HashToken(c)
	}
	return ""
}

// platformSessions lets the provider find and end sign-in sessions by sid
// (oidc.PlatformSessions).
type platformSessions struct{ auth *auth.Service }

func (p platformSessions) find(ctx context.Context, user, sid string) (store.Session, error) {
	return p.auth.SessionOfSID(ctx, directory.UserID(user), sid)
}

func (p platformSessions) Live(ctx context.Context, user, sid string) (bool, error) {
	_, err := p.find(ctx, user, sid)
	if errors.Is(err, auth.ErrNoSession) {
		return false, nil
	}
	return err == nil, err
}

func (p platformSessions) End(ctx context.Context, user, sid, source string) error {
	sess, err := p.find(ctx, user, sid)
	if errors.Is(err, auth.ErrNoSession) {
		return nil
	}
	if err != nil {
		return err
	}
	return p.auth.EndSession(ctx, sess, auth.Source{Address: source})
}

// platformLogout lets signing out of the platform (POST /logout of the
// sign-in pages) reach every application (A5): when the request ended a
// live session, the provider ends that session's sign-ins and queues the
// back-channel logout tokens.
func platformLogout(next http.Handler, prov *oidc.Provider, pages *signin.Handler, log interface {
	Error(msg string, args ...any)
}) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/logout" {
			next.ServeHTTP(w, r)
			return
		}
		key := sessionKey(r)
		_, wasIn, _ := pages.SessionUser(r)
		next.ServeHTTP(w, r)
		if !wasIn {
			return
		}
		if _, still, err := pages.SessionUser(r); err != nil || still {
			return // refused (form token) or failed: the session lives on
		}
		if err := prov.EndPlatformSession(r.Context(), key); err != nil {
			log.Error("oidc logout after platform sign-out", "err", err)
		}
	})
}

// buildOIDC makes the OpenID Connect provider on the sign-in pages'
// session: it reads the platform session, sends browsers to /login, and
// ends the session on RP-initiated logout. It mounts the endpoints on mux.
func buildOIDC(ctx context.Context, e *env, kek [32]byte, issuer string, sign *signinParts, mux *http.ServeMux) (*oidc.Provider, error) {
	// One-time code secrets are encrypted at rest under a key derived from
	// the key-encryption key for that purpose only.
	otpKey, err := hkdf.Key(sha256.New, kek[:], nil, "opsiam otp secrets", 32)
	if err != nil {
		return nil, err
	}
	sign.Auth.SecretKey = (*[32]byte)(otpKey)
	secure := strings.HasPrefix(issuer, "https://")
	prov, err := oidc.New(oidc.Config{
		Issuer: issuer, AllowInsecure: e.cfg.InsecureIssuer, KEK: kek, Store: e.db,
		Graphs: &manage.RoleGraphs{Store: e.db}, Log: e.log, KeyRotation: e.cfg.SigningKeyRotation,
		Sessions:   func(r *http.Request) (directory.UserID, bool, error) { return sign.Pages.SessionUser(r) },
		SessionKey: sessionKey,
		SessionInfo: func(r *http.Request) oidc.SessionInfo {
			if _, sess, err := sign.Auth.SignedIn(r.Context(), sessionCookie(r)); err == nil {
				return oidc.SessionInfo{AuthTime: sess.CreatedAt, End: sess.ExpiresAt, AMR: oidc.AMROf(sess.MFA, sess.Method)}
			}
			return oidc.SessionInfo{}
		},
		PlatformSessions:     platformSessions{auth: sign.Auth},
		RefreshTokenLifetime: e.cfg.Auth.SessionMax,
		SigningAlgorithms:    oidc.SigningAlgorithms,
		DefaultSigningAlg:    jose.SignatureAlgorithm(e.cfg.DefaultSigningAlg),
		OfflineTokenLifetime: e.cfg.Auth.OfflineTokenMax,
		LoginURL:             func(ret string) string { return "/login?next=" + url.QueryEscape(ret) },
		ReauthURL:            func(ret string) string { return "/login?reauth=1&next=" + url.QueryEscape(ret) },
		EndSession: func(w http.ResponseWriter, r *http.Request) error {
			c, err := r.Cookie(signin.SessionCookie)
			if err != nil || c.Value == "" {
				return nil
			}
			host, _, _ := net.SplitHostPort(r.RemoteAddr)
			if err := sign.Auth.SignOut(r.Context(), c.Value, auth.Source{Address: host}); err != nil {
				return err
			}
			http.SetCookie(w, &http.Cookie{Name: signin.SessionCookie, Value: "", Path: "/", MaxAge: -1,
				HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode})
			return nil
		},
	})
	if err != nil {
		return nil, fmt.Errorf("%w (set --issuer to the server's public https URL, or --insecure-issuer for development)", err)
	}
	if err := prov.Maintain(ctx); err != nil {
		if errors.Is(err, oidc.ErrWrongKEK) {
			return nil, err
		}
		return nil, fmt.Errorf("oidc signing keys: %w", err)
	}
	prov.Mount(mux)
	return prov, nil
}
