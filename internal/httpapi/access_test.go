package httpapi_test

import (
	"net/http"
	"path/filepath"
	"slices"
	"testing"

	"opsiam/internal/directory"
	"opsiam/internal/manage"
)

// TestSkills: G7 through the API, with the configuration parsed from YAML.
func TestSkills(t *testing.T) {
	t.Parallel() // each test has its own database and server (issue 17, point 7)
	cfg, err := manage.ParseSkills([]byte(`
skills:
  - name: linux
  - name: oracle
    groups: [DBA]
skill_sets:
  - name: infra
    skills: [linux]
    groups: [Ops Team]
`))
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, filepath.Join(t.TempDir(), "db"), cfg)
	ops := e.must(201, "POST", "/groups", map[string]any{"name": "Ops Team"})
	in := e.must(201, "POST", "/users", userBody("inside", nil))
	out := e.must(201, "POST", "/users", userBody("outside", nil))
	e.must(200, "POST", "/groups/"+ops.str("id")+"/members", map[string]any{"user_ids": []string{in.str("id")}})
	if r := e.must(200, "GET", "/access/skills", nil); len(r.body["skills"].([]any)) != 2 {
		t.Fatalf("skills: %s", r.raw)
	}
	if r := e.must(200, "POST", "/access/skills/check", map[string]any{"user_id": in.str("id"), "skill": "linux"}); !r.body["allowed"].(bool) {
		t.Fatalf("member refused: %s", r.raw)
	}
	for _, tc := range []struct{ user, skill, field string }{
		{out.str("id"), "linux", "user_id/not_allowed"},
		{in.str("id"), "oracle", "user_id/not_allowed"},
		{in.str("id"), "cooking", "skill/invalid"},
		{"nobody", "linux", "user_id/invalid"},
	} {
		r := e.must(422, "POST", "/access/skills/check", map[string]any{"user_id": tc.user, "skill": tc.skill})
		if !slices.Contains(r.fieldErrors(), tc.field) {
			t.Errorf("%s/%s: %s", tc.user, tc.skill, r.raw)
		}
	}
	for _, bad := range []string{"skills: [{name: a}]\nskill_sets: [{name: s, skills: [b], groups: [global]}]", "skils: []", "skills: 5"} {
		if _, err := manage.ParseSkills([]byte(bad)); err == nil {
			t.Errorf("bad configuration accepted: %q", bad)
		}
	}
}

// TestCookieCredentialNeedsSameOrigin: requests authenticated by a
// cookie-based credential (the session cookie of the sign-in code) pass
// CSRF protection for unsafe methods; tokens are not affected.
func TestCookieCredentialNeedsSameOrigin(t *testing.T) {
	t.Parallel() // each test has its own database and server (issue 17, point 7)
	e := newEnv(t, filepath.Join(t.TempDir(), "db"), nil)
	admin := e.adm.ID
	cookie := func(r *http.Request) (directory.UserID, bool, error) {
		c, err := r.Cookie("session")
		if err != nil {
			return "", false, nil
		}
		if c.Value != "good" {
			return "", false, errBadSession
		}
		return admin, true, nil
	}
	e.api.Credentials = append(e.api.Credentials, httpapiCookie(cookie))
	body := userBody("viacookie", nil)
	cross := map[string]string{"Cookie": "session=good", "Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}
	if r := e.do(req{method: "POST", path: "/users", body: body, header: cross}); r.status != 403 {
		t.Fatalf("cross-site POST with a cookie: %d %s", r.status, r.raw)
	}
	if r := e.do(req{method: "GET", path: "/users", header: cross}); r.status != 200 {
		t.Fatalf("cross-site GET with a cookie: %d", r.status)
	}
	same := map[string]string{"Cookie": "session=good", "Sec-Fetch-Site": "same-origin"}
	if r := e.do(req{method: "POST", path: "/users", body: body, header: same}); r.status != 201 {
		t.Fatalf("same-origin POST with a cookie: %d %s", r.status, r.raw)
	}
	if r := e.do(req{method: "GET", path: "/users", header: map[string]string{"Cookie": "session=bad"}}); r.status != 401 {
		t.Fatalf("bad cookie: %d", r.status)
	}
	if r := e.do(req{method: "POST", path: "/users", token: e.admin, body: userBody("viatoken", nil),
		header: map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}}); r.status != 201 {
		t.Fatalf("token request from another origin: %d", r.status)
	}
}

// TestBulk: a result per item; the reserved admin is refused alone.
func TestBulk(t *testing.T) {
	t.Parallel() // each test has its own database and server (issue 17, point 7)
	e := newEnv(t, filepath.Join(t.TempDir(), "db"), nil)
	a := e.must(201, "POST", "/users", userBody("bulk1", nil))
	b := e.must(201, "POST", "/users", userBody("bulk2", nil))
	r := e.must(200, "POST", "/users/bulk", map[string]any{"action": "disable", "ids": []string{a.str("id"), string(e.adm.ID), "missing", b.str("id")}})
	var statuses []float64
	for _, it := range r.items() {
		statuses = append(statuses, it["status"].(float64))
	}
	if !slices.Equal(statuses, []float64{200, 422, 404, 200}) {
		t.Fatalf("statuses %v: %s", statuses, r.raw)
	}
	if u := e.must(200, "GET", "/users/"+b.str("id"), nil); u.body["enabled"].(bool) {
		t.Fatal("bulk disable did not disable")
	}
	e.must(422, "POST", "/users/bulk", map[string]any{"action": "explode", "ids": []string{a.str("id")}})
	r = e.must(200, "POST", "/users/bulk", map[string]any{"action": "delete", "ids": []string{a.str("id")}})
	if r.items()[0]["status"].(float64) != 204 {
		t.Fatalf("bulk delete: %s", r.raw)
	}
	e.must(404, "GET", "/users/"+a.str("id"), nil)
}
