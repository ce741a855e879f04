package store

import (
	"context"

	"opsiam/internal/directory"
)

// Audit actions of upstream identity providers (issue 18).
const (
	ActionIdentityProviderCreate = "identity_provider.create"
	ActionIdentityProviderUpdate = "identity_provider.update"
	ActionIdentityProviderDelete = "identity_provider.delete"
	ActionIdentityLink           = "identity.link"
	ActionIdentityUnlink         = "identity.unlink"
	ActionAuthUpstreamRefused    = "auth.upstream_refused"
)

// IdentityProviders keeps the customers' upstream OpenID Connect providers
// and the links of users to their upstream accounts (issue 18). A mail
// domain belongs to at most one provider: a second one is a ConflictError
// on "domains". Deleting a provider deletes its links.
type IdentityProviders interface {
	// CreateIdentityProvider stores p with a new id, timestamps and
	// version 1 and no secret: the secret is sealed under the new id, so
	// the caller seals it and calls SetIdentityProviderSecret in the same
	// transaction.
	CreateIdentityProvider(ctx context.Context, p directory.IdentityProvider) (directory.IdentityProvider, error)
	GetIdentityProvider(ctx context.Context, id string) (directory.IdentityProvider, error)
	// ListIdentityProviders lists every provider by name (a short list).
	ListIdentityProviders(ctx context.Context) ([]directory.IdentityProvider, error)
	// UpdateIdentityProvider writes every field (domains and roles
	// replaced) if the stored version is p.Version (else ErrStale).
	UpdateIdentityProvider(ctx context.Context, p directory.IdentityProvider) (directory.IdentityProvider, error)
	DeleteIdentityProvider(ctx context.Context, id string) error
	// SetIdentityProviderSecret stores the sealed client secret ("" for none).
	SetIdentityProviderSecret(ctx context.Context, id, sealed string) error
	// IdentityProviderSecret returns the sealed client secret.
	IdentityProviderSecret(ctx context.Context, id string) (string, error)

	// LinkIdentity stores a link. The same (provider, subject) twice, or a
	// second link of one user to one provider, is a ConflictError on
	// "subject" or "provider_id"; a link left by a deleted user (no
	// UserID) is replaced.
	LinkIdentity(ctx context.Context, id directory.Identity) (directory.Identity, error)
	// GetIdentity finds the link of an upstream subject; its UserID is
	// empty when the linked user was deleted.
	GetIdentity(ctx context.Context, provider, subject string) (directory.Identity, error)
	// UserIdentities lists a user's links, with the providers' names.
	UserIdentities(ctx context.Context, u directory.UserID) ([]directory.Identity, error)
	// UnlinkIdentity removes the link of user u to provider.
	UnlinkIdentity(ctx context.Context, u directory.UserID, provider string) error
}
