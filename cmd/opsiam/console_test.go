package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"opsiam/internal/provision/gitlab"
	"opsiam/internal/provision/gitlab/gitlabfake"
)

// TestServeMountsConsole: serve answers / with the console, and the
// console sends a browser without a session to the sign-in page.
func TestServeMountsConsole(t *testing.T) {
	t.Parallel() // its own data directory and server (issue 17, point 7)
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

// TestGitMembersAdapter: the console's Git members come from the GitLab
// target (here on the GitLab fake); a group GitLab does not have lists every
// opsiam member with "No Access" (P2). Without a target the tab is off.
func TestGitMembersAdapter(t *testing.T) {
	t.Parallel() // its own data directory and server (issue 17, point 7)
	if gitMembers(nil) != nil {
		t.Fatal("Git members offered without a GitLab target")
	}
	fake := gitlabfake.New("secret-token")
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	gl, err := gitlab.New(gitlab.Config{URL: srv.URL, Token: "secret-token"})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := gitMembers(gl)(context.Background(), "ops", []string{"eve"})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].Username != "eve" || rows[0].Role != "No Access" {
		t.Fatalf("rows %+v", rows)
	}
}
