package oidc

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"opsiam/internal/store"
)

// ErrNotServiceToken is a bearer token that is a JWT access token of this
// provider but does not come from a service client allowed the access API
// (or was revoked, or has expired).
var ErrNotServiceToken = errors.New("oidc: not an access token of a service client")

// ServiceClient authenticates a service client by its own access token
// (SPEC §9, C5): a JWT the provider issued for the client_credentials grant
// to a client with access_api, still stored (not revoked). ok is false for
// a bearer token that is not a JWT (a platform token, say), so that other
// credentials can be tried; a JWT that fails is ErrNotServiceToken.
func (p *Provider) ServiceClient(ctx context.Context, bearer string) (c store.OIDCClient, ok bool, err error) {
	if strings.Count(bearer, ".") != 2 {
		return c, false, nil
	}
	ctx = op.ContextWithIssuer(ctx, p.cfg.Issuer)
	claims, err := op.VerifyAccessToken[*oidc.AccessTokenClaims](ctx, bearer, p.op.AccessTokenVerifier(ctx))
	if err != nil {
		return c, true, errors.Join(ErrNotServiceToken, err)
	}
	t, err := p.cfg.Store.GetAccessToken(ctx, claims.JWTID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (t.UserID != "" || t.ClientID != claims.Subject)) {
		return c, true, ErrNotServiceToken
	}
	if err != nil {
		return c, true, err
	}
	c, err = p.cfg.Store.GetOIDCClient(ctx, t.ClientID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (!c.AccessAPI || !slices.Contains(c.GrantTypes, GrantClientCredentials))) {
		return store.OIDCClient{}, true, ErrNotServiceToken
	}
	return c, true, err
}
