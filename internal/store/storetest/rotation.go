package storetest

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"opsiam/internal/store"
)

// testTokenRotation checks store.TokenRotation: the old refresh token is
// used and both new tokens stored at once; of parallel rotations exactly one
// wins and the losers store nothing; a used or unknown token stores nothing.
func testTokenRotation(t *testing.T, open Factory) {
	ctx := context.Background()
	s := open(t)
	mustClient(t, s, "app")
	now := time.Now().UTC().Truncate(time.Microsecond)
	tok := func(id string) store.OIDCToken {
		return store.OIDCToken{ID: id, FamilyID: "f1", ClientID: "app", UserID: "u1", SessionID: "s1",
			Scopes: []string{"openid", "offline_access"}, Audience: []string{"app"}, AMR: []string{"pwd"},
			AuthTime: now, ExpiresAt: now.Add(time.Hour), CreatedAt: now}
	}
	if err := s.CreateRefreshToken(ctx, tok("r0")); err != nil {
		t.Fatal(err)
	}
	if err := s.RotateRefreshToken(ctx, "r0", now, tok("r1"), tok("a1")); err != nil {
		t.Fatalf("rotate: %v", err)
	}
	old, err := s.GetRefreshToken(ctx, "r0")
	if err != nil || !old.UsedAt.Equal(now) {
		t.Fatalf("old token not marked used: %+v %v", old, err)
	}
	next, err := s.GetRefreshToken(ctx, "r1")
	if err != nil || !next.UsedAt.IsZero() || next.FamilyID != "f1" || !next.AuthTime.Equal(now) ||
		!slices.Equal(next.Scopes, []string{"openid", "offline_access"}) || !slices.Equal(next.AMR, []string{"pwd"}) {
		t.Fatalf("new refresh token: %+v %v", next, err)
	}
	if a, err := s.GetAccessToken(ctx, "a1"); err != nil || a.UserID != "u1" || !slices.Equal(a.Audience, []string{"app"}) {
		t.Fatalf("new access token: %+v %v", a, err)
	}
	if _, err := s.GetRefreshToken(ctx, "a1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the access token was stored as a refresh token: %v", err)
	}
	// A reuse stores nothing.
	if err := s.RotateRefreshToken(ctx, "r0", now, tok("r2"), tok("a2")); !errors.Is(err, store.ErrStale) {
		t.Fatalf("reuse: %v, want ErrStale", err)
	}
	if err := s.RotateRefreshToken(ctx, "nope", now, tok("r3"), tok("a3")); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown token: %v, want ErrNotFound", err)
	}
	for _, id := range []string{"r2", "r3"} {
		if _, err := s.GetRefreshToken(ctx, id); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("a failed rotation stored refresh token %s: %v", id, err)
		}
	}
	for _, id := range []string{"a2", "a3"} {
		if _, err := s.GetAccessToken(ctx, id); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("a failed rotation stored access token %s: %v", id, err)
		}
	}
	// Parallel rotations of one token: exactly one wins, only its tokens exist.
	var wg sync.WaitGroup
	var mu sync.Mutex
	winner, wins, stale := -1, 0, 0
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.RotateRefreshToken(ctx, "r1", now, tok("p-r"+string(rune('a'+i))), tok("p-a"+string(rune('a'+i))))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
				winner = i
			case errors.Is(err, store.ErrStale):
				stale++
			default:
				t.Errorf("parallel rotation: %v", err)
			}
		}()
	}
	wg.Wait()
	if wins != 1 || stale != 7 {
		t.Fatalf("parallel rotation: %d won, %d stale; want 1 and 7", wins, stale)
	}
	for i := range 8 {
		suffix := string(rune('a' + i))
		_, rerr := s.GetRefreshToken(ctx, "p-r"+suffix)
		_, aerr := s.GetAccessToken(ctx, "p-a"+suffix)
		if i == winner && (rerr != nil || aerr != nil) {
			t.Fatalf("winner's tokens missing: %v %v", rerr, aerr)
		}
		if i != winner && (!errors.Is(rerr, store.ErrNotFound) || !errors.Is(aerr, store.ErrNotFound)) {
			t.Fatalf("loser %d stored tokens: %v %v", i, rerr, aerr)
		}
	}
}
