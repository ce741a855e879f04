package storetest

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"opsiam/internal/store"
)

func testPasskeys(t *testing.T, open Factory) {
	ctx := context.Background()
	s := open(t)
	alice, bob := mustUser(t, s, "alice"), mustUser(t, s, "bob")
	if got, err := s.UserPasskeys(ctx, alice.ID); err != nil || len(got) != 0 {
		t.Fatalf("no passkeys yet: %+v %v", got, err)
	}
	in := store.Passkey{UserID: alice.ID, CredentialID: []byte{1, 2, 3, 0xff}, PublicKey: []byte{0xa5, 0, 1},
		AttestationType: "none", AAGUID: make([]byte, 16), SignCount: 5, UserVerified: true, BackupEligible: true,
		Transports: []string{"internal", "hybrid"}, Name: "ラップトップ"}
	p1, err := s.CreatePasskey(ctx, in)
	if err != nil || p1.ID == "" || p1.CreatedAt.IsZero() || !p1.LastUsedAt.IsZero() {
		t.Fatalf("create: %+v %v", p1, err)
	}
	got, err := s.PasskeyByCredential(ctx, []byte{1, 2, 3, 0xff})
	if err != nil || got.ID != p1.ID || got.UserID != alice.ID || !bytes.Equal(got.PublicKey, in.PublicKey) ||
		got.SignCount != 5 || !got.UserVerified || !got.BackupEligible || got.BackupState || len(got.AAGUID) != 16 ||
		len(got.Transports) != 2 || got.Transports[1] != "hybrid" || got.Name != in.Name || !got.CreatedAt.Equal(p1.CreatedAt) {
		t.Fatalf("by credential: %+v %v", got, err)
	}
	if _, err := s.PasskeyByCredential(ctx, []byte{1, 2, 3}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown credential: %v", err)
	}
	// A credential id belongs to one passkey only.
	dup := in
	dup.UserID = bob.ID
	var ce *store.ConflictError
	if _, err := s.CreatePasskey(ctx, dup); !errors.As(err, &ce) || ce.Field != "credential_id" {
		t.Fatalf("same credential twice: %v", err)
	}
	if _, err := s.CreatePasskey(ctx, store.Passkey{UserID: "nobody", CredentialID: []byte{9}, PublicKey: []byte{1}, Name: "x"}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("passkey of an unknown user: %v", err)
	}
	p2, err := s.CreatePasskey(ctx, store.Passkey{UserID: alice.ID, CredentialID: []byte{7}, PublicKey: []byte{1}, Name: "key"})
	if err != nil {
		t.Fatal(err)
	}
	if list, err := s.UserPasskeys(ctx, alice.ID); err != nil || len(list) != 2 || list[0].ID != p1.ID || list[1].ID != p2.ID {
		t.Fatalf("list: %+v %v", list, err)
	}

	// The sign count only moves forward; zero stays allowed for
	// authenticators without a counter.
	at := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	if err := s.UsePasskey(ctx, p1.ID, store.PasskeyUse{SignCount: 6, BackupState: true, At: at}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.PasskeyByCredential(ctx, p1.CredentialID); got.SignCount != 6 || !got.BackupState || !got.LastUsedAt.Equal(at) {
		t.Fatalf("after use: %+v", got)
	}
	for _, n := range []uint32{6, 3, 0} {
		if err := s.UsePasskey(ctx, p1.ID, store.PasskeyUse{SignCount: n, At: at}); !errors.Is(err, store.ErrStale) {
			t.Fatalf("sign count %d after 6: %v", n, err)
		}
	}
	if err := s.UsePasskey(ctx, p2.ID, store.PasskeyUse{SignCount: 0, At: at}); err != nil {
		t.Fatalf("counter-less authenticator: %v", err)
	}
	if err := s.UsePasskey(ctx, "gone", store.PasskeyUse{SignCount: 1, At: at}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown passkey: %v", err)
	}

	// Removal is by owner and id.
	if err := s.DeletePasskey(ctx, bob.ID, p1.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("removing another user's passkey: %v", err)
	}
	if err := s.DeletePasskey(ctx, alice.ID, p1.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.DeletePasskey(ctx, alice.ID, p1.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second removal: %v", err)
	}
	// Deleting the user deletes its passkeys.
	if err := s.DeleteUser(ctx, alice.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PasskeyByCredential(ctx, p2.CredentialID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("passkey of a deleted user: %v", err)
	}
}

func testPasskeyCeremonies(t *testing.T, open Factory) {
	ctx := context.Background()
	s := open(t)
	now := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	c := store.PasskeyCeremony{Hash: "h1", Purpose: store.CeremonyLogin, Data: []byte(`{"challenge":"x"}`), ExpiresAt: now.Add(time.Minute)}
	if err := s.CreatePasskeyCeremony(ctx, c); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ConsumePasskeyCeremony(ctx, "h1", store.CeremonyRegister, now); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("other purpose: %v", err)
	}
	got, err := s.ConsumePasskeyCeremony(ctx, "h1", store.CeremonyLogin, now)
	if err != nil || string(got.Data) != string(c.Data) || got.Purpose != store.CeremonyLogin || !got.ExpiresAt.Equal(c.ExpiresAt) {
		t.Fatalf("consume: %+v %v", got, err)
	}
	// Single use.
	if _, err := s.ConsumePasskeyCeremony(ctx, "h1", store.CeremonyLogin, now); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second use: %v", err)
	}
	u := mustUser(t, s, "carol")
	old := store.PasskeyCeremony{Hash: "h2", Purpose: store.CeremonyRegister, UserID: u.ID, Data: []byte("{}"), ExpiresAt: now}
	if err := s.CreatePasskeyCeremony(ctx, old); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ConsumePasskeyCeremony(ctx, "h2", store.CeremonyRegister, now); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("expired ceremony: %v", err)
	}
	if n, err := s.DeleteExpiredPasskeyCeremonies(ctx, now); err != nil || n != 1 {
		t.Fatalf("purge: %d %v", n, err)
	}
	// Parallel uses: exactly one wins.
	if err := s.CreatePasskeyCeremony(ctx, store.PasskeyCeremony{Hash: "h3", Purpose: store.CeremonyLogin, Data: []byte("{}"), ExpiresAt: now.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	wins := make(chan bool, 8)
	for range 8 {
		go func() {
			_, err := s.ConsumePasskeyCeremony(ctx, "h3", store.CeremonyLogin, now)
			wins <- err == nil
		}()
	}
	n := 0
	for range 8 {
		if <-wins {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d parallel uses of one ceremony succeeded", n)
	}
}
