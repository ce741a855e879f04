package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"sort"
	"strings"

	"opsiam/internal/directory"
	"opsiam/internal/store"
)

// Upstream identity providers and identities (issue 18, migration 0013).

const idpCols = `id, name, type, issuer, client_id, scopes, customer_id, auto_create, enabled, mandatory, created_at, updated_at, version`

func scanIdP(s interface{ Scan(...any) error }) (directory.IdentityProvider, error) {
	var p directory.IdentityProvider
	var scopes string
	var customer sql.NullString
	var created, updated int64
	err := s.Scan(&p.ID, &p.Name, &p.Type, &p.Issuer, &p.ClientID, &scopes, &customer, &p.AutoCreate, &p.Enabled,
		&p.Mandatory, &created, &updated, &p.Version)
	p.Scopes, p.CustomerID = strings.Fields(scopes), directory.CustomerID(customer.String)
	p.CreatedAt, p.UpdatedAt = fromMicros(created), fromMicros(updated)
	p.Domains, p.RoleIDs = []string{}, []directory.RoleID{}
	return p, err
}

// domainConflict names the API field of a clash on a provider's domains.
func domainConflict(err error) error {
	if errors.Is(err, store.ErrConflict) {
		return &store.ConflictError{Field: "domains"}
	}
	return err
}

// writeIdPLists replaces the domains and roles of provider p.
func (q *queries) writeIdPLists(ctx context.Context, p directory.IdentityProvider) error {
	if _, err := q.exec(ctx, `DELETE FROM identity_provider_domains WHERE provider_id = $1`, p.ID); err != nil {
		return err
	}
	if _, err := q.exec(ctx, `DELETE FROM identity_provider_roles WHERE provider_id = $1`, p.ID); err != nil {
		return err
	}
	for _, d := range p.Domains {
		if _, err := q.exec(ctx, `INSERT INTO identity_provider_domains (provider_id, domain) VALUES ($1, $2)`, p.ID, d); err != nil {
			return domainConflict(err)
		}
	}
	for _, r := range p.RoleIDs {
		if _, err := q.exec(ctx, `INSERT INTO identity_provider_roles (provider_id, role_id) VALUES ($1, $2)`, p.ID, string(r)); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return directory.FieldErrors{{Field: "role_ids", Code: directory.CodeInvalid, Message: "Role " + string(r) + " does not exist."}}
			}
			return err
		}
	}
	return nil
}

func (q *queries) CreateIdentityProvider(ctx context.Context, p directory.IdentityProvider) (directory.IdentityProvider, error) {
	now := fromMicros(q.stamp())
	p.ID, p.CreatedAt, p.UpdatedAt, p.Version = newID(now), now, now, 1
	err := q.inTx(ctx, func(q *queries) error {
		_, err := q.exec(ctx, `INSERT INTO identity_providers (`+idpCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
			p.ID, p.Name, p.Type, p.Issuer, p.ClientID, strings.Join(p.Scopes, " "), nullable(string(p.CustomerID)),
			p.AutoCreate, p.Enabled, p.Mandatory, toMicros(now), toMicros(now), p.Version)
		if err != nil {
			return err
		}
		return q.writeIdPLists(ctx, p)
	})
	if err != nil {
		return directory.IdentityProvider{}, err
	}
	return q.GetIdentityProvider(ctx, p.ID)
}

func (q *queries) GetIdentityProvider(ctx context.Context, id string) (directory.IdentityProvider, error) {
	p, err := scanIdP(q.rd.QueryRowContext(ctx, `SELECT `+idpCols+` FROM identity_providers WHERE id = $1`, id))
	if err != nil {
		return directory.IdentityProvider{}, notFound(err)
	}
	ps := []directory.IdentityProvider{p}
	if err := q.fillIdPLists(ctx, ps, `WHERE provider_id = $1`, id); err != nil {
		return directory.IdentityProvider{}, err
	}
	return ps[0], nil
}

func (q *queries) ListIdentityProviders(ctx context.Context) ([]directory.IdentityProvider, error) {
	rows, err := q.rd.QueryContext(ctx, `SELECT `+idpCols+` FROM identity_providers`)
	ps, err := scanAll(rows, err, scanIdP)
	if err != nil {
		return nil, err
	}
	sort.Slice(ps, func(i, j int) bool {
		if a, b := strings.ToLower(ps[i].Name), strings.ToLower(ps[j].Name); a != b {
			return a < b
		}
		return ps[i].ID < ps[j].ID
	})
	if err := q.fillIdPLists(ctx, ps, ``); err != nil {
		return nil, err
	}
	if ps == nil {
		ps = []directory.IdentityProvider{}
	}
	return ps, nil
}

// fillIdPLists reads the domains and roles of ps (where filters both tables).
func (q *queries) fillIdPLists(ctx context.Context, ps []directory.IdentityProvider, where string, args ...any) error {
	at := map[string]int{}
	for i, p := range ps {
		at[p.ID] = i
	}
	rows, err := q.rd.QueryContext(ctx, `SELECT provider_id, domain FROM identity_provider_domains `+where+` ORDER BY domain`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id, d string
		if err := rows.Scan(&id, &d); err != nil {
			return err
		}
		if i, ok := at[id]; ok {
			ps[i].Domains = append(ps[i].Domains, d)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	rows2, err := q.rd.QueryContext(ctx, `SELECT provider_id, role_id FROM identity_provider_roles `+where+` ORDER BY role_id`, args...)
	if err != nil {
		return err
	}
	defer rows2.Close()
	for rows2.Next() {
		var id, r string
		if err := rows2.Scan(&id, &r); err != nil {
			return err
		}
		if i, ok := at[id]; ok {
			ps[i].RoleIDs = append(ps[i].RoleIDs, directory.RoleID(r))
		}
	}
	return rows2.Err()
}

func (q *queries) UpdateIdentityProvider(ctx context.Context, p directory.IdentityProvider) (directory.IdentityProvider, error) {
	err := q.inTx(ctx, func(q *queries) error {
		res, err := q.exec(ctx, `UPDATE identity_providers SET name = $1, type = $2, issuer = $3, client_id = $4, scopes = $5,
 customer_id = $6, auto_create = $7, enabled = $8, mandatory = $9, updated_at = $10, version = version + 1
 WHERE id = $11 AND version = $12`,
			p.Name, p.Type, p.Issuer, p.ClientID, strings.Join(p.Scopes, " "), nullable(string(p.CustomerID)),
			p.AutoCreate, p.Enabled, p.Mandatory, q.stamp(), p.ID, p.Version)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			if _, err := q.GetIdentityProvider(ctx, p.ID); err != nil {
				return err
			}
			return store.ErrStale
		}
		return q.writeIdPLists(ctx, p)
	})
	if err != nil {
		return directory.IdentityProvider{}, err
	}
	return q.GetIdentityProvider(ctx, p.ID)
}

func (q *queries) DeleteIdentityProvider(ctx context.Context, id string) error {
	return q.execOne(ctx, `DELETE FROM identity_providers WHERE id = $1`, id)
}

func (q *queries) SetIdentityProviderSecret(ctx context.Context, id, sealed string) error {
	return q.execOne(ctx, `UPDATE identity_providers SET client_secret = $1 WHERE id = $2`, sealed, id)
}

func (q *queries) IdentityProviderSecret(ctx context.Context, id string) (string, error) {
	var s string
	err := q.rd.QueryRowContext(ctx, `SELECT client_secret FROM identity_providers WHERE id = $1`, id).Scan(&s)
	return s, notFound(err)
}

const identityCols = `i.provider_id, p.name, i.subject, i.user_id, i.email, i.created_at`

func scanIdentity(s interface{ Scan(...any) error }) (directory.Identity, error) {
	var id directory.Identity
	var user sql.NullString
	var created int64
	err := s.Scan(&id.ProviderID, &id.ProviderName, &id.Subject, &user, &id.Email, &created)
	id.UserID, id.CreatedAt = directory.UserID(user.String), fromMicros(created)
	return id, err
}

func (q *queries) LinkIdentity(ctx context.Context, id directory.Identity) (directory.Identity, error) {
	err := q.inTx(ctx, func(q *queries) error {
		// A link left by a deleted user gives way to a new one.
		if _, err := q.exec(ctx, `DELETE FROM identities WHERE provider_id = $1 AND subject = $2 AND user_id IS NULL`,
			id.ProviderID, id.Subject); err != nil {
			return err
		}
		_, err := q.exec(ctx, `INSERT INTO identities (provider_id, subject, user_id, email, created_at) VALUES ($1, $2, $3, $4, $5)`,
			id.ProviderID, id.Subject, nullable(string(id.UserID)), id.Email, q.stamp())
		var ce *store.ConflictError
		if errors.As(err, &ce) {
			if strings.Contains(ce.Field, "subject") || ce.Field == "pkey" {
				return &store.ConflictError{Field: "subject"}
			}
			return &store.ConflictError{Field: "provider_id"}
		}
		return err
	})
	if err != nil {
		return directory.Identity{}, err
	}
	return q.GetIdentity(ctx, id.ProviderID, id.Subject)
}

func (q *queries) GetIdentity(ctx context.Context, provider, subject string) (directory.Identity, error) {
	id, err := scanIdentity(q.rd.QueryRowContext(ctx, `SELECT `+identityCols+` FROM identities i
 JOIN identity_providers p ON p.id = i.provider_id WHERE i.provider_id = $1 AND i.subject = $2`, provider, subject))
	return id, notFound(err)
}

func (q *queries) UserIdentities(ctx context.Context, u directory.UserID) ([]directory.Identity, error) {
	rows, err := q.rd.QueryContext(ctx, `SELECT `+identityCols+` FROM identities i
 JOIN identity_providers p ON p.id = i.provider_id WHERE i.user_id = $1 ORDER BY i.created_at, i.provider_id`, string(u))
	ids, err := scanAll(rows, err, scanIdentity)
	if ids == nil && err == nil {
		ids = []directory.Identity{}
	}
	return ids, err
}

func (q *queries) UnlinkIdentity(ctx context.Context, u directory.UserID, provider string) error {
	return q.execOne(ctx, `DELETE FROM identities WHERE user_id = $1 AND provider_id = $2`, string(u), provider)
}
