package store

import (
	"context"
	"time"

	"opsiam/internal/directory"
)

// PlatformToken is the stored form of a user's platform token (A6): only
// the SHA-256 hash of the token text, never the text itself.
type PlatformToken struct {
	UserID    directory.UserID
	Hash      string    // hex SHA-256 of the token text
	CreatedAt time.Time // the issue time, shown afterwards
	ExpiresAt time.Time // zero: no expiry
	IssuedBy  string    // user id of the token_admin who issued it; empty for the CLI
}

// Tokens keeps platform tokens, at most one per user (A6).
type Tokens interface {
	// PutPlatformToken stores t, replacing the user's previous token.
	PutPlatformToken(ctx context.Context, t PlatformToken) error
	// PlatformToken returns the user's token record, or ErrNotFound.
	PlatformToken(ctx context.Context, u directory.UserID) (PlatformToken, error)
	// PlatformTokenByHash finds the token whose hash is hash, or ErrNotFound.
	PlatformTokenByHash(ctx context.Context, hash string) (PlatformToken, error)
	// DeletePlatformToken revokes the user's token; ErrNotFound if it has none.
	DeletePlatformToken(ctx context.Context, u directory.UserID) error
}
