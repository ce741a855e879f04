package httpapi_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"opsiam/internal/directory"
	"opsiam/internal/httpapi"
)

// TestOpenAPIMarksRequired: the create bodies of the OpenAPI document name
// their required fields, and the server refuses a create without each one
// with 422 naming it (issue 17, point 5).
func TestOpenAPIMarksRequired(t *testing.T) {
	t.Parallel() // each test has its own database and server (issue 17, point 7)
	var doc struct {
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			Schemas map[string]struct {
				Required []string `json:"required"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(httpapi.OpenAPIDoc(), &doc); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, sqliteOnly[0].dsn(t), nil)
	full := map[string]map[string]any{
		"/users":     {"username": "rq1", "email": "rq1@example.com", "first_name": "R", "last_name": "Q"},
		"/groups":    {"name": "Required group"},
		"/customers": {"code": "rq", "name": "Required customer"},
		"/roles":     {"name": "Required role"},
	}
	for path, body := range full {
		var post struct {
			RequestBody struct {
				Content map[string]struct {
					Schema struct {
						Ref string `json:"$ref"`
					} `json:"schema"`
				} `json:"content"`
			} `json:"requestBody"`
		}
		json.Unmarshal(doc.Paths[path]["post"], &post)
		ref := post.RequestBody.Content["application/json"].Schema.Ref
		name := ref[len("#/components/schemas/"):]
		required := doc.Components.Schemas[name].Required
		if len(required) == 0 {
			t.Errorf("POST %s: schema %s marks no field required", path, name)
		}
		for _, field := range required {
			partial := map[string]any{}
			for k, v := range body {
				if k != field {
					partial[k] = v
				}
			}
			r := e.do(req{method: "POST", path: path, token: e.admin, body: partial})
			if r.status != 422 || !slices.ContainsFunc(r.fieldErrors(), func(fe string) bool { return fe == field+"/required" }) {
				t.Errorf("POST %s without %s: %d %v", path, field, r.status, r.fieldErrors())
			}
		}
	}
}

// TestUserSignInFields: last_login_at (null before the first sign-in) and
// itsm_signed_in are in the API's user (SPEC §9, issue 17 point 14).
func TestUserSignInFields(t *testing.T) {
	t.Parallel() // each test has its own database and server (issue 17, point 7)
	eachDB(t, bothDatabases, func(t *testing.T, e *env) {
		r := e.do(req{method: "GET", path: "/users/" + string(e.adm.ID), token: e.admin})
		if v, ok := r.body["last_login_at"]; !ok || v != nil || r.body["itsm_signed_in"] != false {
			t.Fatalf("before: %s", r.raw)
		}
		u, _ := e.db.GetUser(context.Background(), directory.Scope{}, e.adm.ID)
		u.LastLoginAt, u.ITSMSignedIn = time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC), true
		if _, err := e.db.UpdateUser(context.Background(), u); err != nil {
			t.Fatal(err)
		}
		r = e.do(req{method: "GET", path: "/users/" + string(e.adm.ID), token: e.admin})
		if r.body["last_login_at"] != "2026-12-01T09:30:00Z" || r.body["itsm_signed_in"] != true {
			t.Fatalf("after: %s", r.raw)
		}
	})
}
