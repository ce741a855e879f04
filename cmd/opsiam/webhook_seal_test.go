package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"opsiam/internal/provision/webhook"
	"opsiam/internal/store/sqlstore"
)

// TestServeSealsWebhookSecrets: the server wires the webhook sealer: a
// webhook made through the API has its secret sealed in the database, and
// the worker's deliveries still verify at the receiver with the secret the
// API showed once.
func TestServeSealsWebhookSecrets(t *testing.T) {
	t.Parallel() // its own data directory and server (issue 17, point 7)
	dir := t.TempDir()
	admin := strings.TrimSpace(runCLI(t, dir, "", "", "token", "issue", "admin"))
	var mu sync.Mutex
	secret, verified, bad := "", 0, 0
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		if err := webhook.Verify(secret, r.Header, body, time.Now(), 0); err != nil {
			bad++
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		verified++
		w.WriteHeader(http.StatusNoContent)
	}))
	defer rcv.Close()
	base, _ := startServer(t, nil, "--data-dir", dir)

	code, ep := do(t, "POST", base+"/api/v1/webhooks", admin, `{"url":"`+rcv.URL+`","event_types":["user.*"],"enabled":true}`)
	shown, _ := ep["secret"].(string)
	id, _ := ep["id"].(string)
	if code != http.StatusCreated || !strings.HasPrefix(shown, "whsec_") || id == "" {
		t.Fatalf("create webhook: %d %v", code, ep)
	}
	mu.Lock()
	secret = shown
	mu.Unlock()

	db, err := sqlstore.Open(context.Background(), filepath.Join(dir, "opsiam.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	stored, err := db.GetWebhook(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if !webhook.IsSealed(stored.Secret) || strings.Contains(stored.Secret, strings.TrimPrefix(shown, "whsec_")) {
		t.Fatalf("secret stored as %q", stored.Secret)
	}

	if code, u := do(t, "POST", base+"/api/v1/users", admin,
		`{"username":"hooked","email":"hooked@example.com","first_name":"H","last_name":"K"}`); code != http.StatusCreated {
		t.Fatalf("create user: %d %v", code, u)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		mu.Lock()
		v, b := verified, bad
		mu.Unlock()
		if b > 0 {
			t.Fatalf("%d deliveries did not verify", b)
		}
		if v > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no verified delivery of user.created")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
