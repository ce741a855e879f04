package httpapi_test

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"slices"
	"strings"
	"testing"

	"opsiam/internal/store"
)

// secretMatches reports whether hash is the stored form of secret
// (hex SHA-256, docs/architecture.md "Client secrets").
func secretMatches(hash, secret string) bool {
	sum := sha256.Sum256([]byte(secret))
	return subtle.ConstantTimeCompare([]byte(hex.EncodeToString(sum[:])), []byte(hash)) == 1
}

// TestClients: /api/v1/clients (SPEC §7, S1) on both databases: create
// (secret once), list, get, update, rotate, delete, the audit record of
// each change, and refusals naming the field.
func TestClients(t *testing.T) {
	t.Parallel() // each test has its own database and server (issue 17, point 7)
	eachDB(t, bothDatabases, func(t *testing.T, e *env) {
		ctx := context.Background()
		c := e.must(201, "POST", "/clients", map[string]any{"client_id": "otobo", "name": "OTOBO",
			"redirect_uris": []string{"https://itsm.example/cb"}, "post_logout_redirect_uris": []string{"https://itsm.example/bye"},
			"backchannel_logout_uri": "https://itsm.example/bcl", "itsm": true})
		secret := c.str("client_secret")
		if c.str("client_id") != "otobo" || c.body["itsm"] != true || len(secret) < 40 ||
			c.header.Get("Location") != "/api/v1/clients/otobo" {
			t.Fatalf("create: %s %v", c.raw, c.header)
		}
		if gt, _ := c.body["grant_types"].([]any); len(gt) != 2 {
			t.Fatalf("default grant types: %v", c.body["grant_types"])
		}
		stored, err := e.db.GetOIDCClient(ctx, "otobo")
		if err != nil || stored.SecretHash == secret || !secretMatches(stored.SecretHash, secret) {
			t.Fatalf("secret not stored as its hash: %+v %v", stored, err)
		}
		got := e.must(200, "GET", "/clients/otobo", nil)
		if _, has := got.body["client_secret"]; has || got.str("backchannel_logout_uri") != "https://itsm.example/bcl" {
			t.Fatalf("get: %s", got.raw)
		}
		// A public client: generated id, no secret.
		spa := e.must(201, "POST", "/clients", map[string]any{"name": "SPA", "public": true,
			"redirect_uris": []string{"http://localhost:5173/cb"}, "claims": []string{}})
		if _, has := spa.body["client_secret"]; has || !strings.HasPrefix(spa.str("client_id"), "c") {
			t.Fatalf("public client: %s", spa.raw)
		}
		// A service client: no redirect URIs, lists come back empty, not null.
		svc := e.must(201, "POST", "/clients", map[string]any{"client_id": "svc", "name": "Service",
			"grant_types": []string{"client_credentials"}})
		if svc.str("client_secret") == "" {
			t.Fatalf("service client: %s", svc.raw)
		}
		if ids := names(e.must(200, "GET", "/clients", nil).items(), "client_id"); !slices.Equal(ids, []string{spa.str("client_id"), "otobo", "svc"}) {
			t.Fatalf("list: %v", ids)
		}
		// Update sets the fields present and keeps the others; the secret stays.
		up := e.must(200, "PUT", "/clients/otobo", map[string]any{"name": "OTOBO 11", "redirect_uris": []string{"https://itsm2.example/cb"}})
		if _, has := up.body["client_secret"]; has || up.str("name") != "OTOBO 11" || up.body["itsm"] != true ||
			up.str("backchannel_logout_uri") != "https://itsm.example/bcl" {
			t.Fatalf("update: %s", up.raw)
		}
		if s, _ := e.db.GetOIDCClient(ctx, "otobo"); !secretMatches(s.SecretHash, secret) || s.RedirectURIs[0] != "https://itsm2.example/cb" {
			t.Fatalf("after update: %+v", s)
		}
		if p := e.must(200, "PATCH", "/clients/"+spa.str("client_id"), map[string]any{"access_roles": []string{"Manager"}}); p.body["public"] != true ||
			len(p.body["claims"].([]any)) != 0 || p.body["access_roles"].([]any)[0] != "Manager" {
			t.Fatalf("patch kept the other fields? %s", p.raw)
		}
		// Made confidential: a new secret, in this answer only.
		conf := e.must(200, "PATCH", "/clients/"+spa.str("client_id"), map[string]any{"public": false})
		if conf.str("client_secret") == "" {
			t.Fatalf("made confidential without a secret: %s", conf.raw)
		}
		// Rotation: the new secret replaces the old one at once.
		rot := e.must(200, "POST", "/clients/otobo/secret", nil)
		newSecret := rot.str("client_secret")
		if s, _ := e.db.GetOIDCClient(ctx, "otobo"); newSecret == "" || !secretMatches(s.SecretHash, newSecret) || secretMatches(s.SecretHash, secret) {
			t.Fatalf("rotate: %s", rot.raw)
		}
		// Refusals name the field, and change nothing.
		before, _ := e.db.ListAudit(ctx, store.AuditQuery{Limit: 1000})
		for _, tc := range []struct {
			method, path string
			body         any
			status       int
			fields       []string
		}{
			{"POST", "/clients", map[string]any{"name": "", "redirect_uris": []string{"http://evil.example/cb"}}, 422, []string{"name/required", "redirect_uris/invalid"}},
			{"POST", "/clients", map[string]any{"client_id": "bad id!", "name": "X", "redirect_uris": []string{"https://x.example/cb"}}, 422, []string{"client_id/invalid"}},
			{"POST", "/clients", map[string]any{"name": "X", "grant_types": []string{"password"}}, 422, []string{"grant_types/invalid"}},
			{"POST", "/clients", map[string]any{"name": "X", "public": true, "grant_types": []string{"client_credentials"}}, 422, []string{"grant_types/not_allowed"}},
			{"POST", "/clients", map[string]any{"name": "X", "redirect_uris": []string{"https://x.example/cb"}, "claims": []string{"mail"}}, 422, []string{"claims/invalid"}},
			{"POST", "/clients", map[string]any{"name": "X", "redirect_uris": []string{"https://x.example/cb"}, "access_roles": []string{"nope"}}, 422, []string{"access_roles/invalid"}},
			{"POST", "/clients", map[string]any{"name": "X", "bogus": 1}, 422, []string{"bogus/unknown"}},
			{"POST", "/clients", map[string]any{"name": 5}, 422, []string{"name/invalid"}},
			{"POST", "/clients", map[string]any{"client_id": "otobo", "name": "Again", "redirect_uris": []string{"https://x.example/cb"}}, 409, []string{"client_id/taken"}},
			{"PUT", "/clients/otobo", map[string]any{"client_id": "other"}, 422, []string{"client_id/immutable"}},
			{"PATCH", "/clients/otobo", map[string]any{"backchannel_logout_uri": "ftp://x.example/"}, 422, []string{"backchannel_logout_uri/invalid"}},
			{"PUT", "/clients/nope", map[string]any{"name": "x"}, 404, nil},
			{"POST", "/clients/svc-nope/secret", nil, 404, nil},
		} {
			r := e.do(req{method: tc.method, path: tc.path, token: e.admin, body: tc.body})
			if r.status != tc.status || !slices.Equal(r.fieldErrors(), tc.fields) {
				t.Errorf("%s %s %v: %d %v, want %d %v", tc.method, tc.path, tc.body, r.status, r.fieldErrors(), tc.status, tc.fields)
			}
		}
		if r := e.do(req{method: "POST", path: "/clients/" + spa.str("client_id") + "/secret", token: e.admin}); r.status != 200 {
			t.Fatalf("the client made confidential has a secret to rotate: %d %s", r.status, r.raw)
		}
		e.must(200, "PATCH", "/clients/"+spa.str("client_id"), map[string]any{"public": true})
		if r := e.do(req{method: "POST", path: "/clients/" + spa.str("client_id") + "/secret", token: e.admin}); r.status != 422 ||
			!slices.Equal(r.fieldErrors(), []string{"public/not_allowed"}) {
			t.Fatalf("rotating a public client's secret: %d %s", r.status, r.raw)
		}
		after, _ := e.db.ListAudit(ctx, store.AuditQuery{Limit: 1000})
		if len(after.Items) != len(before.Items)+2 { // the rotation and the PATCH above
			t.Fatalf("refusals wrote audit records: %d → %d", len(before.Items), len(after.Items))
		}
		e.must(204, "DELETE", "/clients/otobo", nil)
		e.must(404, "DELETE", "/clients/otobo", nil)
		e.must(404, "GET", "/clients/otobo", nil)
		audit, err := e.db.ListAudit(ctx, store.AuditQuery{TargetID: "otobo"})
		if err != nil || len(audit.Items) != 4 {
			t.Fatalf("audit: %+v %v", audit.Items, err)
		}
		var actions []string
		for _, a := range audit.Items {
			actions = append(actions, a.Action)
			if a.ActorName != "admin" || a.ActorID != string(e.adm.ID) || a.Source == "" {
				t.Errorf("audit actor: %+v", a)
			}
		}
		if !slices.Equal(actions, []string{"oidc_client.delete", "oidc_client.secret_rotate", "oidc_client.update", "oidc_client.create"}) {
			t.Fatalf("audit actions: %v", actions)
		}
	})
}
