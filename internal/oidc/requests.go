package oidc

import (
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"opsiam/internal/store"
)

// authRequest adapts a stored auth request to op.AuthRequest.
type authRequest struct{ r store.OIDCAuthRequest }

var _ op.AuthRequest = authRequest{}

func (a authRequest) GetID() string  { return a.r.ID }
func (a authRequest) GetACR() string { return "" }
func (a authRequest) GetAMR() []string {
	if a.r.Done {
		return []string{"pwd"}
	}
	return nil
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
func (a authRequest) GetScopes() []string                { return a.r.Scopes }
func (a authRequest) GetState() string                   { return a.r.State }
func (a authRequest) GetSubject() string                 { return a.r.UserID }
func (a authRequest) Done() bool                         { return a.r.Done }
func (a authRequest) sessionID() string                  { return a.r.SessionID }

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
