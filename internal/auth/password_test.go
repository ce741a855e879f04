package auth

import (
	"errors"
	"strings"
	"testing"
)

func fastParams() Params { return Params{Time: 1, MemoryKiB: 64, Threads: 1, KeyLen: 32, SaltLen: 16} }

func TestHashVerify(t *testing.T) {
	h := Hasher{Params: fastParams()}
	enc, err := h.Hash("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("not a PHC argon2id string: %s", enc)
	}
	again, _ := h.Hash("correct horse battery")
	if again == enc {
		t.Fatal("two hashes of one password are equal: salt is not random")
	}
	tests := []struct {
		name   string
		h      Hasher
		pw     string
		ok     bool
		rehash bool
	}{
		{"right password", h, "correct horse battery", true, false},
		{"wrong password", h, "correct horse batterY", false, false},
		{"empty password", h, "", false, false},
		{"parameters changed", Hasher{Params: Params{Time: 2, MemoryKiB: 64, Threads: 1, KeyLen: 32, SaltLen: 16}}, "correct horse battery", true, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ok, rehash, err := tc.h.Verify(enc, tc.pw)
			if err != nil || ok != tc.ok || rehash != tc.rehash {
				t.Fatalf("Verify = %v, %v, %v; want %v, %v", ok, rehash, err, tc.ok, tc.rehash)
			}
		})
	}
}

func TestVerifyMalformed(t *testing.T) {
	h := Hasher{Params: fastParams()}
	for _, s := range []string{"", "plain", "$argon2i$v=19$m=64,t=1,p=1$c2FsdA$a2V5", "$argon2id$v=19$m=64,t=0,p=1$c2FsdA$a2V5",
		"$argon2id$v=19$m=99999999,t=1,p=1$c2FsdA$a2V5", "$argon2id$v=19$m=64,t=1,p=1$!!$a2V5"} {
		if _, _, err := h.Verify(s, "x"); !errors.Is(err, ErrMalformedHash) {
			t.Errorf("Verify(%q) error = %v, want ErrMalformedHash", s, err)
		}
	}
}

func TestRandomPassword(t *testing.T) {
	a, _ := RandomPassword(20)
	b, _ := RandomPassword(20)
	if len(a) != 20 || a == b {
		t.Fatalf("RandomPassword gave %q and %q", a, b)
	}
}

func TestUnmatchable(t *testing.T) {
	h := Hasher{Params: Params{Time: 1, MemoryKiB: 64, Threads: 1, KeyLen: 32, SaltLen: 16}}
	a, err := h.Unmatchable()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := h.Unmatchable()
	if a == b {
		t.Fatal("two unmatchable hashes are equal: salt and key are not random")
	}
	real, _ := h.Hash("a password")
	p, salt, key, err := decodeHash(a)
	rp, _, _, _ := decodeHash(real)
	if err != nil || p != rp || len(salt) != 16 || len(key) != 32 {
		t.Fatalf("decodeHash = %+v salt %d key %d, %v; want the parameters of a real hash %+v", p, len(salt), len(key), err, rp)
	}
	for _, pw := range []string{"", "a password", strings.Repeat("x", 128)} {
		if ok, rehash, err := h.Verify(a, pw); ok || rehash || err != nil {
			t.Errorf("Verify(unmatchable, %q) = %v, %v, %v; want false, false, nil", pw, ok, rehash, err)
		}
	}
}
