package httpapi_test

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"opsiam/internal/httpapi"
)

var pathParam = regexp.MustCompile(`\{[a-z_]+\}`)

// TestBadBytesNeverAnswer500 is issue 14, item 1, on both databases: a NUL
// byte or invalid UTF-8 in every path parameter, in query parameters and
// in the JSON string fields of every endpoint that takes a body answers
// 404 (ids) or 4xx naming the field, never a 500 (PostgreSQL cannot store
// either and used to answer 500 with SQLSTATE 22021).
func TestBadBytesNeverAnswer500(t *testing.T) {
	t.Parallel() // each test has its own database and server (issue 17, point 7)
	eachDB(t, bothDatabases, func(t *testing.T, e *env) {
		u := e.must(201, "POST", "/users", userBody("target", nil)).str("id")
		bad := []string{"%00", "a%00b", "%FF", "%C3%28", "x%FE%FFy"}
		fields := []string{"username", "email", "first_name", "name", "code", "description", "note", "url", "action",
			"subject", "skill", "type", "client_id", "q"}
		var n int
		check := func(what string, r resp) {
			t.Helper()
			n++
			if r.status >= 500 {
				t.Errorf("%s: %d %s", what, r.status, r.raw)
			}
		}
		for _, key := range httpapi.RouteKeys(e.api) {
			method, path, _ := strings.Cut(key, " ")
			path = strings.TrimPrefix(path, httpapi.Prefix)
			for _, b := range bad {
				// Every path parameter bad, the others a real id.
				if pathParam.MatchString(path) {
					p := pathParam.ReplaceAllString(path, b)
					r := e.do(req{method: method, path: p, token: e.admin, body: "{}"})
					check(key+" with "+b+" in the path", r)
					if method == http.MethodGet && r.status != http.StatusNotFound {
						t.Errorf("%s with %s in the path: %d, want 404", key, b, r.status)
					}
				}
				real := pathParam.ReplaceAllString(path, u)
				check(key+" with "+b+" in the query", e.do(req{method: method, path: real + "?q=" + b + "&cursor=" + b + "&limit=" + b +
					"&user_id=" + b + "&" + b + "=1", token: e.admin}))
				if method == http.MethodPost || method == http.MethodPut || method == http.MethodPatch {
					for _, f := range fields {
						for _, v := range []string{`a\u0000b`, `\u0000`} {
							body := fmt.Sprintf(`{%q:"%s"}`, f, v)
							check(key+" body "+body, e.do(req{method: method, path: real, token: e.admin, body: body}))
						}
					}
					check(key+" bulk ids", e.do(req{method: method, path: real, token: e.admin,
						body: `{"action":"disable","ids":["\u0000","a\u0000"],"user_ids":["\u0000"],"role_ids":["\u0000"]}`}))
				}
			}
		}
		// A value with a NUL is 422 naming the field; a NUL id in a bulk
		// request is reported per item.
		r := e.do(req{method: "POST", path: "/users", token: e.admin, body: `{"username":"a\u0000","email":"a@example.com","first_name":"A","last_name":"B"}`})
		if r.status != http.StatusUnprocessableEntity || len(r.fieldErrors()) == 0 || !strings.HasPrefix(r.fieldErrors()[0], "username/") {
			t.Errorf("NUL in username: %d %s", r.status, r.raw)
		}
		r = e.do(req{method: "GET", path: "/users?q=%00", token: e.admin})
		if r.status != http.StatusUnprocessableEntity || len(r.fieldErrors()) == 0 || !strings.HasPrefix(r.fieldErrors()[0], "q/") {
			t.Errorf("NUL in q: %d %s", r.status, r.raw)
		}
		r = e.must(200, "POST", "/users/bulk", map[string]any{"action": "disable", "ids": []string{"a\x00", u}})
		if items := r.items(); items[0]["status"] != float64(404) || items[1]["ok"] != true {
			t.Errorf("bulk with a NUL id: %s", r.raw)
		}
		// The webhook description follows the text rule of every other field.
		r = e.do(req{method: "POST", path: "/webhooks", token: e.admin,
			body: `{"url":"https://hooks.example/x","event_types":["*"],"enabled":true,"description":"a\u0007bell"}`})
		if r.status != http.StatusUnprocessableEntity || len(r.fieldErrors()) == 0 || !strings.HasPrefix(r.fieldErrors()[0], "description/") {
			t.Errorf("control character in a webhook description: %d %s", r.status, r.raw)
		}
		t.Logf("%d requests with bad bytes", n)
	})
}
