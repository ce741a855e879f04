package oidc

import (
	"strings"
	"testing"

	"github.com/zitadel/oidc/v3/pkg/op"
)

func TestTokenCrypto(t *testing.T) {
	key := [32]byte{7, 7, 7}
	c, err := newTokenCrypto(key, "")
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := c.Encrypt("token-id:user-id")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(sealed, sealPrefix) || strings.Contains(sealed, "token-id") {
		t.Fatalf("sealed = %q", sealed)
	}
	if again, _ := c.Encrypt("token-id:user-id"); again == sealed {
		t.Error("two seals of the same text are equal: the nonce is not random")
	}
	if got, err := c.Decrypt(sealed); err != nil || got != "token-id:user-id" {
		t.Fatalf("Decrypt = %q, %v", got, err)
	}

	// Tokens the library sealed before the change (JWE) still open.
	old, err := op.NewAES256GCMCrypto(key, "").Encrypt("old-id:user-id")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := c.Decrypt(old); err != nil || got != "old-id:user-id" {
		t.Fatalf("Decrypt(library JWE) = %q, %v", got, err)
	}

	// Tampering, truncation, another key and junk are refused.
	other, _ := newTokenCrypto([32]byte{8}, "")
	flipped := []byte(sealed)
	flipped[len(flipped)-3] ^= 1
	for name, s := range map[string]string{
		"flipped":     string(flipped),
		"truncated":   sealed[:len(sealPrefix)+10],
		"prefix only": sealPrefix,
		"not base64":  sealPrefix + "!!!!",
		"junk":        "eyJhbGciOi.junk",
	} {
		if got, err := c.Decrypt(s); err == nil {
			t.Errorf("%s: Decrypt = %q, want an error", name, got)
		}
	}
	if got, err := other.Decrypt(sealed); err == nil {
		t.Errorf("another key opened the token: %q", got)
	}
}
