package sqlstore

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"opsiam/internal/store"
)

const oidcClientCols = `id, name, secret_hash, redirect_uris, post_logout_redirect_uris, backchannel_logout_uri,
 public, grant_types, itsm, access_roles, claims, created_at, updated_at, access_api, resource_server, id_token_alg`

// jsonText encodes v as JSON text for a TEXT column.
func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only plain values are stored this way
	}
	return string(b)
}

// decodeList decodes a JSON list of strings; the empty list, which most of
// a client's lists are, skips the JSON decoder (a client is read at every
// token request).
func decodeList(text string, into *[]string) error {
	if text == "[]" {
		*into = []string{}
		return nil
	}
	return json.Unmarshal([]byte(text), into)
}

func scanOIDCClient(r interface{ Scan(...any) error }) (store.OIDCClient, error) {
	var c store.OIDCClient
	var redirects, postLogout, grants, access, claims string
	var created, updated int64
	err := r.Scan(&c.ID, &c.Name, &c.SecretHash, &redirects, &postLogout, &c.BackchannelLogoutURI,
		&c.Public, &grants, &c.ITSM, &access, &claims, &created, &updated, &c.AccessAPI, &c.ResourceServer, &c.IDTokenAlg)
	if err != nil {
		return c, notFound(err)
	}
	if err := errors.Join(decodeList(redirects, &c.RedirectURIs), decodeList(postLogout, &c.PostLogoutRedirectURIs),
		decodeList(grants, &c.GrantTypes), decodeList(access, &c.AccessRoles), decodeList(claims, &c.Claims)); err != nil {
		return c, err
	}
	c.CreatedAt, c.UpdatedAt = fromMicros(created), fromMicros(updated)
	return c, nil
}

func (q *queries) CreateOIDCClient(ctx context.Context, c store.OIDCClient) (store.OIDCClient, error) {
	now := q.now().UTC().Truncate(time.Microsecond)
	c.CreatedAt, c.UpdatedAt = now, now
	if c.RedirectURIs == nil {
		c.RedirectURIs = []string{}
	}
	if c.PostLogoutRedirectURIs == nil {
		c.PostLogoutRedirectURIs = []string{}
	}
	if c.GrantTypes == nil {
		c.GrantTypes = []string{}
	}
	if c.AccessRoles == nil {
		c.AccessRoles = []string{}
	}
	if c.Claims == nil {
		c.Claims = []string{}
	}
	_, err := q.exec(ctx, `INSERT INTO oidc_clients (`+oidcClientCols+`)
 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
		c.ID, c.Name, c.SecretHash, jsonText(c.RedirectURIs), jsonText(c.PostLogoutRedirectURIs),
		c.BackchannelLogoutURI, c.Public, jsonText(c.GrantTypes), c.ITSM, jsonText(c.AccessRoles), jsonText(c.Claims), toMicros(now), toMicros(now),
		c.AccessAPI, c.ResourceServer, c.IDTokenAlg)
	if errors.Is(err, store.ErrConflict) {
		return store.OIDCClient{}, &store.ConflictError{Field: "client_id"}
	}
	if err != nil {
		return store.OIDCClient{}, err
	}
	return c, nil
}

func (q *queries) GetOIDCClient(ctx context.Context, id string) (store.OIDCClient, error) {
	return scanOIDCClient(q.rd.QueryRowContext(ctx, `SELECT `+oidcClientCols+` FROM oidc_clients WHERE id = $1`, id))
}

func (q *queries) ListOIDCClients(ctx context.Context) ([]store.OIDCClient, error) {
	rows, err := q.rd.QueryContext(ctx, `SELECT `+oidcClientCols+` FROM oidc_clients ORDER BY id`)
	return scanAll(rows, err, scanOIDCClient)
}

func (q *queries) UpdateOIDCClient(ctx context.Context, c store.OIDCClient) (store.OIDCClient, error) {
	now := q.now().UTC().Truncate(time.Microsecond)
	for _, l := range []*[]string{&c.RedirectURIs, &c.PostLogoutRedirectURIs, &c.GrantTypes, &c.AccessRoles, &c.Claims} {
		if *l == nil {
			*l = []string{}
		}
	}
	err := q.execOne(ctx, `UPDATE oidc_clients SET name = $1, secret_hash = $2, redirect_uris = $3,
 post_logout_redirect_uris = $4, backchannel_logout_uri = $5, public = $6, grant_types = $7, itsm = $8,
 access_roles = $9, claims = $10, updated_at = $11, access_api = $12, resource_server = $13, id_token_alg = $14 WHERE id = $15`,
		c.Name, c.SecretHash, jsonText(c.RedirectURIs), jsonText(c.PostLogoutRedirectURIs), c.BackchannelLogoutURI,
		c.Public, jsonText(c.GrantTypes), c.ITSM, jsonText(c.AccessRoles), jsonText(c.Claims), toMicros(now),
		c.AccessAPI, c.ResourceServer, c.IDTokenAlg, c.ID)
	if err != nil {
		return store.OIDCClient{}, err
	}
	return scanOIDCClient(q.wr.QueryRowContext(ctx, `SELECT `+oidcClientCols+` FROM oidc_clients WHERE id = $1`, c.ID))
}

func (q *queries) DeleteOIDCClient(ctx context.Context, id string) error {
	return q.execOne(ctx, `DELETE FROM oidc_clients WHERE id = $1`, id)
}
