package main

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// TestServiceClientCallsAccessAPI is C5 of issue 12 (SPEC §9): an OIDC
// client with client_credentials and access_api calls /api/v1/access/*
// with its own access token, fetched by x/oauth2's client credentials
// code; nothing is billed and the audit names the client. Attempted as
// the least-trusted callers: a client without access_api, a revoked
// token, a forged one, and a service token on a user-only endpoint.
func TestServiceClientCallsAccessAPI(t *testing.T) {
	t.Parallel() // its own data directory and server (issue 17, point 7)
	dir := t.TempDir()
	admin := strings.TrimSpace(runCLI(t, dir, "", "", "token", "issue", "admin"))
	svcOut := runCLI(t, dir, "", "", "client", "add", "--client-id", "workflow", "--name", "Workflow engine",
		"--grant-type", "client_credentials", "--access-api")
	plainOut := runCLI(t, dir, "", "", "client", "add", "--client-id", "batch", "--name", "Batch", "--grant-type", "client_credentials")
	runCLI(t, dir, "", "access_api", "client", "add", "--client-id", "web", "--name", "Web", "--redirect-uri", "https://web.example/cb", "--access-api")
	if list := runCLI(t, dir, "", "", "client", "list"); !strings.Contains(list, "workflow\tWorkflow engine\tconfidential,access_api") {
		t.Fatalf("client list:\n%s", list)
	}
	base, _ := startServer(t, nil, "--data-dir", dir)
	ctx := context.Background()
	token := func(out, id string) *oauth2.Token {
		t.Helper()
		cc := clientcredentials.Config{ClientID: id, ClientSecret: secretRE.FindStringSubmatch(out)[1], TokenURL: base + "/oauth/token"}
		tok, err := cc.Token(ctx)
		if err != nil {
			t.Fatalf("client credentials of %s: %v", id, err)
		}
		return tok
	}
	_, before := do(t, "GET", base+"/api/v1/billing", admin, "")
	_, me := do(t, "GET", base+"/api/v1/users?q=admin", admin, "")
	adminID := me["items"].([]any)[0].(map[string]any)["id"].(string)

	svc := token(svcOut, "workflow")
	code, scope := do(t, "GET", base+"/api/v1/access/scope?user_id="+url.QueryEscape(adminID), svc.AccessToken, "")
	if code != http.StatusOK || scope["user_id"] != adminID || scope["restricted"] != false {
		t.Fatalf("service client's scope question: %d %v", code, scope)
	}
	body := `{"subject":"` + adminID + `","action":"view","resource":{"type":"catalog_item"}}`
	if code, d := do(t, "POST", base+"/api/v1/access/check", svc.AccessToken, body); code != http.StatusOK || d["allowed"] != true {
		t.Fatalf("service client's access check: %d %v", code, d)
	}
	// Only the access API: the token opens nothing else.
	if code, _ := do(t, "GET", base+"/api/v1/users", svc.AccessToken, ""); code != http.StatusUnauthorized {
		t.Fatalf("service token on /users: %d", code)
	}
	// A client_credentials client without access_api is refused.
	if code, _ := do(t, "GET", base+"/api/v1/access/scope?user_id="+adminID, token(plainOut, "batch").AccessToken, ""); code != http.StatusUnauthorized {
		t.Fatalf("client without access_api: %d", code)
	}
	// A forged token (signature changed) is refused.
	forged := svc.AccessToken[:len(svc.AccessToken)-4] + "AAAA"
	if code, _ := do(t, "GET", base+"/api/v1/access/scope?user_id="+adminID, forged, ""); code != http.StatusUnauthorized {
		t.Fatalf("forged token: %d", code)
	}
	// Nothing is billed: the service client is no user.
	if _, after := do(t, "GET", base+"/api/v1/billing", admin, ""); before["total"] == nil || after["billed"] != before["billed"] || after["total"] != before["total"] {
		t.Fatalf("billing changed: %v → %v", before, after)
	}
	// The audit names the client.
	_, audit := do(t, "GET", base+"/api/v1/audit?action=oidc.client_token", admin, "")
	named := false
	for _, it := range audit["items"].([]any) {
		named = named || (it.(map[string]any)["actor_name"] == "workflow" && it.(map[string]any)["actor_id"] == "client:workflow")
	}
	if !named {
		t.Fatalf("audit: %v", audit)
	}
	// A revoked token stops at once.
	form := url.Values{"token": {svc.AccessToken}}
	req, _ := http.NewRequest(http.MethodPost, base+"/revoke", strings.NewReader(form.Encode()))
	req.SetBasicAuth("workflow", secretRE.FindStringSubmatch(svcOut)[1])
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if code, _ := do(t, "GET", base+"/api/v1/access/scope?user_id="+adminID, svc.AccessToken, ""); code != http.StatusUnauthorized {
		t.Fatalf("revoked token: %d (revoke answered %d)", code, resp.StatusCode)
	}
}
