package oidc

import (
	"encoding/hex"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"opsiam/internal/directory"
	"opsiam/internal/manage"
)

func TestParseKEK(t *testing.T) {
	good := []string{strings.Repeat("ab", 32), "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"}
	for _, s := range good {
		if _, err := ParseKEK(s); err != nil {
			t.Errorf("%q: %v", s, err)
		}
	}
	for _, s := range []string{"", "short", strings.Repeat("zz", 32), "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8fHw=="} {
		if _, err := ParseKEK(s); err == nil || !strings.Contains(err.Error(), "key-encryption-key") {
			t.Errorf("%q accepted (%v)", s, err)
		}
	}
}

func TestLoadOrCreateKEKFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "key-encryption-key")
	k1, created, err := LoadOrCreateKEKFile(path)
	if err != nil || !created {
		t.Fatalf("create: %v %v", created, err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("file mode %v %v", fi.Mode(), err)
	}
	k2, created, err := LoadOrCreateKEKFile(path)
	if err != nil || created || k1 != k2 || k1 == [32]byte{} {
		t.Fatalf("reload: %v %v", created, err)
	}
	if err := os.WriteFile(path, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadOrCreateKEKFile(path); err == nil {
		t.Fatal("a broken key file was accepted")
	}
}

func TestIssuerMustBeHTTPSUnlessLocal(t *testing.T) {
	db := openDB(t, false)
	base := Config{Store: db, Graphs: &manage.RoleGraphs{Store: db}, LoginURL: func(string) string { return "/login" },
		Sessions:   func(*http.Request) (directory.UserID, bool, error) { return "", false, nil },
		SessionKey: func(*http.Request) string { return "" }}
	for issuer, ok := range map[string]bool{
		"https://id.example":     true,
		"http://localhost:8080":  true,
		"http://127.0.0.1:9000":  true,
		"http://id.example":      false,
		"not a url":              false,
		"https://id.example/?x#": false,
	} {
		cfg := base
		cfg.Issuer = issuer
		if _, err := New(cfg); (err == nil) != ok {
			t.Errorf("issuer %q: %v", issuer, err)
		}
	}
	cfg := base
	cfg.Issuer, cfg.AllowInsecure = "http://id.example", true
	if _, err := New(cfg); err != nil {
		t.Errorf("insecure dev flag: %v", err)
	}
}

func FuzzParseKEK(f *testing.F) {
	f.Add(strings.Repeat("ab", 32))
	f.Add("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")
	f.Fuzz(func(t *testing.T, s string) {
		k, err := ParseKEK(s)
		if err != nil {
			return // refusing is fine; panicking is not
		}
		again, err := ParseKEK(hex.EncodeToString(k[:]))
		if err != nil || again != k {
			t.Fatalf("%q: the hex form of its key does not parse back (%v)", s, err)
		}
	})
}
