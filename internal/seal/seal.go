// Package seal encrypts small secrets at rest, and small browser state in
// cookies, with AES-256-GCM under a key derived (HKDF-SHA256) from the
// server's key-encryption key. Each use derives its own key from its own
// info string, and each value is bound to additional data (the row it
// belongs to), so a sealed value copied elsewhere does not open.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
)

// Prefix marks a sealed value.
const Prefix = "sealed:v1:"

// ErrUnreadable is a sealed value that does not open under this key:
// another server's key, another row, or changed bytes.
var ErrUnreadable = errors.New("seal: the value does not open with this server's key-encryption key")

// Box seals and opens values under one derived key.
type Box struct{ aead cipher.AEAD }

// New derives the key of one use (info) from the key-encryption key.
func New(kek [32]byte, info string) (*Box, error) {
	key, err := hkdf.Key(sha256.New, kek[:], nil, info, 32)
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
	return &Box{aead: aead}, nil
}

// Seal encrypts plain bound to ad: Prefix + base64url(nonce ‖ ciphertext).
func (b *Box) Seal(ad, plain string) (string, error) {
	nonce := make([]byte, b.aead.NonceSize(), b.aead.NonceSize()+len(plain)+b.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	out := b.aead.Seal(nonce, nonce, []byte(plain), []byte(ad))
	return Prefix + base64.RawURLEncoding.EncodeToString(out), nil
}

// Open reverses Seal; anything that was not sealed by this Box for ad is
// ErrUnreadable.
func (b *Box) Open(ad, sealed string) (string, error) {
	rest, ok := strings.CutPrefix(sealed, Prefix)
	if !ok {
		return "", ErrUnreadable
	}
	raw, err := base64.RawURLEncoding.DecodeString(rest)
	n := b.aead.NonceSize()
	if err != nil || len(raw) < n {
		return "", ErrUnreadable
	}
	plain, err := b.aead.Open(nil, raw[:n], raw[n:], []byte(ad))
	if err != nil {
		return "", ErrUnreadable
	}
	return string(plain), nil
}
