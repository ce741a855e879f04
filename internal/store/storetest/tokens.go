package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"opsiam/internal/store"
)

func testTokens(t *testing.T, open Factory) {
	ctx := context.Background()
	s := open(t)
	alice, bob := mustUser(t, s, "alice"), mustUser(t, s, "bob")
	at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	if _, err := s.PlatformToken(ctx, alice.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("token before issue: %v", err)
	}
	if err := s.PutPlatformToken(ctx, store.PlatformToken{UserID: alice.ID, Hash: "h1", CreatedAt: at, IssuedBy: "x"}); err != nil {
		t.Fatal(err)
	}
	got, err := s.PlatformTokenByHash(ctx, "h1")
	if err != nil || got.UserID != alice.ID || !got.CreatedAt.Equal(at) || !got.ExpiresAt.IsZero() || got.IssuedBy != "x" {
		t.Fatalf("by hash: %+v %v", got, err)
	}
	// A second token replaces the first: at most one per user (A6).
	exp := at.Add(time.Hour)
	if err := s.PutPlatformToken(ctx, store.PlatformToken{UserID: alice.ID, Hash: "h2", CreatedAt: at, ExpiresAt: exp}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PlatformTokenByHash(ctx, "h1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("replaced token still found: %v", err)
	}
	if got, err := s.PlatformToken(ctx, alice.ID); err != nil || got.Hash != "h2" || !got.ExpiresAt.Equal(exp) {
		t.Fatalf("after replace: %+v %v", got, err)
	}
	if err := s.PutPlatformToken(ctx, store.PlatformToken{UserID: bob.ID, Hash: "h2"}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("same hash for two users: %v", err)
	}
	if err := s.DeletePlatformToken(ctx, alice.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.DeletePlatformToken(ctx, alice.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second revoke: %v", err)
	}
	// Deleting the user deletes its token.
	if err := s.PutPlatformToken(ctx, store.PlatformToken{UserID: bob.ID, Hash: "h3"}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteUser(ctx, bob.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PlatformTokenByHash(ctx, "h3"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("token of a deleted user: %v", err)
	}
}
