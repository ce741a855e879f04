package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"opsiam/internal/directory"
	"opsiam/internal/manage"
)

func ptr[T any](v T) *T { return &v }

// TestIdentityProvidersAPI: CRUD of /identity-providers and a user's
// /identities; the secret is never answered; bad input names the field;
// a domain of another provider is 409 on domains (issue 18).
func TestIdentityProvidersAPI(t *testing.T) {
	t.Parallel()
	for _, tc := range bothDatabases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.dsn(t), nil)
			ctx := context.Background()
			a := manage.SystemCaller("", "setup")
			acme, err := e.svc.CreateCustomer(ctx, a, directory.Customer{Code: "ACME", Name: "Acme"})
			if err != nil {
				t.Fatal(err)
			}
			body := map[string]any{"name": "Acme Entra", "issuer": "https://login.acme.example/v2.0", "client_id": "opsiam",
				"client_secret": "top-secret-value", "customer_id": string(acme.ID), "domains": []string{"ACME.example"},
				"auto_create": true, "role_ids": []string{e.roleID(directory.RoleNameCustomerUser)}, "mandatory": true}
			r := e.do(req{method: "POST", path: "/identity-providers", token: e.admin, body: body})
			if r.status != http.StatusCreated || strings.Contains(string(r.raw), "top-secret-value") || r.header.Get("ETag") == "" {
				t.Fatalf("create: %d %s", r.status, r.raw)
			}
			id := r.str("id")
			if r.str("redirect_uri") == "" || !strings.HasSuffix(r.str("redirect_uri"), "/login/idp/"+id+"/callback") || r.body["enabled"] != true {
				t.Fatalf("view %s", r.raw)
			}
			if doms := r.body["domains"].([]any); len(doms) != 1 || doms[0] != "acme.example" {
				t.Fatalf("domains %v", doms)
			}
			for _, path := range []string{"/identity-providers", "/identity-providers/" + id} {
				if r := e.do(req{method: "GET", path: path, token: e.admin}); r.status != 200 || strings.Contains(string(r.raw), "top-secret") {
					t.Fatalf("GET %s: %d %s", path, r.status, r.raw)
				}
			}
			if r := e.do(req{method: "GET", path: "/audit", token: e.admin}); strings.Contains(string(r.raw), "top-secret") {
				t.Fatal("the audit log shows the secret")
			}
			// Bad inputs: 422 naming the field, or 400 for bytes that are not JSON text.
			bad := []struct {
				body  string
				field string
			}{
				{`{"name":"","issuer":"https://a.example","client_id":"c","domains":["a.example"]}`, "name"},
				{`{"name":"x","issuer":"http://a.example","client_id":"c","domains":["a.example"]}`, "issuer"},
				{`{"name":"x","issuer":"ftp://a.example","client_id":"c","domains":["a.example"]}`, "issuer"},
				{`{"name":"x","issuer":"https://a.example","client_id":"c","domains":["a.example"],"scopes":["email"]}`, "scopes"},
				{`{"name":"x","issuer":"https://a.example","client_id":"c","domains":["not_a domain"]}`, "domains"},
				{`{"name":"x","issuer":"https://a.example","client_id":"c","domains":[]}`, "domains"},
				{`{"name":"x","issuer":"https://a.example","client_id":"c","domains":["b.example"],"customer_id":"nope"}`, "customer_id"},
				{`{"name":"x","issuer":"https://a.example","client_id":"c","domains":["b.example"],"role_ids":["nope"]}`, "role_ids"},
				{`{"name":"x","issuer":"https://a.example","client_id":"c","domains":["b.example"],"type":"saml"}`, "type"},
				{`{"name":"x\u0000y","issuer":"https://a.example","client_id":"c","domains":["b.example"]}`, "name"},
				{`{"name":"x","issuer":"https://a.example","client_id":"c","domains":["b.example"],"colour":"red"}`, "colour"},
			}
			for _, b := range bad {
				r := e.do(req{method: "POST", path: "/identity-providers", token: e.admin, body: b.body})
				if r.status != 422 || !strings.Contains(strings.Join(r.fieldErrors(), " "), b.field) {
					t.Errorf("%s: %d %s", b.body, r.status, r.raw)
				}
			}
			if r := e.do(req{method: "POST", path: "/identity-providers", token: e.admin, body: "{\"name\":\"\xff\"}"}); r.status != 400 {
				t.Errorf("invalid UTF-8: %d %s", r.status, r.raw)
			}
			r = e.do(req{method: "POST", path: "/identity-providers", token: e.admin,
				body: `{"name":"Other","issuer":"https://other.example","client_id":"c","domains":["acme.example"]}`})
			if r.status != 409 || r.str("field") != "domains" {
				t.Fatalf("taken domain: %d %s", r.status, r.raw)
			}
			if r := e.do(req{method: "GET", path: "/identity-providers", token: e.admin}); len(r.items()) != 1 {
				t.Fatalf("refused creates left %s", r.raw)
			}
			// PATCH keeps the rest; a stale If-Match is 412.
			r = e.do(req{method: "PATCH", path: "/identity-providers/" + id, token: e.admin, body: `{"enabled":false}`})
			if r.status != 200 || r.body["enabled"] != false || r.str("issuer") != "https://login.acme.example/v2.0" {
				t.Fatalf("patch %d %s", r.status, r.raw)
			}
			if r := e.do(req{method: "PUT", path: "/identity-providers/" + id, token: e.admin, body: `{"name":"N"}`,
				header: map[string]string{"If-Match": `"1"`}}); r.status != 412 {
				t.Fatalf("stale: %d", r.status)
			}

			// Links: admin links a user of acme, reads and unlinks it.
			u, err := e.svc.CreateUser(ctx, a, directory.User{Username: "hana", Email: "hana@acme.example", FirstName: "H", LastName: "S",
				Enabled: true, CustomerID: acme.ID})
			if err != nil {
				t.Fatal(err)
			}
			path := "/users/" + string(u.ID) + "/identities"
			if r := e.do(req{method: "POST", path: path, token: e.admin, body: `{"provider_id":"` + id + `","subject":""}`}); r.status != 422 {
				t.Fatalf("empty subject: %d %s", r.status, r.raw)
			}
			if r := e.do(req{method: "POST", path: path, token: e.admin, body: `{"provider_id":"nope","subject":"s"}`}); r.status != 422 {
				t.Fatalf("unknown provider: %d %s", r.status, r.raw)
			}
			r = e.do(req{method: "POST", path: path, token: e.admin, body: `{"provider_id":"` + id + `","subject":"00u1abc"}`})
			if r.status != 201 || r.str("provider_name") != "Acme Entra" || r.str("subject") != "00u1abc" {
				t.Fatalf("link %d %s", r.status, r.raw)
			}
			if r := e.do(req{method: "POST", path: path, token: e.admin, body: `{"provider_id":"` + id + `","subject":"other"}`}); r.status != 409 {
				t.Fatalf("second link to one provider: %d %s", r.status, r.raw)
			}
			if r := e.do(req{method: "GET", path: path, token: e.admin}); r.status != 200 || len(r.items()) != 1 {
				t.Fatalf("list %d %s", r.status, r.raw)
			}
			if r := e.do(req{method: "DELETE", path: path + "/" + id, token: e.admin}); r.status != 204 {
				t.Fatalf("unlink %d %s", r.status, r.raw)
			}
			if r := e.do(req{method: "DELETE", path: path + "/" + id, token: e.admin}); r.status != 404 {
				t.Fatalf("second unlink %d", r.status)
			}
			if r := e.do(req{method: "DELETE", path: "/identity-providers/" + id, token: e.admin}); r.status != 204 {
				t.Fatalf("delete %d", r.status)
			}
			if r := e.do(req{method: "GET", path: "/identity-providers/" + id, token: e.admin}); r.status != 404 {
				t.Fatalf("deleted: %d", r.status)
			}
		})
	}
}
