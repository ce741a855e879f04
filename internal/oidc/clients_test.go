package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"opsiam/internal/directory"
	"opsiam/internal/store"
)

func TestValidateClient(t *testing.T) {
	ok := ClientInput{ClientID: "app", Name: "App", RedirectURIs: []string{"https://app.example/cb"},
		GrantTypes: []string{GrantAuthorizationCode, GrantRefreshToken}}
	tests := []struct {
		name  string
		edit  func(*ClientInput)
		field string // empty: valid
	}{
		{"valid", func(*ClientInput) {}, ""},
		{"localhost http for development", func(c *ClientInput) { c.RedirectURIs = []string{"http://localhost:3000/cb"} }, ""},
		{"loopback http", func(c *ClientInput) { c.RedirectURIs = []string{"http://127.0.0.1:8000/cb"} }, ""},
		{"plain http elsewhere", func(c *ClientInput) { c.RedirectURIs = []string{"http://app.example/cb"} }, "redirect_uris"},
		{"relative", func(c *ClientInput) { c.RedirectURIs = []string{"/cb"} }, "redirect_uris"},
		{"fragment", func(c *ClientInput) { c.RedirectURIs = []string{"https://app.example/cb#x"} }, "redirect_uris"},
		{"custom scheme", func(c *ClientInput) { c.RedirectURIs = []string{"myapp://cb"} }, "redirect_uris"},
		{"no redirect for code", func(c *ClientInput) { c.RedirectURIs = nil }, "redirect_uris"},
		{"bad post-logout", func(c *ClientInput) { c.PostLogoutRedirectURIs = []string{"ftp://x/"} }, "post_logout_redirect_uris"},
		{"bad back-channel", func(c *ClientInput) { c.BackchannelLogoutURI = "http://app.example/bcl" }, "backchannel_logout_uri"},
		{"no name", func(c *ClientInput) { c.Name = "  " }, "name"},
		{"long name", func(c *ClientInput) { c.Name = strings.Repeat("n", 129) }, "name"},
		{"control in name", func(c *ClientInput) { c.Name = "a\x00b" }, "name"},
		{"bad client_id", func(c *ClientInput) { c.ClientID = "app id" }, "client_id"},
		{"long client_id", func(c *ClientInput) { c.ClientID = strings.Repeat("a", 65) }, "client_id"},
		{"unknown grant", func(c *ClientInput) { c.GrantTypes = []string{"password"} }, "grant_types"},
		{"refresh without code", func(c *ClientInput) {
			c.GrantTypes = []string{GrantRefreshToken, GrantClientCredentials}
		}, "grant_types"},
		{"public with client_credentials", func(c *ClientInput) {
			c.Public = true
			c.GrantTypes = []string{GrantAuthorizationCode, GrantClientCredentials}
		}, "grant_types"},
		{"service client without redirects", func(c *ClientInput) {
			c.GrantTypes, c.RedirectURIs = []string{GrantClientCredentials}, nil
		}, ""},
		{"itsm without code", func(c *ClientInput) {
			c.GrantTypes, c.RedirectURIs, c.ITSM = []string{GrantClientCredentials}, nil, true
		}, "itsm"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := ok
			tc.edit(&in)
			err := ValidateClient(in)
			var fe directory.FieldErrors
			if tc.field == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if !errors.As(err, &fe) || len(fe) == 0 || fe[0].Field != tc.field || fe[0].Message == "" {
				t.Fatalf("got %v, want an error on %s", err, tc.field)
			}
		})
	}
}

func FuzzValidateClient(f *testing.F) {
	f.Add("app", "App", "https://app.example/cb")
	f.Add("", "", "http://[::1]:80/x?y#z")
	f.Fuzz(func(t *testing.T, id, name, uri string) {
		_ = ValidateClient(ClientInput{ClientID: id, Name: name, RedirectURIs: []string{uri}, GrantTypes: []string{GrantAuthorizationCode}})
	})
}

func TestClientsAPI(t *testing.T) {
	e := newEnv(t)
	api := &ClientsAPI{Service: e.clients, Authenticate: func(r *http.Request) (Actor, bool, error) {
		switch r.Header.Get("Authorization") {
		case "Bearer admin":
			return Actor{ID: "u1", Name: "admin"}, true, nil
		case "Bearer viewer":
			return Actor{}, true, ErrForbidden
		}
		return Actor{}, false, nil
	}}
	mux := http.NewServeMux()
	api.Mount(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	do := func(method, path, token, body string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}
	if code, _ := do("GET", "/api/v1/clients", "", ""); code != http.StatusUnauthorized {
		t.Fatalf("no token: %d", code)
	}
	if code, _ := do("GET", "/api/v1/clients", "viewer", ""); code != http.StatusForbidden {
		t.Fatalf("no permission: %d", code)
	}
	code, m := do("POST", "/api/v1/clients", "admin", `{"client_id":"otobo","name":"OTOBO","redirect_uris":["https://itsm.example/cb"],
 "post_logout_redirect_uris":["https://itsm.example/bye"],"backchannel_logout_uri":"https://itsm.example/bcl","itsm":true}`)
	secret, _ := m["client_secret"].(string)
	if code != http.StatusCreated || m["client_id"] != "otobo" || m["itsm"] != true || len(secret) < 40 {
		t.Fatalf("create: %d %v", code, m)
	}
	if gt, _ := m["grant_types"].([]any); len(gt) != 2 {
		t.Fatalf("default grant types: %v", m["grant_types"])
	}
	c, err := e.db.GetOIDCClient(context.Background(), "otobo")
	if err != nil || c.SecretHash == secret || !secretMatches(c.SecretHash, secret) {
		t.Fatalf("secret not stored as a hash: %+v %v", c, err)
	}
	code, m = do("GET", "/api/v1/clients/otobo", "admin", "")
	if _, has := m["client_secret"]; code != http.StatusOK || has || m["backchannel_logout_uri"] != "https://itsm.example/bcl" {
		t.Fatalf("get: %d %v", code, m)
	}
	if code, m = do("POST", "/api/v1/clients", "admin", `{"client_id":"otobo","name":"Again","redirect_uris":["https://x.example/cb"]}`); code != http.StatusConflict {
		t.Fatalf("duplicate: %d %v", code, m)
	}
	code, m = do("POST", "/api/v1/clients", "admin", `{"name":"","redirect_uris":["http://evil.example/cb"]}`)
	errs, _ := m["errors"].([]any)
	if code != http.StatusUnprocessableEntity || len(errs) != 2 {
		t.Fatalf("invalid: %d %v", code, m)
	}
	if code, _ = do("POST", "/api/v1/clients", "admin", `{"name":"x","bogus":1}`); code != http.StatusUnprocessableEntity {
		t.Fatalf("unknown field: %d", code)
	}
	code, m = do("POST", "/api/v1/clients", "admin", `{"name":"SPA","public":true,"redirect_uris":["http://localhost:5173/cb"]}`)
	if code != http.StatusCreated || m["client_secret"] != nil || !strings.HasPrefix(m["client_id"].(string), "c") {
		t.Fatalf("public client: %d %v", code, m)
	}
	if code, m = do("GET", "/api/v1/clients", "admin", ""); code != http.StatusOK || len(m["items"].([]any)) != 2 {
		t.Fatalf("list: %d %v", code, m)
	}
	// replace: new redirect URI, secret kept; the client_id cannot change
	code, m = do("PUT", "/api/v1/clients/otobo", "admin", `{"name":"OTOBO 11","redirect_uris":["https://itsm2.example/cb"],"itsm":true}`)
	if code != http.StatusOK || m["name"] != "OTOBO 11" || m["client_secret"] != nil {
		t.Fatalf("update: %d %v", code, m)
	}
	if c, _ := e.db.GetOIDCClient(context.Background(), "otobo"); !secretMatches(c.SecretHash, secret) || c.RedirectURIs[0] != "https://itsm2.example/cb" {
		t.Fatalf("after update: %+v", c)
	}
	if code, m = do("PUT", "/api/v1/clients/otobo", "admin", `{"client_id":"other","name":"x","redirect_uris":["https://x.example/cb"]}`); code != http.StatusUnprocessableEntity {
		t.Fatalf("client_id change: %d %v", code, m)
	}
	if code, _ = do("PUT", "/api/v1/clients/nope", "admin", `{"name":"x","redirect_uris":["https://x.example/cb"]}`); code != http.StatusNotFound {
		t.Fatalf("update of an unknown client: %d", code)
	}
	// a new secret replaces the old one at once
	code, m = do("POST", "/api/v1/clients/otobo/secret", "admin", "")
	newSecret, _ := m["client_secret"].(string)
	if c, _ := e.db.GetOIDCClient(context.Background(), "otobo"); code != http.StatusOK || newSecret == secret ||
		!secretMatches(c.SecretHash, newSecret) || secretMatches(c.SecretHash, secret) {
		t.Fatalf("rotate: %d %v", code, m)
	}
	if code, _ = do("DELETE", "/api/v1/clients/otobo", "admin", ""); code != http.StatusNoContent {
		t.Fatalf("delete: %d", code)
	}
	if code, _ = do("DELETE", "/api/v1/clients/otobo", "admin", ""); code != http.StatusNotFound {
		t.Fatalf("delete again: %d", code)
	}
	audit, err := e.db.ListAudit(context.Background(), store.AuditQuery{TargetID: "otobo"})
	if err != nil || len(audit.Items) != 4 || audit.Items[0].Action != "oidc_client.delete" || audit.Items[1].Action != "oidc_client.secret_rotate" ||
		audit.Items[2].Action != "oidc_client.update" || audit.Items[3].ActorName != "admin" {
		t.Fatalf("audit: %+v %v", audit.Items, err)
	}
}

func TestClientUpdatePublicConfidential(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	in := ClientInput{ClientID: "spa", Name: "SPA", Public: true, RedirectURIs: []string{"http://localhost:5173/cb"}}
	if _, secret, err := e.clients.Create(ctx, Actor{}, in); err != nil || secret != "" {
		t.Fatalf("create public: %q %v", secret, err)
	}
	if _, err := e.clients.RotateSecret(ctx, Actor{}, "spa"); err == nil {
		t.Fatal("a public client got a secret by rotation")
	}
	in.Public = false
	c, secret, err := e.clients.Update(ctx, Actor{}, "spa", in)
	if err != nil || secret == "" || !secretMatches(c.SecretHash, secret) {
		t.Fatalf("made confidential: %q %+v %v", secret, c, err)
	}
	in.Public = true
	c, secret, err = e.clients.Update(ctx, Actor{}, "spa", in)
	if err != nil || secret != "" || c.SecretHash != "" {
		t.Fatalf("made public again: %q %+v %v", secret, c, err)
	}
	in.Name = ""
	if _, _, err := e.clients.Update(ctx, Actor{}, "spa", in); err == nil {
		t.Fatal("an invalid update was accepted")
	}
	if got, _ := e.db.GetOIDCClient(ctx, "spa"); got.Name != "SPA" {
		t.Fatalf("a refused update changed the client: %+v", got)
	}
}
