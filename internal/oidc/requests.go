package oidc

import (
	"slices"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"opsiam/internal/store"
)

// authRequest adapts a stored auth request to op.AuthRequest.
type authRequest struct{ r store.OIDCAuthRequest }

var _ op.AuthRequest = authRequest{}

func (a authRequest) GetID() string  { return a.r.ID }
func (a authRequest) GetACR() string { return ACR(a.GetAMR()) }
func (a authRequest) GetAMR() []string {
	switch {
	case !a.r.Done:
		return nil
	case len(a.r.AMR) > 0:
		return a.r.AMR
	}
	return []string{AMRPassword}
}
func (a authRequest) GetAudience() []string  { return []string{a.r.ClientID} }
func (a authRequest) GetAuthTime() time.Time { return a.r.AuthTime }
func (a authRequest) GetClientID() string    { return a.r.ClientID }
func (a authRequest) GetCodeChallenge() *oidc.CodeChallenge {
	if a.r.CodeChallenge == "" {
		return nil
	}
	return &oidc.CodeChallenge{Challenge: a.r.CodeChallenge, Method: oidc.CodeChallengeMethod(a.r.CodeChallengeMethod)}
}
func (a authRequest) GetNonce() string                   { return a.r.Nonce }
func (a authRequest) GetRedirectURI() string             { return a.r.RedirectURI }
func (a authRequest) GetResponseType() oidc.ResponseType { return oidc.ResponseType(a.r.ResponseType) }
func (a authRequest) GetResponseMode() oidc.ResponseMode { return oidc.ResponseMode(a.r.ResponseMode) }

// GetScopes adds offline_access for the library when the client may
// refresh within the session (SessionRefresh), since the library issues a
// refresh token only with that scope; grantedScopes removes it again.
func (a authRequest) GetScopes() []string {
	if a.r.SessionRefresh && !slices.Contains(a.r.Scopes, oidc.ScopeOfflineAccess) {
		return append(slices.Clip(a.r.Scopes), oidc.ScopeOfflineAccess)
	}
	return a.r.Scopes
}
func (a authRequest) GetState() string   { return a.r.State }
func (a authRequest) GetSubject() string { return a.r.UserID }
func (a authRequest) Done() bool         { return a.r.Done }
func (a authRequest) sessionID() string  { return a.r.SessionID }

// refreshRequest adapts a stored refresh token to op.RefreshTokenRequest.
type refreshRequest struct{ t *store.OIDCToken }

var _ op.RefreshTokenRequest = refreshRequest{}

func (r refreshRequest) GetAMR() []string            { return r.t.AMR }
func (r refreshRequest) GetAudience() []string       { return r.t.Audience }
func (r refreshRequest) GetAuthTime() time.Time      { return r.t.AuthTime }
func (r refreshRequest) GetClientID() string         { return r.t.ClientID }
func (r refreshRequest) GetScopes() []string         { return r.t.Scopes }
func (r refreshRequest) GetSubject() string          { return r.t.UserID }
func (r refreshRequest) SetCurrentScopes(s []string) { r.t.Scopes = s }
func (r refreshRequest) sessionID() string           { return r.t.SessionID }

// clientCredentialsRequest is a client_credentials grant: the client is
// the subject.
type clientCredentialsRequest struct {
	clientID string
	scopes   []string
}

func (c clientCredentialsRequest) GetSubject() string    { return c.clientID }
func (c clientCredentialsRequest) GetAudience() []string { return []string{c.clientID} }
func (c clientCredentialsRequest) GetScopes() []string   { return c.scopes }

// sessionRequest is a request that carries the browser session (sid).
type sessionRequest interface{ sessionID() string }

// Authentication method references (RFC 8176) and context classes.
const (
	AMRPassword = "pwd"
	AMROTP      = "otp"
	AMRMFA      = "mfa"
	// AMRHardwareKey and AMRUser are a passkey's: proof of possession of a
	// key, with the user verified on the device (RFC 8176 hwk, user).
	AMRHardwareKey = "hwk"
	AMRUser        = "user"
	// AMRFederated is a sign-in at the customer's own identity provider.
	AMRFederated = "fed"
	// ACRSingleFactor and ACRMultiFactor are the acr values: the password
	// alone, or the password and a one-time code.
	ACRSingleFactor = "urn:opsiam:acr:pwd"
	ACRMultiFactor  = "urn:opsiam:acr:mfa"
)

// ACR is the acr claim for the methods amr.
func ACR(amr []string) string {
	switch {
	case len(amr) == 0:
		return ""
	case slices.Contains(amr, AMRMFA):
		return ACRMultiFactor
	}
	return ACRSingleFactor
}
