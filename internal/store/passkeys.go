package store

import (
	"context"
	"time"

	"opsiam/internal/directory"
)

// Passkey is a user's WebAuthn credential (SPEC §9): a discoverable
// credential whose private key stays in the authenticator. CredentialID
// and PublicKey are what the authenticator gave at registration; SignCount
// and the flags are updated at each use.
type Passkey struct {
	ID           string // opaque id (the API's pid)
	UserID       directory.UserID
	CredentialID []byte
	PublicKey    []byte // COSE key
	// AttestationType as the library reports it ("none" for passkeys, whose
	// attestation is not asked for).
	AttestationType string
	AAGUID          []byte // the authenticator model; all zero for most passkeys
	SignCount       uint32
	UserVerified    bool // the registration verified the user
	// BackupEligible never changes for a credential; BackupState (synced to
	// other devices) may.
	BackupEligible bool
	BackupState    bool
	Transports     []string // "internal", "usb", "hybrid", …
	Name           string   // given by the user, 1–64 printable characters
	CreatedAt      time.Time
	LastUsedAt     time.Time // zero: never used to sign in
}

// PasskeyUse is what a successful passkey sign-in changes on its passkey.
type PasskeyUse struct {
	SignCount   uint32
	BackupState bool
	At          time.Time
}

// Ceremony purposes.
const (
	CeremonyRegister = "register"
	CeremonyLogin    = "login"
)

// PasskeyCeremony is a WebAuthn ceremony in progress: its challenge and
// options (Data, the library's session data), bound to the browser that
// began it by the hash of a token only that browser holds, and for a
// registration to the signed-in user.
type PasskeyCeremony struct {
	Hash      string
	Purpose   string // CeremonyRegister or CeremonyLogin
	UserID    directory.UserID
	Data      []byte
	ExpiresAt time.Time
}

// Passkeys keeps passkeys and their ceremonies.
type Passkeys interface {
	// CreatePasskey stores p with a new id and created_at and returns it; a
	// credential id that is stored already is a *ConflictError on
	// "credential_id"; an unknown user ErrNotFound.
	CreatePasskey(ctx context.Context, p Passkey) (Passkey, error)
	// UserPasskeys lists u's passkeys, oldest first.
	UserPasskeys(ctx context.Context, u directory.UserID) ([]Passkey, error)
	// PasskeyByCredential finds the passkey with that credential id.
	PasskeyByCredential(ctx context.Context, credentialID []byte) (Passkey, error)
	// UsePasskey records a sign-in with passkey id in one statement, only
	// if the new sign count moved forward (or both the stored and the new
	// count are zero: an authenticator without a counter). ErrStale when
	// it did not (a cloned authenticator, or a parallel use); ErrNotFound
	// when the passkey is gone.
	UsePasskey(ctx context.Context, id string, use PasskeyUse) error
	// DeletePasskey removes u's passkey id; ErrNotFound when u has none of
	// that id.
	DeletePasskey(ctx context.Context, u directory.UserID, id string) error
	// CreatePasskeyCeremony stores c.
	CreatePasskeyCeremony(ctx context.Context, c PasskeyCeremony) error
	// ConsumePasskeyCeremony deletes and returns the unexpired ceremony of
	// that hash and purpose in one statement: of two uses only one gets it.
	// ErrNotFound when unknown, used or expired.
	ConsumePasskeyCeremony(ctx context.Context, hash, purpose string, now time.Time) (PasskeyCeremony, error)
	// DeleteExpiredPasskeyCeremonies removes ceremonies expired at now.
	DeleteExpiredPasskeyCeremonies(ctx context.Context, now time.Time) (int, error)
}
