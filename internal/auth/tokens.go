package auth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
	"time"

	"opsiam/internal/directory"
	"opsiam/internal/store"
)

// TokenPrefix starts every platform token text (A6), so that secret
// scanners and people recognise one.
const TokenPrefix = "opsi_"

// ErrBadToken is returned for a platform token that is unknown, revoked,
// expired or malformed. Callers answer every case alike (401).
var ErrBadToken = errors.New("invalid platform token")

// NewPlatformToken returns the text of a new platform token (shown once)
// and the hash under which it is stored (A6): 32 random bytes from
// crypto/rand, base64url, behind TokenPrefix. The hash is HashToken's hex
// SHA-256: the text has 256 random bits, so a fast hash is enough and
// lookups are by hash; the database never holds anything that works as a
// token.
func NewPlatformToken() (text, hash string, err error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", "", err
	}
	text = TokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	return text, HashToken(text), nil
}

// PlatformTokens checks platform tokens presented by API clients (A6).
type PlatformTokens struct {
	Store store.Tokens
	Now   func() time.Time
}

// Authenticate returns the user that text belongs to. It checks format,
// presence (a revoked token is deleted) and expiry; whether the user is
// still enabled is checked by the caller on every request (U7).
func (p PlatformTokens) Authenticate(ctx context.Context, text string) (directory.UserID, error) {
	if !strings.HasPrefix(text, TokenPrefix) || len(text) > 128 {
		return "", ErrBadToken
	}
	t, err := p.Store.PlatformTokenByHash(ctx, HashToken(text))
	switch {
	case errors.Is(err, store.ErrNotFound):
		return "", ErrBadToken
	case err != nil:
		return "", err
	}
	if !t.ExpiresAt.IsZero() && !p.Now().Before(t.ExpiresAt) {
		return "", ErrBadToken
	}
	return t.UserID, nil
}
