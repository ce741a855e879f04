package httpapi_test

import (
	"context"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"opsiam/internal/store"
)

// TestWebhooksAndOutbox: webhook endpoints through the API (the secret is
// shown on create and rotation only), and the outbox lists the events of
// API changes once fanned out to a target (P1, P3).
func TestWebhooksAndOutbox(t *testing.T) {
	e := newEnv(t, filepath.Join(t.TempDir(), "db"), nil)
	ctx := context.Background()
	c := e.must(201, "POST", "/webhooks", map[string]any{"url": "https://itsm.example/hook", "event_types": []string{"user.*"}, "description": "ITSM"})
	if c.str("secret") == "" || !c.body["enabled"].(bool) {
		t.Fatalf("create: %s", c.raw)
	}
	g := e.must(200, "GET", "/webhooks/"+c.str("id"), nil)
	if _, has := g.body["secret"]; has {
		t.Fatalf("secret shown again: %s", g.raw)
	}
	if p := e.must(200, "PATCH", "/webhooks/"+c.str("id"), map[string]any{"enabled": false}); p.body["enabled"].(bool) || p.str("url") != "https://itsm.example/hook" {
		t.Fatalf("patch: %s", p.raw)
	}
	if s := e.must(200, "POST", "/webhooks/"+c.str("id")+"/secret", nil); s.str("secret") == "" || s.str("secret") == c.str("secret") {
		t.Fatalf("rotate: %s", s.raw)
	}
	bad := e.must(422, "POST", "/webhooks", map[string]any{"url": "ftp://x", "event_types": []string{}})
	if len(bad.fieldErrors()) < 2 {
		t.Fatalf("bad webhook: %s", bad.raw)
	}
	e.must(201, "POST", "/users", userBody("hooked", nil))
	if _, err := e.db.FanOut(ctx, 1000, func(store.Event) []string { return []string{"itsm"} }, time.Now()); err != nil {
		t.Fatal(err)
	}
	list := e.must(200, "GET", "/outbox?target=itsm&state=pending", nil).items()
	var topics []string
	for _, d := range list {
		topics = append(topics, d["topic"].(string))
	}
	if len(topics) != 2 || topics[0] != "user.created" || topics[1] != "mail.password_setup" {
		t.Fatalf("outbox: %v", topics)
	}
	id := url.PathEscape(list[0]["id"].(string))
	e.must(200, "GET", "/outbox/"+id, nil)
	e.must(409, "POST", "/outbox/"+id+"/replay", nil) // pending: nothing to replay
	e.must(404, "GET", "/outbox/nonsense", nil)
	e.must(422, "GET", "/outbox?state=lost", nil)
	e.must(204, "DELETE", "/webhooks/"+c.str("id"), nil)
	e.must(404, "GET", "/webhooks/"+c.str("id"), nil)
}
