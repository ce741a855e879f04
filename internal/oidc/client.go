package oidc

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"net/url"
	"slices"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"opsiam/internal/store"
)

// Grant types a client may be given (SPEC §7 grant_types).
const (
	GrantAuthorizationCode = string(oidc.GrantTypeCode)
	GrantRefreshToken      = string(oidc.GrantTypeRefreshToken)
	GrantClientCredentials = string(oidc.GrantTypeClientCredentials)
)

// client adapts a stored client to op.Client.
type client struct {
	c          store.OIDCClient
	loginPath  string
	idLifetime time.Duration
}

var _ op.Client = client{}

func (c client) GetID() string                    { return c.c.ID }
func (c client) RedirectURIs() []string           { return c.c.RedirectURIs }
func (c client) PostLogoutRedirectURIs() []string { return c.c.PostLogoutRedirectURIs }

// ApplicationType: a public client is native (loopback http or https
// redirects, no secret); a confidential one is a web application.
func (c client) ApplicationType() op.ApplicationType {
	if c.c.Public {
		return op.ApplicationTypeNative
	}
	return op.ApplicationTypeWeb
}

func (c client) AuthMethod() oidc.AuthMethod {
	if c.c.Public {
		return oidc.AuthMethodNone
	}
	return oidc.AuthMethodBasic
}

func (c client) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}

func (c client) GrantTypes() []oidc.GrantType {
	out := make([]oidc.GrantType, len(c.c.GrantTypes))
	for i, g := range c.c.GrantTypes {
		out[i] = oidc.GrantType(g)
	}
	return out
}

func (c client) LoginURL(id string) string { return c.loginPath + "?id=" + url.QueryEscape(id) }

// AccessTokenType: a service client (client_credentials only) gets JWT
// access tokens that resource servers verify on their own. A client that
// signs users in gets opaque access tokens, which userinfo and
// introspection check against the database on every use, so that a
// disabled user's tokens stop working at once (U7) and each refresh costs
// one signature (the ID token).
func (c client) AccessTokenType() op.AccessTokenType {
	if len(c.c.GrantTypes) == 1 && c.c.GrantTypes[0] == GrantClientCredentials {
		return op.AccessTokenTypeJWT
	}
	return op.AccessTokenTypeBearer
}
func (c client) IDTokenLifetime() time.Duration { return c.idLifetime }
func (c client) DevMode() bool                  { return false }
func (c client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c client) IsScopeAllowed(string) bool { return false }

// IDTokenUserinfoClaimsAssertion puts the profile and email claims in the
// ID token too, so relying parties need not call userinfo (S2).
func (c client) IDTokenUserinfoClaimsAssertion() bool { return true }
func (c client) ClockSkew() time.Duration             { return 0 }

func (c client) hasGrant(g string) bool { return slices.Contains(c.c.GrantTypes, g) }

// NewSecret returns a client secret of 256 random bits and its hash.
// Secrets are long and random, so a fast hash (SHA-256) is enough and keeps
// the token endpoint fast; a password hash like argon2id would only slow
// every token request without adding strength.
func NewSecret() (secret, hash string, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", "", err
	}
	secret = base64.RawURLEncoding.EncodeToString(b)
	return secret, HashSecret(secret), nil
}

// HashSecret is the stored form of a client secret, code or refresh token.
func HashSecret(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// secretMatches compares a presented secret with a stored hash in constant time.
func secretMatches(hash, secret string) bool {
	if hash == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(hash), []byte(HashSecret(secret))) == 1
}

// randomToken returns 256 random bits, URL-safe.
func randomToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
