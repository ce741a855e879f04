package auth

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"

	"opsiam/internal/directory"
)

// sealedPrefix marks a TOTP secret stored encrypted; a stored secret
// without it is the plain base32 secret (no key configured).
const sealedPrefix = "enc1:"

// errSealed: a secret is stored encrypted but the key is missing or wrong.
var errSealed = errors.New("auth: cannot open the stored one-time code secret (wrong or missing secret key)")

// seal encrypts a TOTP secret with AES-256-GCM under the service's
// SecretKey, bound to the user id so that a secret copied to another user's
// row does not open. Without a key the secret is stored as it is.
func (s *Service) seal(u directory.UserID, secret string) (string, error) {
	if s.SecretKey == nil {
		return secret, nil
	}
	aead, err := newAEAD(s.SecretKey)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	out := aead.Seal(nonce, nonce, []byte(secret), []byte(u))
	return sealedPrefix + base64.RawURLEncoding.EncodeToString(out), nil
}

// open reverses seal; a plain secret passes through.
func (s *Service) open(u directory.UserID, stored string) (string, error) {
	rest, ok := strings.CutPrefix(stored, sealedPrefix)
	if !ok {
		return stored, nil
	}
	if s.SecretKey == nil {
		return "", errSealed
	}
	raw, err := base64.RawURLEncoding.DecodeString(rest)
	if err != nil {
		return "", errSealed
	}
	aead, err := newAEAD(s.SecretKey)
	if err != nil {
		return "", err
	}
	if len(raw) < aead.NonceSize() {
		return "", errSealed
	}
	plain, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], []byte(u))
	if err != nil {
		return "", errSealed
	}
	return string(plain), nil
}

func newAEAD(key *[32]byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key[:])
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}
