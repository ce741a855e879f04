package oidc

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	jose "github.com/go-jose/go-jose/v4"
)

// Bounds of an authorization request, checked before anything is stored
// (issue 12, defect 12): /authorize is open to anyone, and each request is
// kept in the database until it expires.
const (
	MaxAuthorizeParam = 2 << 10  // bytes of one parameter value
	MaxAuthorizeQuery = 16 << 10 // bytes of all parameters together
)

// guardAuthorize checks what the library leaves loose at /authorize: the
// size of every parameter, and, for a public client, that a redirect URI
// that is not registered exactly differs from a registered loopback URI
// only in its port (RFC 8252 §7.3; issue 12, defect 7). Refusals are 400
// pages: the redirect URI is not trusted, so nothing is sent there.
func (p *Provider) guardAuthorize(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != p.prefix+"/authorize" {
			next.ServeHTTP(w, r)
			return
		}
		if len(r.URL.RawQuery) > MaxAuthorizeQuery {
			badAuthorize(w, r, "the request is larger than %d bytes", MaxAuthorizeQuery)
			return
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, MaxAuthorizeQuery)
		}
		if err := r.ParseForm(); err != nil {
			badAuthorize(w, r, "the request is larger than %d bytes or malformed", MaxAuthorizeQuery)
			return
		}
		for name, vs := range r.Form {
			for _, v := range vs {
				if len(v) > MaxAuthorizeParam || len(name) > 64 {
					badAuthorize(w, r, "parameter %q is longer than %d bytes", truncate(name, 64), MaxAuthorizeParam)
					return
				}
				if !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
					badAuthorize(w, r, "parameter %q is not valid UTF-8 text", truncate(name, 64))
					return
				}
			}
		}
		if msg := p.checkRedirect(r); msg != "" {
			badAuthorize(w, r, "%s", msg)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// checkRedirect returns why the redirect URI of a public client's request
// is refused, or "".
func (p *Provider) checkRedirect(r *http.Request) string {
	id, uri := r.Form.Get("client_id"), r.Form.Get("redirect_uri")
	if id == "" || uri == "" {
		return "" // the library answers a missing one
	}
	c, err := p.storage.getClient(r.Context(), id)
	if err != nil || !c.Public || slices.Contains(c.RedirectURIs, uri) {
		return ""
	}
	for _, reg := range c.RedirectURIs {
		if loopbackMatch(reg, uri) {
			return ""
		}
	}
	return "redirect_uri is not registered for this client"
}

// loopbackMatch reports whether uri is the registered loopback redirect
// URI reg with another port: both http, on the same loopback IP literal
// (not localhost), with the same path, byte for byte, the same query, and
// no fragment or user information.
func loopbackMatch(reg, uri string) bool {
	a, err1 := url.Parse(reg)
	b, err2 := url.Parse(uri)
	if err1 != nil || err2 != nil || a.Scheme != "http" || b.Scheme != "http" {
		return false
	}
	ip := net.ParseIP(a.Hostname())
	if ip == nil || !ip.IsLoopback() || a.Hostname() != b.Hostname() {
		return false
	}
	if b.User != nil || b.Fragment != "" || strings.Contains(uri, "#") || b.Opaque != "" {
		return false
	}
	if port := b.Port(); port == "" || strings.TrimLeft(port, "0123456789") != "" {
		return false
	}
	return a.EscapedPath() == b.EscapedPath() && a.RawPath == b.RawPath && a.RawQuery == b.RawQuery &&
		!b.ForceQuery && a.ForceQuery == b.ForceQuery
}

func badAuthorize(w http.ResponseWriter, r *http.Request, format string, args ...any) {
	w.Header().Set("Cache-Control", "no-store")
	http.Error(w, "invalid_request: "+fmt.Sprintf(format, args...), http.StatusBadRequest)
}

// noStore marks the answers of the token and introspection endpoints as
// not to be cached (RFC 6749 §5.1; issue 12, defect 9).
func noStore(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Pragma", "no-cache")
		next.ServeHTTP(w, r)
	})
}

// scopeKey is the context key of a token request's *scopeFix.
type scopeKey struct{}

// scopeFix is set by Storage when it issued a session refresh token for a
// request that did not ask for offline_access: the library then reports
// the offline_access that authRequest.GetScopes adds for it, and answer
// removes it from the response.
type scopeFix struct{ strip bool }

// answer buffers the library's response to put it right before it is
// sent: with tokens, the token response's scope becomes the one granted
// (scopeFix); and a 5xx becomes 503 with Retry-After when the database is
// what failed (issue 14), since the library hides the cause. The store's
// readiness is asked only after a 5xx.
func (p *Provider) answer(next http.Handler, tokens bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fix := &scopeFix{}
		if tokens {
			r = r.WithContext(context.WithValue(r.Context(), scopeKey{}, fix))
		}
		rec := &bufferedWriter{header: http.Header{}, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		body := rec.body.Bytes()
		switch {
		case rec.status >= 500 && p.cfg.Store.Ready(r.Context()) != nil:
			rec.status = http.StatusServiceUnavailable
			rec.header.Set("Retry-After", "5")
			rec.header.Set("Content-Type", "application/json")
			body, _ = json.Marshal(map[string]string{"error": "temporarily_unavailable",
				"error_description": "the database is unavailable; retry shortly"})
		case fix.strip && rec.status == http.StatusOK:
			body = withoutOfflineAccess(body)
		}
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(rec.status)
		_, _ = w.Write(body)
	})
}

// withoutOfflineAccess removes offline_access from a token response's scope.
func withoutOfflineAccess(body []byte) []byte {
	var m map[string]any
	if json.Unmarshal(body, &m) != nil {
		return body
	}
	sc, ok := m["scope"].(string)
	if !ok {
		return body
	}
	m["scope"] = strings.Join(slices.DeleteFunc(strings.Fields(sc), func(s string) bool { return s == "offline_access" }), " ")
	if b, err := json.Marshal(m); err == nil {
		return b
	}
	return body
}

// bufferedWriter keeps a response to change it before it is sent.
type bufferedWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedWriter) Header() http.Header         { return b.header }
func (b *bufferedWriter) WriteHeader(status int)      { b.status = status }
func (b *bufferedWriter) Write(p []byte) (int, error) { return b.body.Write(p) }

// bearerChallenge adds the WWW-Authenticate header of RFC 6750 §3 to the
// userinfo endpoint's refusals: without a token a bare challenge, with a
// bad one (revoked, expired, its user disabled) error="invalid_token",
// always as 401.
func bearerChallenge(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(&challengeWriter{ResponseWriter: w, hasToken: r.Header.Get("Authorization") != "" ||
			r.FormValue("access_token") != ""}, r)
	})
}

type challengeWriter struct {
	http.ResponseWriter
	hasToken bool
}

func (c *challengeWriter) WriteHeader(status int) {
	if status == http.StatusUnauthorized || status == http.StatusForbidden {
		h := `Bearer realm="opsiam"`
		if c.hasToken {
			h += `, error="invalid_token"`
		}
		c.Header().Set("WWW-Authenticate", h)
		c.Header().Set("Cache-Control", "no-store")
		status = http.StatusUnauthorized
	}
	c.ResponseWriter.WriteHeader(status)
}

// MaxTokenParam bounds one parameter of a token, introspection or
// revocation request; every token, code and secret of opsiam is far
// shorter.
const MaxTokenParam = 4 << 10

// guardToken refuses, before the library sees it, a token request that is
// too large, holds an overlong parameter or names a grant type opsiam does
// not offer, without repeating what the client sent (issue 14): the
// library would echo a 2 MiB grant_type back in error_description.
func guardToken(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		if err := r.ParseForm(); err != nil {
			tokenRefusal(w, "invalid_request", "the request is malformed or larger than 64 KiB")
			return
		}
		for name, vs := range r.Form {
			for _, v := range vs {
				if len(v) > MaxTokenParam || len(name) > 64 {
					tokenRefusal(w, "invalid_request", fmt.Sprintf("parameter %q is longer than %d bytes", truncate(name, 64), MaxTokenParam))
					return
				}
			}
		}
		if r.URL.Path == "/oauth/token" || strings.HasSuffix(r.URL.Path, "/oauth/token") {
			if g := r.Form.Get("grant_type"); g != "" && !slices.Contains(supportedGrantTypes, oidc.GrantType(g)) {
				tokenRefusal(w, "unsupported_grant_type", "the grant types offered are authorization_code, refresh_token and client_credentials")
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

func tokenRefusal(w http.ResponseWriter, code, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusBadRequest)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}

// withClientAlg puts the signing algorithm the token request's client
// chose (id_token_signed_response_alg) into the request's context, where
// Storage.SigningKey finds it: the library asks for one key per provider.
func (p *Provider) withClientAlg(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _, ok := r.BasicAuth()
		if !ok {
			id = r.PostFormValue("client_id")
		}
		if id != "" {
			if u, err := url.QueryUnescape(id); err == nil {
				id = u // RFC 6749 §2.3.1: basic credentials are form-encoded
			}
			if c, err := p.storage.getClient(r.Context(), id); err == nil && c.IDTokenAlg != "" {
				r = r.WithContext(context.WithValue(r.Context(), algKey{}, jose.SignatureAlgorithm(c.IDTokenAlg)))
			}
		}
		next.ServeHTTP(w, r)
	})
}
