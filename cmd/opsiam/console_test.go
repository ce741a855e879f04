package main

import (
	"net/http"
	"path/filepath"
	"testing"
)

// TestServeMountsConsole: serve answers / with the console, and the
// console sends a browser without a session to the sign-in page.
func TestServeMountsConsole(t *testing.T) {
	base, _ := startServer(t, nil, "--data-dir", filepath.Join(t.TempDir(), "data"))
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for path, want := range map[string]string{"/": "/console/", "/console/users": "/login?next=%2Fconsole%2Fusers"} {
		resp, err := c.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != want {
			t.Fatalf("GET %s: %d %q, want 303 %q", path, resp.StatusCode, resp.Header.Get("Location"), want)
		}
	}
	if code := get(t, base+"/console/static/console.js"); code != http.StatusOK {
		t.Fatalf("console.js: %d", code)
	}
}
