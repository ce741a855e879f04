package manage

import (
	"context"
	"errors"
	"slices"

	"opsiam/internal/directory"
	"opsiam/internal/store"
)

// Upstream identity providers (issue 18). Managing them needs client.write,
// the platform-wide permission that manages OIDC clients: a provider is an
// application the platform trusts to sign its users in, it may name any
// customer, and it gives roles to the users it creates. A customer manager
// can therefore neither see nor register one.

// ProviderPatch holds the fields a create or update sets; nil keeps a
// field (a create starts from an enabled provider of type oidc).
type ProviderPatch struct {
	Name         *string
	Type         *string
	Issuer       *string
	ClientID     *string
	ClientSecret *string // write-only; "" removes the secret (public client)
	Scopes       *[]string
	CustomerID   *directory.CustomerID
	Domains      *[]string
	AutoCreate   *bool
	RoleIDs      *[]directory.RoleID
	Enabled      *bool
	Mandatory    *bool
}

// apply sets the fields of p present in the patch.
func (pp ProviderPatch) apply(p *directory.IdentityProvider) {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&p.Name, pp.Name)
	set(&p.Type, pp.Type)
	set(&p.Issuer, pp.Issuer)
	set(&p.ClientID, pp.ClientID)
	if pp.Scopes != nil {
		p.Scopes = slices.Clone(*pp.Scopes)
	}
	if pp.CustomerID != nil {
		p.CustomerID = *pp.CustomerID
	}
	if pp.Domains != nil {
		p.Domains = slices.Clone(*pp.Domains)
	}
	if pp.AutoCreate != nil {
		p.AutoCreate = *pp.AutoCreate
	}
	if pp.RoleIDs != nil {
		p.RoleIDs = slices.Clone(*pp.RoleIDs)
	}
	if pp.Enabled != nil {
		p.Enabled = *pp.Enabled
	}
	if pp.Mandatory != nil {
		p.Mandatory = *pp.Mandatory
	}
}

// ListIdentityProviders lists every provider (client.write).
func (s *Service) ListIdentityProviders(ctx context.Context, c Caller) ([]directory.IdentityProvider, error) {
	if err := c.AppsAccess(); err != nil {
		return nil, err
	}
	return s.Store.ListIdentityProviders(ctx)
}

// GetIdentityProvider reads one provider (client.write); 404 otherwise.
func (s *Service) GetIdentityProvider(ctx context.Context, c Caller, id string) (directory.IdentityProvider, error) {
	if err := c.AppsAccess(); err != nil {
		return directory.IdentityProvider{}, err
	}
	return s.Store.GetIdentityProvider(ctx, id)
}

// CreateIdentityProvider registers a provider: every field checked, the
// customer and roles must exist, the caller must hold what the roles grant
// (no escalation: the provider gives them to every user it creates), a
// customer role needs the customer (C2), and the secret is sealed under
// the new id. One transaction with its audit record.
func (s *Service) CreateIdentityProvider(ctx context.Context, c Caller, pp ProviderPatch) (directory.IdentityProvider, error) {
	if err := c.AppsAccess(); err != nil {
		return directory.IdentityProvider{}, err
	}
	p := directory.IdentityProvider{Enabled: true}
	pp.apply(&p)
	secret := ""
	if pp.ClientSecret != nil {
		secret = *pp.ClientSecret
	}
	var created directory.IdentityProvider
	err := s.Store.InTx(ctx, func(tx store.Tx) (err error) {
		if err := s.checkProvider(ctx, tx, c, &p, secret); err != nil {
			return err
		}
		if created, err = tx.CreateIdentityProvider(ctx, p); err != nil {
			return err
		}
		if err := s.storeSecret(ctx, tx, created.ID, secret); err != nil {
			return err
		}
		return s.audit(ctx, tx, c, store.ActionIdentityProviderCreate, "identity_provider", created.ID, nil, created)
	})
	return created, err
}

// UpdateIdentityProvider changes the fields pp sets (PUT and PATCH alike);
// ifVersion is the If-Match version (0: none). A secret in pp replaces the
// stored one; without it the secret stays.
func (s *Service) UpdateIdentityProvider(ctx context.Context, c Caller, id string, ifVersion int64, pp ProviderPatch) (directory.IdentityProvider, error) {
	if err := c.AppsAccess(); err != nil {
		return directory.IdentityProvider{}, err
	}
	var updated directory.IdentityProvider
	err := s.Store.InTx(ctx, func(tx store.Tx) error {
		before, err := tx.GetIdentityProvider(ctx, id)
		if err != nil {
			return err
		}
		if err := checkVersion(before.Version, ifVersion); err != nil {
			return err
		}
		p := before
		p.Domains, p.RoleIDs, p.Scopes = slices.Clone(before.Domains), slices.Clone(before.RoleIDs), slices.Clone(before.Scopes)
		pp.apply(&p)
		secret := ""
		if pp.ClientSecret != nil {
			secret = *pp.ClientSecret
		}
		if err := s.checkProvider(ctx, tx, c, &p, secret); err != nil {
			return err
		}
		if updated, err = tx.UpdateIdentityProvider(ctx, p); err != nil {
			return err
		}
		if pp.ClientSecret != nil {
			if err := s.storeSecret(ctx, tx, id, secret); err != nil {
				return err
			}
		}
		return s.audit(ctx, tx, c, store.ActionIdentityProviderUpdate, "identity_provider", id, before, updated)
	})
	return updated, err
}

// DeleteIdentityProvider removes a provider and its links; its users stay
// (and sign in with a password, if they have one).
func (s *Service) DeleteIdentityProvider(ctx context.Context, c Caller, id string) error {
	if err := c.AppsAccess(); err != nil {
		return err
	}
	return s.Store.InTx(ctx, func(tx store.Tx) error {
		before, err := tx.GetIdentityProvider(ctx, id)
		if err != nil {
			return err
		}
		if err := tx.DeleteIdentityProvider(ctx, id); err != nil {
			return err
		}
		return s.audit(ctx, tx, c, store.ActionIdentityProviderDelete, "identity_provider", id, before, nil)
	})
}

// checkProvider normalises and validates p inside tx: the fields, the
// customer, the roles, no escalation and C2.
func (s *Service) checkProvider(ctx context.Context, tx store.Tx, c Caller, p *directory.IdentityProvider, secret string) error {
	directory.NormalizeIdentityProvider(p)
	if err := directory.ValidateIdentityProvider(*p, secret, s.InsecureIssuer).Err(); err != nil {
		return err
	}
	if p.CustomerID != "" {
		if _, err := tx.GetCustomer(ctx, p.CustomerID); err != nil {
			return notFoundAs(err, "customer_id", "Customer", p.CustomerID)
		}
	}
	if len(p.RoleIDs) == 0 {
		return nil
	}
	if _, err := loadRoles(ctx, tx, p.RoleIDs); err != nil {
		return err
	}
	g, err := Load(ctx, tx)
	if err != nil {
		return err
	}
	if err := c.mayGrant(g, "Giving these roles to the users the provider creates", p.RoleIDs...); err != nil {
		return err
	}
	if err := directory.CheckCustomer(g.Expand(p.RoleIDs...), p.CustomerID); err != nil {
		return err
	}
	return nil
}

// storeSecret seals secret under provider id and stores it ("" stores none).
func (s *Service) storeSecret(ctx context.Context, tx store.Tx, id, secret string) error {
	if secret == "" {
		return tx.SetIdentityProviderSecret(ctx, id, "")
	}
	if s.IdPSecrets == nil {
		return errors.New("manage: no key to seal identity provider secrets (IdPSecrets)")
	}
	sealed, err := s.IdPSecrets.Seal(secretAD(id), secret)
	if err != nil {
		return err
	}
	return tx.SetIdentityProviderSecret(ctx, id, sealed)
}

func secretAD(id string) string { return "identity_provider:" + id }

// IdentityProviderSecret opens the client secret of provider id, for the
// sign-in pages' token request ("" for a public client).
func (s *Service) IdentityProviderSecret(ctx context.Context, id string) (string, error) {
	sealed, err := s.Store.IdentityProviderSecret(ctx, id)
	if err != nil || sealed == "" {
		return "", err
	}
	if s.IdPSecrets == nil {
		return "", errors.New("manage: no key to open identity provider secrets (IdPSecrets)")
	}
	return s.IdPSecrets.Open(secretAD(id), sealed)
}

// ProviderForLogin returns the enabled provider that the domain of a mail
// address belongs to; ok is false for anything else (a user name, a domain
// of no provider), which the sign-in page treats as a local sign-in.
func (s *Service) ProviderForLogin(ctx context.Context, login string) (directory.IdentityProvider, bool, error) {
	domain := directory.MailDomain(login)
	if domain == "" {
		return directory.IdentityProvider{}, false, nil
	}
	ps, err := s.Store.ListIdentityProviders(ctx)
	if err != nil {
		return directory.IdentityProvider{}, false, err
	}
	p, ok := directory.ProviderForDomain(ps, domain)
	return p, ok, nil
}

// PasswordAllowed decides whether u may sign in with its local password:
// not when a mandatory provider covers its customer or mail domain.
func (s *Service) PasswordAllowed(ctx context.Context, u directory.User) (bool, error) {
	ps, err := s.Store.ListIdentityProviders(ctx)
	if err != nil {
		return false, err
	}
	return !directory.PasswordSignInRefused(ps, u), nil
}
