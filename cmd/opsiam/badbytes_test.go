package main

import (
	"net/http"
	"net/url"
	"testing"

	"opsiam/internal/testenv"
)

// TestServeRefusesBadBytesOnPostgres is issue 14, item 1, through `opsiam
// serve` on PostgreSQL, unauthenticated as an attacker would send it: NUL
// bytes and invalid UTF-8 in the sign-in form, the provider's endpoints,
// the console and API paths answer 4xx, never 500.
func TestServeRefusesBadBytesOnPostgres(t *testing.T) {
	t.Parallel() // its own data directory and server (issue 17, point 7)
	dsn := testenv.PostgresSchema(t)
	base, _ := startServer(t, map[string]string{"OPSIAM_KEY_ENCRYPTION_KEY": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="}, "--database", dsn)
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, bad := range []string{"\x00", "a\x00b", "\xff", "\xc3\x28"} {
		for _, form := range []struct {
			path string
			v    url.Values
		}{
			{"/login", url.Values{"username": {"admin" + bad}, "password": {"x"}}},
			{"/login", url.Values{"username": {"admin"}, "password": {bad}}},
			{"/oauth/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {bad}, "client_secret": {"x"}}},
			{"/oauth/introspect", url.Values{"token": {bad}}},
			{"/password/forgot", url.Values{"login": {bad}}},
		} {
			resp, err := noFollow.PostForm(base+form.path, form.v)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode >= 500 {
				t.Errorf("POST %s %v: %d", form.path, form.v, resp.StatusCode)
			}
		}
		esc := url.PathEscape(bad)
		for _, path := range []string{"/api/v1/users/" + esc, "/console/users/" + esc, "/oidc/continue?id=" + esc,
			"/authorize?client_id=" + esc, "/login?next=" + esc, "/password/setup?token=" + esc} {
			resp, err := noFollow.Get(base + path)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode >= 500 {
				t.Errorf("GET %s: %d", path, resp.StatusCode)
			}
		}
	}
	resp, err := http.PostForm(base+"/login", url.Values{"username": {"admin\x00"}, "password": {"x"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("NUL in the sign-in form: %d, want 422", resp.StatusCode)
	}

}
