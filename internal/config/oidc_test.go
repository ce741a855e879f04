package config

import (
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

func TestOIDCSettings(t *testing.T) {
	c, _, err := Load("serve", nil, env(nil), io.Discard)
	if err != nil || c.SigningKeyRotation != DefaultSigningKeyRotation || c.InsecureIssuer || c.KeyEncryptionKey != "" {
		t.Fatalf("defaults: %+v %v", c, err)
	}
	c, _, err = Load("serve", []string{"--signing-key-rotation", "48h"}, env(map[string]string{
		"OPSIAM_KEY_ENCRYPTION_KEY": "kek-secret", "OPSIAM_SIGNING_KEY_ROTATION": "24h", "OPSIAM_INSECURE_ISSUER": "true"}), io.Discard)
	if err != nil || c.SigningKeyRotation != 48*time.Hour || !c.InsecureIssuer || string(c.KeyEncryptionKey) != "kek-secret" {
		t.Fatalf("environment and flags: %+v %v", c, err)
	}
	if strings.Contains(fmt.Sprintf("%+v", c), "kek-secret") {
		t.Fatal("the key-encryption key is printed")
	}
	for _, tc := range []struct {
		env  map[string]string
		args []string
		want string
	}{
		{map[string]string{"OPSIAM_SIGNING_KEY_ROTATION": "soon"}, nil, "OPSIAM_SIGNING_KEY_ROTATION"},
		{map[string]string{"OPSIAM_INSECURE_ISSUER": "maybe"}, nil, "OPSIAM_INSECURE_ISSUER"},
		{nil, []string{"--signing-key-rotation", "1m"}, "signing-key-rotation"},
	} {
		if _, _, err := Load("serve", tc.args, env(tc.env), io.Discard); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v %v: got %v, want an error naming %s", tc.env, tc.args, err, tc.want)
		}
	}
}
