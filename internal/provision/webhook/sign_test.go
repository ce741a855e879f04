package webhook

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The test vector published with the Standard Webhooks reference libraries.
const (
	vecSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	vecID     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	vecTS     = 1614265330
	vecBody   = `{"test": 2432232314}`
	vecSig    = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func TestSignStandardWebhooksVector(t *testing.T) {
	got, err := Sign(vecSecret, vecID, time.Unix(vecTS, 0), []byte(vecBody))
	if err != nil || got != vecSig {
		t.Fatalf("Sign = %q, %v; want %q", got, err, vecSig)
	}
}

func headers(id, ts, sig string) http.Header {
	h := http.Header{}
	if id != "" {
		h.Set(HeaderID, id)
	}
	if ts != "" {
		h.Set(HeaderTimestamp, ts)
	}
	if sig != "" {
		h.Set(HeaderSignature, sig)
	}
	return h
}

func TestVerify(t *testing.T) {
	at := time.Unix(vecTS, 0)
	tests := []struct {
		name    string
		secret  string
		h       http.Header
		body    string
		now     time.Time
		wantErr error
	}{
		{"the vector", vecSecret, headers(vecID, "1614265330", vecSig), vecBody, at, nil},
		{"secret without prefix", strings.TrimPrefix(vecSecret, "whsec_"), headers(vecID, "1614265330", vecSig), vecBody, at, nil},
		{"one of several signatures", vecSecret, headers(vecID, "1614265330", "v1,bm9wZQ== v2,xyz "+vecSig), vecBody, at, nil},
		{"within tolerance", vecSecret, headers(vecID, "1614265330", vecSig), vecBody, at.Add(4 * time.Minute), nil},
		{"tampered body", vecSecret, headers(vecID, "1614265330", vecSig), `{"test": 2432232315}`, at, ErrSignature},
		{"other id", vecSecret, headers("msg_other", "1614265330", vecSig), vecBody, at, ErrSignature},
		{"wrong secret", NewSecret(), headers(vecID, "1614265330", vecSig), vecBody, at, ErrSignature},
		{"too old", vecSecret, headers(vecID, "1614265330", vecSig), vecBody, at.Add(6 * time.Minute), ErrTimestamp},
		{"from the future", vecSecret, headers(vecID, "1614265330", vecSig), vecBody, at.Add(-6 * time.Minute), ErrTimestamp},
		{"bad timestamp", vecSecret, headers(vecID, "yesterday", vecSig), vecBody, at, ErrTimestamp},
		{"no signature", vecSecret, headers(vecID, "1614265330", ""), vecBody, at, ErrMissingHeaders},
		{"no id", vecSecret, headers("", "1614265330", vecSig), vecBody, at, ErrMissingHeaders},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Verify(tc.secret, tc.h, []byte(tc.body), tc.now, 0)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Verify = %v, want %v", err, tc.wantErr)
			}
		})
	}
	if err := Verify("whsec_***", headers(vecID, "1614265330", vecSig), []byte(vecBody), at, 0); err == nil {
		t.Fatal("a malformed secret verified")
	}
}

func TestNewSecret(t *testing.T) {
	a, b := NewSecret(), NewSecret()
	if a == b || !strings.HasPrefix(a, "whsec_") {
		t.Fatalf("secrets %q %q", a, b)
	}
	key, err := secretKey(a)
	if err != nil || len(key) != 32 {
		t.Fatalf("key of %d bytes, %v", len(key), err)
	}
	sig, err := Sign(a, "id", time.Unix(1, 0), []byte("x"))
	if err != nil || Verify(a, headers("id", "1", sig), []byte("x"), time.Unix(1, 0), 0) != nil {
		t.Fatal("a new secret does not verify its own signature")
	}
}

func TestMatches(t *testing.T) {
	tests := []struct {
		types []string
		topic string
		want  bool
	}{
		{[]string{"*"}, "user.created", true},
		{[]string{"group.*"}, "group.member_added", true},
		{[]string{"group.*"}, "groups.x", false},
		{[]string{"user.deleted"}, "user.deleted", true},
		{[]string{"user.deleted"}, "user.deleted_x", false},
		{nil, "user.created", false},
	}
	for _, tc := range tests {
		if got := Matches(tc.types, tc.topic); got != tc.want {
			t.Errorf("Matches(%v, %q) = %v", tc.types, tc.topic, got)
		}
	}
}

// FuzzVerify: any headers and body are refused or accepted without a
// panic, and a signature made by Sign always verifies.
func FuzzVerify(f *testing.F) {
	f.Add(vecID, "1614265330", vecSig, vecBody)
	f.Add("", "x", "v1,", "")
	f.Fuzz(func(t *testing.T, id, ts, sig, body string) {
		_ = Verify(vecSecret, headers(id, ts, sig), []byte(body), time.Unix(vecTS, 0), 0)
		if id == "" {
			return
		}
		good, err := Sign(vecSecret, id, time.Unix(vecTS, 0), []byte(body))
		if err != nil {
			t.Fatal(err)
		}
		if err := Verify(vecSecret, headers(id, "1614265330", good), []byte(body), time.Unix(vecTS, 0), 0); err != nil {
			t.Fatalf("own signature refused for id %q: %v", id, err)
		}
	})
}
