package oidc

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"opsiam/internal/manage"
	"opsiam/internal/store"
)

// Storage implements op.Storage (and client credentials) over store.Store.
// Codes and refresh tokens are kept only as SHA-256 hashes.
type Storage struct {
	Store  store.Store
	Graphs *manage.RoleGraphs
	Keys   *Keys
	Now    func() time.Time

	LoginPath            string // where op sends the browser to sign in (login.go)
	AuthRequestLifetime  time.Duration
	AccessTokenLifetime  time.Duration
	IDTokenLifetime      time.Duration
	RefreshTokenLifetime time.Duration // bound to the platform session besides
	OfflineTokenLifetime time.Duration // offline_access refresh tokens
	// Sessions tells whether the platform session a refresh token is bound
	// to still lives; nil: not checked.
	Sessions PlatformSessions
}

var (
	_ op.Storage                        = (*Storage)(nil)
	_ op.ClientCredentialsStorage       = (*Storage)(nil)
	_ op.CanSetUserinfoFromRequest      = (*Storage)(nil)
	_ op.CanGetPrivateClaimsFromRequest = (*Storage)(nil)
)

func (s *Storage) now() time.Time { return s.Now().UTC() }

func (s *Storage) client(ctx context.Context, id string) (client, error) {
	c, err := s.getClient(ctx, id)
	if err != nil {
		return client{}, err
	}
	return client{c: c, loginPath: s.LoginPath, idLifetime: s.IDTokenLifetime}, nil
}

// CreateAuthRequest stores a validated authorization request. A public
// client must use PKCE with S256; nobody may use the plain method.
func (s *Storage) CreateAuthRequest(ctx context.Context, req *oidc.AuthRequest, userID string) (op.AuthRequest, error) {
	c, err := s.client(ctx, req.ClientID)
	if err != nil {
		return nil, err
	}
	if req.CodeChallenge != "" && req.CodeChallengeMethod != oidc.CodeChallengeMethodS256 {
		return nil, oidc.ErrInvalidRequest().WithDescription("code_challenge_method must be S256")
	}
	if c.c.Public && req.CodeChallenge == "" {
		return nil, oidc.ErrInvalidRequest().WithDescription("a public client must use PKCE (code_challenge with S256)")
	}
	if !c.hasGrant(GrantAuthorizationCode) {
		return nil, oidc.ErrUnauthorizedClient().WithDescription("the client may not use the authorization code grant")
	}
	r := store.OIDCAuthRequest{
		ID: randomToken(), ClientID: req.ClientID, RedirectURI: req.RedirectURI, State: req.State,
		Nonce: req.Nonce, Scopes: req.Scopes, ResponseType: string(req.ResponseType),
		ResponseMode: string(req.ResponseMode), CodeChallenge: req.CodeChallenge,
		CodeChallengeMethod: string(req.CodeChallengeMethod), Prompt: req.Prompt, MaxAge: -1,
		ExpiresAt: s.now().Add(s.AuthRequestLifetime),
	}
	if req.MaxAge != nil {
		r.MaxAge = int64(*req.MaxAge)
	}
	// A client with the refresh_token grant refreshes within the platform
	// session without offline_access, which asks for a token that
	// outlives the session (issue 12, defect 8).
	r.SessionRefresh = c.hasGrant(GrantRefreshToken) && !slices.Contains(req.Scopes, oidc.ScopeOfflineAccess)
	if err := s.Store.SaveAuthRequest(ctx, r); err != nil {
		return nil, err
	}
	return authRequest{r}, nil
}

// AuthRequestByID returns an unexpired authorization request.
func (s *Storage) AuthRequestByID(ctx context.Context, id string) (op.AuthRequest, error) {
	r, err := s.Store.GetAuthRequest(ctx, id)
	if err != nil {
		return nil, err
	}
	return authRequest{r}, nil
}

// AuthRequestByCode finds the request a code was issued for, by the code's
// hash. A code presented again revokes the tokens of its first use (RFC
// 6749 §4.1.2); a code whose user was disabled meanwhile, or who lost the
// client's access rule, is an invalid grant.
func (s *Storage) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	r, err := s.Store.GetAuthRequestByCode(ctx, HashSecret(code))
	if err != nil {
		return nil, err
	}
	if !r.UsedAt.IsZero() {
		if err := s.revokeReplayed(ctx, r.ID, r.UserID, r.ClientID); err != nil {
			return nil, err
		}
		return nil, oidc.ErrInvalidGrant().WithDescription("the code was already used; its tokens are revoked")
	}
	if err := s.checkSubject(ctx, r.UserID, r.ClientID); err != nil {
		return nil, err
	}
	return authRequest{r}, nil
}

// checkSubject refuses, as invalid_grant, a user who is disabled or gone,
// or who may no longer use the client.
func (s *Storage) checkSubject(ctx context.Context, userID, clientID string) error {
	sub, err := s.subjectOf(ctx, userID)
	if errors.Is(err, ErrUserDisabled) {
		return oidc.ErrInvalidGrant().WithDescription("the user is disabled").WithParent(err)
	}
	if err != nil {
		return err
	}
	c, err := s.client(ctx, clientID)
	if err != nil {
		return err
	}
	if err := sub.mayUse(c.c); err != nil {
		return oidc.ErrInvalidGrant().WithDescription("the user may not use this client").WithParent(err)
	}
	return nil
}

// revokeReplayed revokes every token issued for the authorization request
// id (their family, see accessToken), with an audit record.
func (s *Storage) revokeReplayed(ctx context.Context, id, userID, clientID string) error {
	return s.Store.InTx(ctx, func(tx store.Tx) error {
		if err := tx.RevokeFamily(ctx, id); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, store.AuditRecord{At: s.now(), ActorID: userID, Action: store.ActionOidcCodeReplayed,
			TargetType: "oidc_client", TargetID: clientID})
	})
}

// SaveAuthCode keeps the hash of the code issued for request id.
func (s *Storage) SaveAuthCode(ctx context.Context, id, code string) error {
	return s.Store.InTx(ctx, func(tx store.Tx) error {
		r, err := tx.GetAuthRequest(ctx, id)
		if err != nil {
			return err
		}
		r.CodeHash = HashSecret(code)
		return tx.SaveAuthRequest(ctx, r)
	})
}

// DeleteAuthRequest is called once a code was exchanged: the request is
// marked used (kept until it expires, so that a replay is recognised), once;
// a second exchange that raced the first revokes the tokens of both.
func (s *Storage) DeleteAuthRequest(ctx context.Context, id string) error {
	err := s.Store.UseAuthRequest(ctx, id, s.now())
	if errors.Is(err, store.ErrStale) {
		if rerr := s.revokeReplayed(ctx, id, "", ""); rerr != nil {
			return rerr
		}
		return oidc.ErrInvalidGrant().WithDescription("the code was already used")
	}
	if errors.Is(err, store.ErrNotFound) {
		return oidc.ErrInvalidGrant().WithDescription("the code was already used")
	}
	return err
}

// grantOf tells the client, user and session a token request is for.
func grantOf(req op.TokenRequest) (clientID, userID, sid string) {
	switch r := req.(type) {
	case authRequest:
		return r.r.ClientID, r.r.UserID, r.r.SessionID
	case refreshRequest:
		return r.t.ClientID, r.t.UserID, r.t.SessionID
	case clientCredentialsRequest:
		return r.clientID, "", ""
	}
	return "", req.GetSubject(), ""
}

// accessToken is a new access token for req in family; tokens issued for
// an authorization code form the family of the request's id, so that a
// replayed code revokes them all.
func (s *Storage) accessToken(req op.TokenRequest, family string) store.OIDCToken {
	clientID, userID, sid := grantOf(req)
	now := s.now()
	id := randomToken()
	if ar, ok := req.(authRequest); ok && family == "" {
		family = ar.r.ID
	}
	if family == "" {
		family = id
	}
	return store.OIDCToken{ID: id, FamilyID: family, ClientID: clientID, UserID: userID, SessionID: sid,
		Scopes: grantedScopes(req), Audience: req.GetAudience(), ExpiresAt: now.Add(s.AccessTokenLifetime), CreatedAt: now}
}

// grantedScopes are the scopes of req as the client asked for them:
// without the offline_access that authRequest.GetScopes adds for the
// library when the client refreshes within the session.
func grantedScopes(req op.TokenRequest) []string {
	if ar, ok := req.(authRequest); ok {
		return ar.r.Scopes
	}
	return req.GetScopes()
}

// CreateAccessToken stores an access token without a refresh token
// (client credentials, code flow without refresh).
// A service client's token is audited in the client's name (C5).
func (s *Storage) CreateAccessToken(ctx context.Context, req op.TokenRequest) (string, time.Time, error) {
	t := s.accessToken(req, "")
	err := s.Store.InTx(ctx, func(tx store.Tx) error {
		if err := tx.CreateAccessToken(ctx, t); err != nil {
			return err
		}
		if _, ok := req.(clientCredentialsRequest); !ok {
			return nil
		}
		return tx.AppendAudit(ctx, store.AuditRecord{At: s.now(), ActorID: "client:" + t.ClientID, ActorName: t.ClientID,
			Source: "oidc", Action: store.ActionOidcClientToken, TargetType: "oidc_client", TargetID: t.ClientID})
	})
	if err != nil {
		return "", time.Time{}, err
	}
	return t.ID, t.ExpiresAt, nil
}

// errRefreshReused reports a refresh token presented a second time.
var errRefreshReused = errors.New("oidc: refresh token reused; its family is revoked")

// CreateAccessAndRefreshTokens issues an access token and a new refresh
// token. With currentRefreshToken set it rotates: the old token is marked
// used in the same transaction, and if it was already used the whole family
// is revoked (reuse detection, OAuth 2.0 Security BCP §4.14.2).
func (s *Storage) CreateAccessAndRefreshTokens(ctx context.Context, req op.TokenRequest, currentRefreshToken string) (string, string, time.Time, error) {
	newToken := randomToken()
	now := s.now()
	rt := store.OIDCToken{ID: HashSecret(newToken), Scopes: grantedScopes(req), Audience: req.GetAudience(),
		CreatedAt: now}
	if currentRefreshToken == "" {
		ar, ok := req.(authRequest)
		if !ok {
			return "", "", time.Time{}, fmt.Errorf("oidc: refresh token for a %T", req)
		}
		rt.FamilyID, rt.ClientID, rt.UserID, rt.SessionID = ar.r.ID, ar.r.ClientID, ar.r.UserID, ar.r.SessionID
		rt.AMR, rt.AuthTime = ar.GetAMR(), ar.r.AuthTime
		rt.ExpiresAt = s.refreshEnd(ar.r, now)
		if fix, ok := ctx.Value(scopeKey{}).(*scopeFix); ok && ar.r.SessionRefresh {
			fix.strip = true
		}
		at := s.accessToken(req, rt.FamilyID)
		err := s.Store.InTx(ctx, func(tx store.Tx) error {
			if err := tx.CreateRefreshToken(ctx, rt); err != nil {
				return err
			}
			return tx.CreateAccessToken(ctx, at)
		})
		if err != nil {
			return "", "", time.Time{}, err
		}
		return at.ID, newToken, at.ExpiresAt, nil
	}
	rr, ok := req.(refreshRequest)
	if !ok || rr.t.ID != HashSecret(currentRefreshToken) {
		return "", "", time.Time{}, fmt.Errorf("oidc: rotation of a refresh token for a %T", req)
	}
	old := rr.t
	rt.FamilyID, rt.ClientID, rt.UserID, rt.SessionID = old.FamilyID, old.ClientID, old.UserID, old.SessionID
	rt.AMR, rt.AuthTime = old.AMR, old.AuthTime
	// Rotation never extends the family: its end was fixed at sign-in.
	rt.ExpiresAt = old.ExpiresAt
	at := s.accessToken(req, rt.FamilyID)
	// One atomic step (store.TokenRotation): the old token is marked used
	// only if it was unused, and the new tokens exist only if it was.
	err := s.Store.RotateRefreshToken(ctx, old.ID, now, rt, at)
	if errors.Is(err, store.ErrStale) {
		if rerr := s.revokeReused(ctx, old.FamilyID, old.ClientID, old.UserID); rerr != nil {
			return "", "", time.Time{}, rerr
		}
		return "", "", time.Time{}, oidc.ErrInvalidGrant().WithDescription("refresh token already used").WithParent(errRefreshReused)
	}
	if errors.Is(err, store.ErrNotFound) {
		return "", "", time.Time{}, oidc.ErrInvalidGrant().WithParent(err)
	}
	if err != nil {
		return "", "", time.Time{}, err
	}
	return at.ID, newToken, at.ExpiresAt, nil
}

// refreshEnd is when the refresh tokens of a code's family end: with the
// platform session that signed in (its absolute end, and never later than
// RefreshTokenLifetime after now), or OfflineTokenLifetime after now for
// offline_access (issue 12, defect 8).
func (s *Storage) refreshEnd(r store.OIDCAuthRequest, now time.Time) time.Time {
	if !r.SessionRefresh {
		return now.Add(s.OfflineTokenLifetime)
	}
	end := now.Add(s.RefreshTokenLifetime)
	if !r.SessionEnd.IsZero() && r.SessionEnd.Before(end) {
		end = r.SessionEnd
	}
	return end
}

// revokeReused revokes a family whose refresh token was presented twice,
// with an audit record: a reuse means the token leaked or a client is broken.
func (s *Storage) revokeReused(ctx context.Context, family, clientID, userID string) error {
	return s.Store.InTx(ctx, func(tx store.Tx) error {
		if err := tx.RevokeFamily(ctx, family); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, store.AuditRecord{At: s.now(), ActorID: userID, Action: store.ActionOidcRefreshTokenReused,
			TargetType: "oidc_client", TargetID: clientID})
	})
}

// TokenRequestByRefreshToken finds an unused refresh token. A used one is
// a reuse: the family is revoked and the request refused.
func (s *Storage) TokenRequestByRefreshToken(ctx context.Context, token string) (op.RefreshTokenRequest, error) {
	t, err := s.Store.GetRefreshToken(ctx, HashSecret(token))
	if err != nil {
		return nil, op.ErrInvalidRefreshToken
	}
	if !t.UsedAt.IsZero() {
		if err := s.revokeReused(ctx, t.FamilyID, t.ClientID, t.UserID); err != nil {
			return nil, err
		}
		return nil, errRefreshReused
	}
	if err := s.checkSubject(ctx, t.UserID, t.ClientID); err != nil {
		return nil, err // disabled, no longer an agent, or outside the access rule: no new tokens
	}
	// A session's refresh token lives as long as the session; an
	// offline_access one has its own lifetime (both end with a logout of
	// the session that signed in, A5).
	if t.SessionID != "" && s.Sessions != nil && !slices.Contains(t.Scopes, oidc.ScopeOfflineAccess) {
		live, err := s.Sessions.Live(ctx, t.UserID, t.SessionID)
		if err != nil {
			return nil, err
		}
		if !live { // the platform session ended: so do its refresh tokens
			if err := s.Store.RevokeFamily(ctx, t.FamilyID); err != nil {
				return nil, err
			}
			return nil, oidc.ErrInvalidGrant().WithDescription("the sign-in session has ended")
		}
	}
	return refreshRequest{&t}, nil
}

// TerminateSession revokes the user's tokens at the client; the provider's
// own end_session handler (logout.go) does the rest of a logout.
func (s *Storage) TerminateSession(ctx context.Context, userID, clientID string) error {
	return s.Store.RevokeUserClientTokens(ctx, userID, clientID)
}

// RevokeToken implements RFC 7009: an access token by its id, or a
// refresh token (by the library's token id, its hash, or the token itself)
// with its whole family. Unknown tokens are no error (§2.2).
func (s *Storage) RevokeToken(ctx context.Context, tokenOrID, _, clientID string) *oidc.Error {
	if t, err := s.Store.GetAccessToken(ctx, tokenOrID); err == nil {
		if t.ClientID != clientID {
			return oidc.ErrInvalidClient().WithDescription("the token belongs to another client")
		}
		if err := s.Store.DeleteAccessToken(ctx, t.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
			return oidc.ErrServerError().WithParent(err)
		}
		return nil
	}
	for _, id := range []string{tokenOrID, HashSecret(tokenOrID)} {
		t, err := s.Store.GetRefreshToken(ctx, id)
		if err != nil {
			continue
		}
		if t.ClientID != clientID {
			return oidc.ErrInvalidClient().WithDescription("the token belongs to another client")
		}
		if err := s.Store.RevokeFamily(ctx, t.FamilyID); err != nil {
			return oidc.ErrServerError().WithParent(err)
		}
		return nil
	}
	return nil
}

// GetRefreshTokenInfo identifies a refresh token of clientID for revocation.
func (s *Storage) GetRefreshTokenInfo(ctx context.Context, clientID, token string) (string, string, error) {
	t, err := s.Store.GetRefreshToken(ctx, HashSecret(token))
	if err != nil || t.ClientID != clientID {
		return "", "", op.ErrInvalidRefreshToken
	}
	return t.UserID, t.ID, nil
}

// SigningKey is the current signing key of the algorithm the request's
// client chose (id_token_signed_response_alg, put in ctx by withClientAlg),
// else of the server's default (Keys).
func (s *Storage) SigningKey(ctx context.Context) (op.SigningKey, error) {
	alg, _ := ctx.Value(algKey{}).(jose.SignatureAlgorithm)
	return s.Keys.SigningKeyFor(ctx, alg)
}

// SignatureAlgorithms are the algorithms with a current key (discovery).
func (s *Storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return s.Keys.algorithms(), nil
}

// algKey is the context key of the signing algorithm of a token request.
type algKey struct{}

// KeySet is the JWKS (Keys).
func (s *Storage) KeySet(ctx context.Context) ([]op.Key, error) { return s.Keys.KeySet(ctx) }

// GetClientByClientID loads a registered client; an unknown one is a plain error.
func (s *Storage) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	c, err := s.client(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("unknown client %q", id)
	}
	if err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	}
	return c, nil
}

// AuthorizeClientIDSecret checks a confidential client's secret against
// its hash in constant time.
func (s *Storage) AuthorizeClientIDSecret(ctx context.Context, id, secret string) error {
	c, err := s.getClient(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		secretMatches(HashSecret("x"), secret) // same work for unknown clients
		return errors.New("invalid client credentials")
	}
	if err != nil {
		return oidc.ErrServerError().WithParent(err)
	}
	if c.Public || !secretMatches(c.SecretHash, secret) {
		return errors.New("invalid client credentials")
	}
	return nil
}

// ClientCredentials authenticates a client for the client_credentials grant.
func (s *Storage) ClientCredentials(ctx context.Context, id, secret string) (op.Client, error) {
	if err := s.AuthorizeClientIDSecret(ctx, id, secret); err != nil {
		return nil, err
	}
	c, err := s.client(ctx, id)
	if err != nil {
		return nil, err
	}
	if !c.hasGrant(GrantClientCredentials) {
		return nil, oidc.ErrUnauthorizedClient().WithDescription("the client may not use client_credentials")
	}
	return c, nil
}

// ClientCredentialsTokenRequest makes the client the token's subject.
func (s *Storage) ClientCredentialsTokenRequest(_ context.Context, id string, scopes []string) (op.TokenRequest, error) {
	return clientCredentialsRequest{clientID: id, scopes: scopes}, nil
}

// GetKeyByIDAndClientID: the JWT profile grant is not offered.
func (s *Storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errors.New("jwt profile not supported")
}

// ValidateJWTProfileScopes: the JWT profile grant is not offered.
func (s *Storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, errors.New("jwt profile not supported")
}

// Health reports whether the database is ready.
func (s *Storage) Health(ctx context.Context) error { return s.Store.Ready(ctx) }
