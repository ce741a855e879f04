package oidc

import (
	"context"
	"errors"
	"slices"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// The claims side of Storage: ID token, userinfo, introspection and JWT
// access token claims (S2, T1).

// SetUserinfoFromScopes is deprecated by the library; SetUserinfoFromRequest does the work.
func (s *Storage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

// SetUserinfoFromRequest fills the ID token's claims (S2, T1) and its sid.
func (s *Storage) SetUserinfoFromRequest(ctx context.Context, info *oidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	c, err := s.client(ctx, req.GetClientID())
	if err != nil {
		return err
	}
	sub, err := s.subjectOf(ctx, req.GetSubject())
	if err != nil {
		return err
	}
	if err := sub.setUserinfo(info, scopes, c.c); err != nil {
		return oidc.ErrAccessDenied().WithParent(err)
	}
	if sr, ok := req.(sessionRequest); ok && sr.sessionID() != "" {
		info.AppendClaims(ClaimSID, sr.sessionID())
	}
	// The library sets acr only for a code's ID token; a refreshed ID
	// token tells the same.
	if acr := ACR(req.GetAMR()); acr != "" {
		info.AppendClaims("acr", acr)
	}
	return nil
}

// SetUserinfoFromToken answers userinfo for an access token that is still
// stored (not revoked, not expired) and whose user is still enabled (U7).
func (s *Storage) SetUserinfoFromToken(ctx context.Context, info *oidc.UserInfo, tokenID, subject, _ string) error {
	t, err := s.Store.GetAccessToken(ctx, tokenID)
	if err != nil || t.UserID == "" || t.UserID != subject {
		return errors.New("access token invalid or revoked")
	}
	c, err := s.client(ctx, t.ClientID)
	if err != nil {
		return err
	}
	sub, err := s.subjectOf(ctx, t.UserID)
	if err != nil {
		return err
	}
	return sub.setUserinfo(info, t.Scopes, c.c)
}

// SetIntrospectionFromToken answers RFC 7662 introspection for a resource
// server (clientID) about a stored access token. An error makes the
// library answer {"active": false}, so nothing is filled in before every
// check passed (the token is stored and its user still enabled, U7).
//
// Only the token's own client, a client in its audience, or a client
// marked as a resource server learns that a token is active (issue 12,
// defect 10); for any other caller every token is inactive.
func (s *Storage) SetIntrospectionFromToken(ctx context.Context, resp *oidc.IntrospectionResponse, tokenID, subject, caller string) error {
	t, err := s.Store.GetAccessToken(ctx, tokenID)
	if err != nil || (t.UserID != "" && t.UserID != subject) {
		return errors.New("token not active")
	}
	if t.ClientID != caller && !slices.Contains(t.Audience, caller) {
		c, err := s.getClient(ctx, caller)
		if err != nil || !c.ResourceServer {
			return errors.New("token not active")
		}
	}
	var info *oidc.UserInfo
	if t.UserID != "" {
		sub, err := s.subjectOf(ctx, t.UserID)
		if err != nil {
			return err
		}
		c, err := s.client(ctx, t.ClientID)
		if err != nil {
			return err
		}
		info = new(oidc.UserInfo)
		if err := sub.setUserinfo(info, t.Scopes, c.c); err != nil {
			return err
		}
	}
	resp.Scope = t.Scopes
	resp.ClientID = t.ClientID
	resp.Subject = subject
	resp.Audience = t.Audience
	resp.Expiration = oidc.FromTime(t.ExpiresAt)
	if info != nil {
		resp.SetUserInfo(info)
	}
	return nil
}

// GetPrivateClaimsFromScopes is not used: GetPrivateClaimsFromRequest is.
func (s *Storage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

// GetPrivateClaimsFromRequest adds groups, roles, customer (and itsm_role
// for the ITSM client) to a user's JWT access token; client credentials
// tokens carry none.
func (s *Storage) GetPrivateClaimsFromRequest(ctx context.Context, req op.TokenRequest, _ []string) (map[string]any, error) {
	clientID, userID, _ := grantOf(req)
	if userID == "" {
		return nil, nil
	}
	sub, err := s.subjectOf(ctx, userID)
	if err != nil {
		return nil, err
	}
	c, err := s.client(ctx, clientID)
	if err != nil {
		return nil, err
	}
	m := sub.privateClaims(c.c.Claims)
	if err := sub.mayUse(c.c); err != nil {
		return nil, oidc.ErrAccessDenied().WithParent(err)
	}
	if c.c.ITSM {
		kind, _ := sub.itsmRole()
		m[ClaimITSMRole] = kind
	}
	return m, nil
}
