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
	t.Parallel() // each test has its own database and server (issue 17, point 7)
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

// TestGitMembers: the Git members tab (G2) after the group's events went
// to GitLab (a fake following its REST API): the member with its Git role,
// then "No Access" once the account is gone on GitLab.
func TestGitMembers(t *testing.T) {
	t.Parallel() // each test has its own database and server (issue 17, point 7)
	e := newEnv(t, filepath.Join(t.TempDir(), "db"), nil)
	ctx := context.Background()
	e.gitlab.AddUser("alice")
	alice := e.must(201, "POST", "/users", userBody("alice", nil))
	dev := e.must(201, "POST", "/groups", map[string]any{"name": "Developers"})
	e.must(200, "POST", "/groups/"+dev.str("id")+"/members", map[string]any{"user_ids": []string{alice.str("id")}})
	if _, err := e.db.FanOut(ctx, 1000, func(ev store.Event) []string {
		if e.api.GitLab.Handles(ev.Topic) {
			return []string{e.api.GitLab.Name()}
		}
		return nil
	}, time.Now()); err != nil {
		t.Fatal(err)
	}
	ds, err := e.db.ListDeliveries(ctx, store.DeliveryQuery{Target: e.api.GitLab.Name(), Limit: 100})
	if err != nil || len(ds.Items) == 0 {
		t.Fatalf("no deliveries for GitLab: %v", err)
	}
	for _, d := range ds.Items {
		if err := e.api.GitLab.Deliver(ctx, d.Event); err != nil {
			t.Fatalf("deliver %s: %v", d.Event.Topic, err)
		}
	}
	m := e.must(200, "GET", "/groups/"+dev.str("id")+"/git-members", nil).items()
	if len(m) != 1 || m[0]["username"] != "alice" || !m[0]["in_gitlab"].(bool) || m[0]["role"] == "No Access" {
		t.Fatalf("git members: %v", m)
	}
	e.gitlab.DeleteUser("alice")
	m = e.must(200, "GET", "/groups/"+dev.str("id")+"/git-members", nil).items()
	if len(m) != 1 || m[0]["role"] != "No Access" {
		t.Fatalf("after GitLab delete: %v", m)
	}
	global, _ := e.db.GetGroupByName(ctx, "global")
	if g := e.must(200, "GET", "/groups/"+string(global.ID)+"/git-members", nil).items(); len(g) != 0 {
		t.Fatalf("global listed: %v", g)
	}
}
