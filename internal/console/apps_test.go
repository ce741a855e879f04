package console_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"opsiam/internal/auth"
	"opsiam/internal/directory"
)

// TestApps registers an application (its secret shown once and stored only
// as a hash), shows a refusal next to its field, and deletes it; users
// without client.write get 404.
func TestApps(t *testing.T) {
	t.Parallel() // each test has its own database, server and browser tab (issue 17, point 7)
	s := newServer(t)
	ctx := context.Background()
	cl := s.signIn(t, "admin", adminPassword)
	code, body := cl.post("/console/apps/new", "/console/apps/new", url.Values{"name": {"Wiki"}, "client_id": {"wiki"},
		"redirect_uris": {"https://wiki.example/cb\n"}, "grant_types": {"authorization_code", "refresh_token"}, "claims": {"groups"}})
	m := regexp.MustCompile(`id="app-secret"[^>]*>([^<]+)<`).FindStringSubmatch(body)
	if code != http.StatusOK || m == nil {
		t.Fatalf("create: %d\n%s", code, body)
	}
	c, err := s.db.GetOIDCClient(ctx, "wiki")
	if err != nil || c.SecretHash == "" || strings.Contains(c.SecretHash, m[1]) || c.SecretHash != auth.HashToken(m[1]) {
		t.Fatalf("stored client %+v %v", c, err)
	}
	_, list := cl.get("/console/apps")
	mustContain(t, list, `data-client="wiki"`, "https://wiki.example/cb")
	if strings.Contains(list, m[1]) {
		t.Fatal("the secret is shown again in the list")
	}
	code, body = cl.post("/console/apps/new", "/console/apps/new", url.Values{"name": {""}, "redirect_uris": {"https://x.example/cb"},
		"grant_types": {"authorization_code"}})
	i := strings.Index(body, `id="f-name"`)
	if code != http.StatusUnprocessableEntity || i < 0 || !strings.Contains(body[i:i+300], "field-error") {
		t.Fatalf("refusal: %d\n%s", code, body)
	}
	if code, _ := cl.post("/console/apps", "/console/apps/wiki/delete", url.Values{}); code != http.StatusOK {
		t.Fatalf("delete: %d", code)
	}
	if _, err := s.db.GetOIDCClient(ctx, "wiki"); err == nil {
		t.Fatal("the client still exists")
	}
	s.user(t, "viewer", directory.RoleNameUserViewer)
	viewer := s.signIn(t, "viewer", "viewer password 1")
	if code, _ := viewer.get("/console/apps"); code != http.StatusNotFound {
		t.Fatalf("viewer: %d, want 404", code)
	}
}
