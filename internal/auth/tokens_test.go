package auth_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"opsiam/internal/auth"
	"opsiam/internal/directory"
	"opsiam/internal/store"
	"opsiam/internal/store/sqlstore"
)

func TestPlatformTokens(t *testing.T) {
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	u, err := db.CreateUser(ctx, directory.User{Username: "svc", Email: "svc@example.com", FirstName: "S", LastName: "V", Enabled: true, Timezone: "UTC"})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p := auth.PlatformTokens{Store: db, Now: func() time.Time { return now }}
	text, hash, err := auth.NewPlatformToken()
	if err != nil || !strings.HasPrefix(text, auth.TokenPrefix) || hash != auth.HashToken(text) || strings.Contains(hash, text) {
		t.Fatalf("new token %q %q %v", text, hash, err)
	}
	other, _, _ := auth.NewPlatformToken()
	if other == text {
		t.Fatal("two tokens alike")
	}
	if err := db.PutPlatformToken(ctx, store.PlatformToken{UserID: u.ID, Hash: hash, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if id, err := p.Authenticate(ctx, text); err != nil || id != u.ID {
		t.Fatalf("authenticate: %q %v", id, err)
	}
	for _, bad := range []string{"", other, text + "x", "Bearer " + text, strings.TrimPrefix(text, auth.TokenPrefix)} {
		if _, err := p.Authenticate(ctx, bad); !errors.Is(err, auth.ErrBadToken) {
			t.Errorf("token %q accepted: %v", bad, err)
		}
	}
	now = now.Add(time.Hour)
	if _, err := p.Authenticate(ctx, text); !errors.Is(err, auth.ErrBadToken) {
		t.Fatalf("expired token accepted: %v", err)
	}
}
