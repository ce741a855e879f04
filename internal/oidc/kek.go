package oidc

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
)

// ParseKEK reads a key-encryption key: 32 bytes as 64 hex digits or as
// base64 (standard or URL alphabet, padded or not).
func ParseKEK(s string) ([32]byte, error) {
	var k [32]byte
	s = strings.TrimSpace(s)
	var b []byte
	var err error
	if len(s) == 64 {
		b, err = hex.DecodeString(s)
	} else {
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
			if b, err = enc.DecodeString(s); err == nil {
				break
			}
		}
	}
	if err != nil || len(b) != 32 {
		return k, errors.New("key-encryption-key: want 32 bytes as 64 hex digits or base64 (e.g. `openssl rand -base64 32`)")
	}
	copy(k[:], b)
	return k, nil
}

// LoadOrCreateKEKFile reads the key-encryption key from path, creating the
// file with a new random key (mode 0600) when it does not exist. It is the
// embedded default's key: every replica of a PostgreSQL deployment needs
// the same key, given as --key-encryption-key.
func LoadOrCreateKEKFile(path string) (k [32]byte, created bool, err error) {
	b, err := os.ReadFile(path)
	if err == nil {
		k, err = ParseKEK(string(b))
		if err != nil {
			return k, false, fmt.Errorf("%s: %w", path, err)
		}
		return k, false, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return k, false, err
	}
	if _, err := rand.Read(k[:]); err != nil {
		return k, false, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return k, false, err
	}
	if _, err := f.WriteString(base64.StdEncoding.EncodeToString(k[:]) + "\n"); err != nil {
		f.Close()
		return k, false, err
	}
	return k, true, f.Close()
}
