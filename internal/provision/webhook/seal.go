package webhook

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// SealedPrefix marks a webhook secret encrypted at rest. A stored value
// without it is a secret kept in clear by an earlier version: it still
// opens, and the next write of the endpoint seals it (P3).
const SealedPrefix = "sealed:v1:"

// KeyInfo is the HKDF info that derives the webhook secrets' key from the
// server's key-encryption key; no other use of that key shares it.
const KeyInfo = "opsiam webhook secrets"

// ErrSecretUnreadable is a sealed secret that does not open under this
// key: another server's key, or a value that was changed.
var ErrSecretUnreadable = errors.New("webhook: the stored secret does not open with this server's key-encryption key")

// Sealer encrypts webhook secrets at rest with AES-256-GCM, bound to the
// endpoint id as additional data, so a sealed secret copied to another
// endpoint's row does not open. HMAC needs the secret itself, so it cannot
// be hashed like other secrets.
type Sealer struct{ aead cipher.AEAD }

// NewSealer derives the webhook secrets' key from the key-encryption key
// (HKDF-SHA256, info KeyInfo) and returns a Sealer under it.
func NewSealer(kek [32]byte) (*Sealer, error) {
	key, err := hkdf.Key(sha256.New, kek[:], nil, KeyInfo, 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Sealer{aead: aead}, nil
}

func additionalData(endpointID string) []byte { return []byte("webhook:" + endpointID) }

// Seal encrypts the secret of endpoint endpointID for storage: SealedPrefix
// + base64url(nonce ‖ ciphertext). A nil Sealer (no key configured: tests
// only; the server always has one) keeps the secret as is.
func (s *Sealer) Seal(endpointID, secret string) (string, error) {
	if s == nil {
		return secret, nil
	}
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(secret)+s.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	out := s.aead.Seal(nonce, nonce, []byte(secret), additionalData(endpointID))
	return SealedPrefix + base64.RawURLEncoding.EncodeToString(out), nil
}

// Open returns the secret of endpoint endpointID from its stored value. A
// value without SealedPrefix is a legacy clear secret and is returned as
// is; a sealed one that does not open (wrong key, other endpoint, changed
// bytes) is ErrSecretUnreadable, as is any sealed value for a nil Sealer.
func (s *Sealer) Open(endpointID, stored string) (string, error) {
	rest, sealed := strings.CutPrefix(stored, SealedPrefix)
	if !sealed {
		return stored, nil
	}
	if s == nil {
		return "", fmt.Errorf("%w (no key configured)", ErrSecretUnreadable)
	}
	raw, err := base64.RawURLEncoding.DecodeString(rest)
	if err != nil || len(raw) < s.aead.NonceSize() {
		return "", ErrSecretUnreadable
	}
	n := s.aead.NonceSize()
	plain, err := s.aead.Open(nil, raw[:n], raw[n:], additionalData(endpointID))
	if err != nil {
		return "", ErrSecretUnreadable
	}
	return string(plain), nil
}

// IsSealed reports whether a stored secret is encrypted.
func IsSealed(stored string) bool { return strings.HasPrefix(stored, SealedPrefix) }
