package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// do sends a JSON request with a platform token (none when tok is empty).
func do(t *testing.T, method, url, tok, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var out map[string]any
	json.Unmarshal(raw, &out)
	return res.StatusCode, out
}

// TestServeMountsClientsAPI: /api/v1/clients (SPEC §7) is served by the
// REST API and needs user_admin (client.write); a caller without it gets
// 404, as for the webhooks (the API does not reveal what it may not read).
func TestServeMountsClientsAPI(t *testing.T) {
	t.Parallel() // its own data directory and server (issue 17, point 7)
	dir := t.TempDir()
	admin := strings.TrimSpace(runCLI(t, dir, "", "", "token", "issue", "admin"))
	runCLI(t, dir, "", "", "user", "add", "plain", "--email", "plain@example.com", "--first-name", "P", "--last-name", "L")
	plain := strings.TrimSpace(runCLI(t, dir, "", "", "token", "issue", "plain"))
	base, _ := startServer(t, nil, "--data-dir", dir)

	body := `{"client_id":"otobo","name":"OTOBO","redirect_uris":["https://itsm.example/cb"],"itsm":true}`
	if code, _ := do(t, "POST", base+"/api/v1/clients", "", body); code != http.StatusUnauthorized {
		t.Fatalf("no token: %d", code)
	}
	if code, _ := do(t, "POST", base+"/api/v1/clients", plain, body); code != http.StatusNotFound {
		t.Fatalf("user without user_admin: %d", code)
	}
	code, c := do(t, "POST", base+"/api/v1/clients", admin, body)
	if code != http.StatusCreated || c["client_id"] != "otobo" || c["client_secret"] == nil || c["client_secret"] == "" || c["itsm"] != true {
		t.Fatalf("create: %d %v", code, c)
	}
	code, got := do(t, "GET", base+"/api/v1/clients/otobo", admin, "")
	if code != http.StatusOK || got["client_secret"] != nil {
		t.Fatalf("get shows the secret again or fails: %d %v", code, got)
	}
	if code, p := do(t, "POST", base+"/api/v1/clients", admin, `{"client_id":"x","name":"X","redirect_uris":["not a url"]}`); code != http.StatusUnprocessableEntity {
		t.Fatalf("bad redirect URI: %d %v", code, p)
	}
}
