package httpapi_test

import (
	"bytes"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestMalformedInput is acceptance 4: malformed JSON, unknown fields,
// bodies over 1 MiB, invalid UTF-8 and wrong types never produce a 500 or
// a partial write, on every endpoint that takes a body.
func TestMalformedInput(t *testing.T) {
	t.Parallel() // each test has its own database and server (issue 17, point 7)
	e := newEnv(t, filepath.Join(t.TempDir(), "db"), nil)
	u := e.must(201, "POST", "/users", userBody("target", nil))
	g := e.must(201, "POST", "/groups", map[string]any{"name": "grp"})
	r := e.must(201, "POST", "/roles", map[string]any{"name": "rl"})
	c := e.must(201, "POST", "/customers", map[string]any{"code": "C1", "name": "C one"})
	endpoints := []struct{ method, path string }{
		{"POST", "/users"}, {"POST", "/users/bulk"}, {"PUT", "/users/" + u.str("id")}, {"PATCH", "/users/" + u.str("id")},
		{"POST", "/users/" + u.str("id") + "/roles"}, {"POST", "/users/" + u.str("id") + "/token"},
		{"POST", "/groups"}, {"PUT", "/groups/" + g.str("id")}, {"PATCH", "/groups/" + g.str("id")},
		{"POST", "/groups/" + g.str("id") + "/members"}, {"POST", "/groups/" + g.str("id") + "/roles"},
		{"POST", "/groups/" + g.str("id") + "/relations"},
		{"POST", "/roles"}, {"PUT", "/roles/" + r.str("id")}, {"PATCH", "/roles/" + r.str("id")}, {"POST", "/roles/" + r.str("id") + "/contains"},
		{"POST", "/customers"}, {"PUT", "/customers/" + c.str("id")}, {"PATCH", "/customers/" + c.str("id")},
		{"POST", "/access/check"}, {"POST", "/access/skills/check"}, {"POST", "/webhooks"},
	}
	huge := `{"note":"` + strings.Repeat("x", 1<<20) + `"}`
	bodies := []struct {
		name   string
		body   []byte
		status int
		field  string
	}{
		{"malformed JSON", []byte(`{"name": `), 400, ""},
		{"not JSON", []byte(`hello`), 400, ""},
		{"two values", []byte(`{} {}`), 400, ""},
		{"array", []byte(`[1,2]`), 400, ""},
		{"unknown field", []byte(`{"no_such_field": 1}`), 422, "no_such_field"},
		{"invalid UTF-8", []byte("{\"name\": \"\xff\xfe\"}"), 400, ""},
		{"over 1 MiB", []byte(huge), 413, ""},
	}
	for _, ep := range endpoints {
		for _, b := range bodies {
			t.Run(ep.method+" "+ep.path+" "+b.name, func(t *testing.T) {
				before := e.auditCount()
				res := e.do(req{method: ep.method, path: ep.path, token: e.admin, body: b.body})
				if res.status != b.status {
					t.Fatalf("got %d, want %d: %.300s", res.status, b.status, res.raw)
				}
				if b.field != "" && !slices.Contains(res.fieldErrors(), b.field+"/unknown") {
					t.Fatalf("unknown field not named: %s", res.raw)
				}
				if e.auditCount() != before {
					t.Fatal("a refused request wrote")
				}
			})
		}
	}
	// Wrong types name the field.
	for _, tc := range []struct{ path, body, field string }{
		{"/users", `{"username": 5}`, "username"},
		{"/users", `{"enabled": "yes"}`, "enabled"},
		{"/groups/" + g.str("id") + "/members", `{"user_ids": "x"}`, "user_ids"},
		{"/users/bulk", `{"action": "enable", "ids": [1]}`, "ids"},
	} {
		res := e.do(req{method: "POST", path: tc.path, token: e.admin, body: tc.body})
		if res.status != 422 || len(res.fieldErrors()) != 1 || !strings.HasPrefix(res.fieldErrors()[0], tc.field) {
			t.Errorf("%s %s: %d %s", tc.path, tc.body, res.status, res.raw)
		}
	}
	// Bad query parameters are 422 naming the parameter, never 500.
	for _, tc := range []struct{ path, field string }{
		{"/users?limit=0", "limit"}, {"/users?limit=x", "limit"}, {"/users?cursor=abc", "cursor"},
		{"/users?sort=password", "sort"}, {"/users?billing=maybe", "billing"}, {"/users?enabled=perhaps", "enabled"},
		{"/users?q=%FF", "q"}, {"/audit?since=yesterday", "since"}, {"/roles?type=x", "type"}, {"/customers?state=x", "state"},
	} {
		res := e.do(req{method: "GET", path: tc.path, token: e.admin})
		if res.status >= 500 || res.status < 400 || (tc.field != "" && (len(res.fieldErrors()) == 0 || !strings.HasPrefix(res.fieldErrors()[0], tc.field))) {
			t.Errorf("%s: %d %s", tc.path, res.status, res.raw)
		}
	}
	// Stale If-Match: 412, nothing written.
	before := e.auditCount()
	if res := e.do(req{method: "PATCH", path: "/users/" + u.str("id"), token: e.admin, body: `{"note":"x"}`, header: map[string]string{"If-Match": `"99"`}}); res.status != 412 {
		t.Fatalf("stale If-Match: %d", res.status)
	}
	if res := e.do(req{method: "DELETE", path: "/groups/" + g.str("id"), token: e.admin, header: map[string]string{"If-Match": `W/"7"`}}); res.status != 412 {
		t.Fatalf("stale If-Match on delete: %d", res.status)
	}
	if e.auditCount() != before {
		t.Fatal("stale update wrote")
	}
	ok := e.do(req{method: "PATCH", path: "/users/" + u.str("id"), token: e.admin, body: `{"note":"x"}`, header: map[string]string{"If-Match": u.header.Get("ETag")}})
	if ok.status != 200 || ok.header.Get("ETag") != `"2"` {
		t.Fatalf("matching If-Match: %d %v", ok.status, ok.header)
	}
	// Unknown path under the API is a problem document too.
	if res := e.do(req{method: "GET", path: "/nothing", token: e.admin}); res.status != 404 {
		t.Fatalf("unknown path: %d", res.status)
	}
}

// FuzzCreateUser sends arbitrary bodies to POST /users: never a 500, and
// a refused request writes nothing.
func FuzzCreateUser(f *testing.F) {
	for _, s := range []string{`{"username":"a","email":"a@example.com","first_name":"A","last_name":"B"}`,
		`{"username":"日本","email":"x@y","first_name":"\u0000","last_name":"B","timezone":"Asia/Tokyo"}`,
		`{"username":1}`, `{"customer_id":"nope","username":"c","email":"c@example.com","first_name":"A","last_name":"B"}`,
		`null`, `{}`, `{"note":"a\nb","phone1":"+81 (3) 1234"}`, "{\"username\":\"\xc3\x28\"}"} {
		f.Add([]byte(s))
	}
	e := newEnv(f, filepath.Join(f.TempDir(), "db"), nil)
	f.Fuzz(func(t *testing.T, body []byte) {
		e.t = t
		before := e.auditCount()
		res := e.do(req{method: "POST", path: "/users", token: e.admin, body: bytes.Clone(body)})
		if res.status >= 500 {
			t.Fatalf("500 for %q: %s", body, res.raw)
		}
		if res.status != 201 && e.auditCount() != before {
			t.Fatalf("refused body %q wrote", body)
		}
	})
}

// TestInternalError: an unknown failure is a 500 problem with a request id
// and without its cause.
func TestInternalError(t *testing.T) {
	t.Parallel() // each test has its own database and server (issue 17, point 7)
	e := newEnv(t, filepath.Join(t.TempDir(), "db"), nil)
	e.db.Close()
	res := e.do(req{method: "GET", path: "/users", token: e.admin})
	if res.status != 500 || res.str("request_id") == "" || res.str("request_id") != res.header.Get("X-Request-Id") ||
		strings.Contains(string(res.raw), "sql") {
		t.Fatalf("%d %v %s", res.status, res.header, res.raw)
	}
}
