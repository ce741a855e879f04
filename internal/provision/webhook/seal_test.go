package webhook_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"opsiam/internal/provision"
	"opsiam/internal/provision/webhook"
	"opsiam/internal/store"
	"opsiam/internal/store/sqlstore"
	"opsiam/internal/store/sqlstore/sqltest"
)

func sealer(t testing.TB, b byte) *webhook.Sealer {
	t.Helper()
	var kek [32]byte
	for i := range kek {
		kek[i] = b + byte(i)
	}
	s, err := webhook.NewSealer(kek)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSealer(t *testing.T) {
	s, other := sealer(t, 1), sealer(t, 2)
	secret := webhook.NewSecret()
	sealed, err := s.Seal("ep1", secret)
	if err != nil {
		t.Fatal(err)
	}
	if !webhook.IsSealed(sealed) || strings.Contains(sealed, strings.TrimPrefix(secret, "whsec_")) {
		t.Fatalf("sealed value %q shows the secret or lacks the prefix", sealed)
	}
	if again, _ := s.Seal("ep1", secret); again == sealed {
		t.Fatal("two seals of one secret are equal: the nonce is not fresh")
	}
	if got, err := s.Open("ep1", sealed); err != nil || got != secret {
		t.Fatalf("open: %q %v", got, err)
	}
	if _, err := other.Open("ep1", sealed); !errors.Is(err, webhook.ErrSecretUnreadable) {
		t.Fatalf("another key opened it: %v", err)
	}
	if _, err := s.Open("ep2", sealed); !errors.Is(err, webhook.ErrSecretUnreadable) {
		t.Fatalf("opened as another endpoint's secret: %v", err)
	}
	tampered := sealed[:len(sealed)-2] + "AA"
	if tampered == sealed {
		tampered = sealed[:len(sealed)-2] + "BB"
	}
	if _, err := s.Open("ep1", tampered); !errors.Is(err, webhook.ErrSecretUnreadable) {
		t.Fatalf("changed value opened: %v", err)
	}
	if _, err := s.Open("ep1", webhook.SealedPrefix+"%%%"); !errors.Is(err, webhook.ErrSecretUnreadable) {
		t.Fatalf("bad base64 opened: %v", err)
	}
	if got, err := s.Open("ep1", "whsec_legacy"); err != nil || got != "whsec_legacy" {
		t.Fatalf("legacy clear secret: %q %v", got, err)
	}
	var none *webhook.Sealer
	if _, err := none.Open("ep1", sealed); !errors.Is(err, webhook.ErrSecretUnreadable) {
		t.Fatalf("no key opened a sealed secret: %v", err)
	}
}

// TestSecretsSealedAtRest: the service stores only sealed secrets (on
// create, rotation, and the next update of a legacy clear one), and the
// worker's deliveries still verify at the receiver with the secret shown
// once; a server with another key signs nothing.
func TestSecretsSealedAtRest(t *testing.T) {
	for _, tc := range []struct {
		name string
		open func(t testing.TB) *sqlstore.DB
	}{
		{"SQLite", sqlite},
		{"Postgres", func(t testing.TB) *sqlstore.DB { return openDB(t, sqltest.Postgres(t)) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			db := tc.open(t)
			key := sealer(t, 7)
			svc := &webhook.Service{Store: db, Now: time.Now, Secrets: key}
			rcv, legacyRcv := &receiver{}, &receiver{}
			srv, legacySrv := httptest.NewServer(rcv), httptest.NewServer(legacyRcv)
			defer srv.Close()
			defer legacySrv.Close()

			ep, err := svc.Create(ctx, admin, webhook.Input{URL: srv.URL, EventTypes: []string{"*"}, Enabled: true})
			if err != nil {
				t.Fatal(err)
			}
			stored, err := db.GetWebhook(ctx, ep.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !webhook.IsSealed(stored.Secret) || strings.Contains(stored.Secret, ep.Secret) || !strings.HasPrefix(ep.Secret, "whsec_") {
				t.Fatalf("created: stored %q, shown %q", stored.Secret, ep.Secret)
			}
			rcv.setSecret(ep.Secret)

			// An endpoint written by an earlier version, secret in clear.
			legacySecret := webhook.NewSecret()
			legacy, err := db.CreateWebhook(ctx, store.WebhookEndpoint{URL: legacySrv.URL, EventTypes: []string{"*"},
				Enabled: true, Secret: legacySecret})
			if err != nil {
				t.Fatal(err)
			}
			legacyRcv.setSecret(legacySecret)

			// A server with another key-encryption key cannot sign for the sealed endpoint.
			wrong := &webhook.Endpoint{E: stored, Secrets: sealer(t, 9), Client: srv.Client()}
			if err := wrong.Deliver(ctx, store.Event{ID: "e0", Topic: "user.updated", Payload: json.RawMessage(`{}`)}); !errors.Is(err, webhook.ErrSecretUnreadable) {
				t.Fatalf("delivery with another key: %v", err)
			}
			if rcv.requests != 0 {
				t.Fatalf("the receiver got %d requests signed with nothing", rcv.requests)
			}

			deliver := func(n int) {
				t.Helper()
				want := rcv.count() + n // counted before any worker runs
				for range n {
					if _, err := db.Enqueue(ctx, store.Event{Topic: "user.updated", Aggregate: "user:1",
						Payload: json.RawMessage(`{"user_id":"1"}`)}); err != nil {
						t.Fatal(err)
					}
				}
				w := provision.NewWorker(db, provision.Config{Poll: 5 * time.Millisecond, BackoffBase: 5 * time.Millisecond,
					BackoffMax: 10 * time.Millisecond, MaxAttempts: 20}, nil)
				src := webhook.NewSource(db)
				src.Secrets = key
				w.Sources = []provision.TargetSource{src}
				runCtx, cancel := context.WithCancel(ctx)
				done := make(chan error, 1)
				go func() { done <- w.Run(runCtx) }()
				deadline := time.Now().Add(20 * time.Second)
				for rcv.count() < want || legacyRcv.count() < want {
					if time.Now().After(deadline) {
						cancel()
						<-done
						t.Fatalf("sealed endpoint got %d, legacy %d, want %d each", rcv.count(), legacyRcv.count(), want)
					}
					time.Sleep(10 * time.Millisecond)
				}
				cancel()
				<-done
			}
			deliver(3)

			// The next write seals the legacy secret; deliveries still verify.
			if _, err := svc.Update(ctx, admin, legacy.ID, webhook.Input{URL: legacySrv.URL, EventTypes: []string{"*"},
				Enabled: true, Description: "now sealed"}); err != nil {
				t.Fatal(err)
			}
			resealed, err := db.GetWebhook(ctx, legacy.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !webhook.IsSealed(resealed.Secret) || strings.Contains(resealed.Secret, legacySecret) {
				t.Fatalf("legacy secret not sealed on update: %q", resealed.Secret)
			}
			if got, err := key.Open(legacy.ID, resealed.Secret); err != nil || got != legacySecret {
				t.Fatalf("resealed secret opens to %q, %v", got, err)
			}
			// Rotation stores the new secret sealed.
			rotated, err := svc.RotateSecret(ctx, admin, ep.ID)
			if err != nil {
				t.Fatal(err)
			}
			if stored, _ := db.GetWebhook(ctx, ep.ID); !webhook.IsSealed(stored.Secret) || strings.Contains(stored.Secret, rotated) {
				t.Fatalf("rotated secret stored as %q", stored.Secret)
			}
			rcv.setSecret(rotated)
			deliver(2)
			if rcv.bad+legacyRcv.bad != 0 {
				t.Fatalf("%d unverifiable requests", rcv.bad+legacyRcv.bad)
			}
			// Nothing secret in the audit log.
			recs, err := db.ListAudit(ctx, store.AuditQuery{Limit: 100})
			if err != nil || len(recs.Items) < 3 {
				t.Fatalf("audit: %d records, %v", len(recs.Items), err)
			}
			b, _ := json.Marshal(recs)
			for _, s := range []string{ep.Secret, rotated, legacySecret, webhook.SealedPrefix} {
				if strings.Contains(string(b), s) {
					t.Fatalf("audit log holds %q", s)
				}
			}
		})
	}
}
