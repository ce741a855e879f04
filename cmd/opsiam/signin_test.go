package main

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoopbackOnlyGuardsDevMail(t *testing.T) {
	h := loopbackOnly(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) }))
	for _, tc := range []struct {
		remote, path string
		want         int
	}{
		{"127.0.0.1:1234", "/dev/mail", http.StatusTeapot},
		{"[::1]:1234", "/dev/mail", http.StatusTeapot},
		{"203.0.113.5:1234", "/dev/mail", http.StatusNotFound},
		{"203.0.113.5:1234", "/login", http.StatusTeapot},
	} {
		r := httptest.NewRequest("GET", tc.path, nil)
		r.RemoteAddr = tc.remote
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != tc.want {
			t.Errorf("%s from %s = %d, want %d", tc.path, tc.remote, w.Code, tc.want)
		}
	}
}

// TestServeSignsAdminIn: the embedded default serves the sign-in pages and
// the dev mailbox, and the admin password printed at first start signs in.
func TestServeSignsAdminIn(t *testing.T) {
	base, out := startServer(t, nil, "--data-dir", filepath.Join(t.TempDir(), "data"))
	m := passwordRE.FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no admin password:\n%s", out.String())
	}
	if code, body := signInOnce(t, base, "admin", m[1]); code != 200 || !adminInConsole(body) {
		t.Fatalf("admin sign-in = %d", code)
	}
	if code := get(t, base+"/dev/mail"); code != 200 {
		t.Fatalf("/dev/mail without SMTP = %d", code)
	}
}

func TestServeWithSMTPHasNoDevMail(t *testing.T) {
	base, _ := startServer(t, nil, "--data-dir", t.TempDir(), "--smtp-addr", "127.0.0.1:11025", "--smtp-from", "noreply@example.test")
	if code := get(t, base+"/dev/mail"); code != 404 {
		t.Fatalf("/dev/mail with SMTP = %d", code)
	}
	if code := get(t, base+"/login"); code != 200 {
		t.Fatalf("/login = %d", code)
	}
}

// adminInConsole reports whether a page is the admin console signed in as
// an administrator: where a sign-in of admin without a target lands
// (issue 17).
func adminInConsole(body string) bool {
	return strings.Contains(body, `href="/console/users"`) && strings.Contains(body, `href="/console/audit"`)
}
