package signin

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func TestClientKey(t *testing.T) {
	tests := []struct{ in, want string }{
		{"192.0.2.7:5555", "192.0.2.7"},
		{"[2001:db8:1:2:aaaa::1]:443", "2001:db8:1:2::/64"},
		{"[2001:db8:1:2:bbbb::9]:443", "2001:db8:1:2::/64"},
		{"garbage", "garbage"},
	}
	for _, tc := range tests {
		if got := clientKey(tc.in); got != tc.want {
			t.Errorf("clientKey(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func FuzzLocalPath(f *testing.F) {
	for _, s := range []string{"/console/../\\evil.example", "/account", "//evil", "/\\evil", "https://x", "/a?b=c", "", "/%2f%2fevil"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, next string) {
		if loc, off := resolvesOffServer(t, next); off {
			t.Fatalf("localPath(%q): Location %q leaves the server", next, loc)
		}
	})
}

// resolvesOffServer redirects with localPath's result as the sign-in page
// does and reports whether a browser would leave the server: the Location
// header is resolved against the page's URL, as browsers do.
func resolvesOffServer(t *testing.T, next string) (string, bool) {
	t.Helper()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "http://opsiam.test/login", nil)
	http.Redirect(rec, req, localPath(next, "/account"), http.StatusSeeOther)
	loc := rec.Header().Get("Location")
	base, _ := url.Parse("http://opsiam.test/login")
	// Browsers treat a backslash as a slash in special URLs.
	u, err := base.Parse(strings.ReplaceAll(loc, "\\", "/"))
	if err != nil {
		return loc, true
	}
	return loc, u.Host != "opsiam.test" || u.Scheme != "http"
}

// TestLocalPathOpenRedirect is defect 13 of issue 12: the check is made on
// the path as the browser will see it, after dot segments are resolved.
func TestLocalPathOpenRedirect(t *testing.T) {
	for _, next := range []string{
		"/console/../\\evil.example", // next=/console/..%2F%5Cevil.example, decoded by the query parser
		"/console/..%2F%5Cevil.example",
		"/a/../../\\evil.example", "/.//evil.example", "/%2e%2e//evil.example", "/x/..//evil.example",
		"/\\/evil.example", "/\tevil", "//evil.example", "https://evil.example/", "/\x00",
	} {
		if loc, off := resolvesOffServer(t, next); off {
			t.Errorf("next=%q: Location %q leaves the server", next, loc)
		}
	}
	for next, want := range map[string]string{
		"/oidc/continue?id=abc%2Bd": "/oidc/continue?id=abc%2Bd",
		"/console/users/":           "/console/users/",
		"/console/../account":       "/account",
	} {
		if got := localPath(next, "/account"); got != want {
			t.Errorf("localPath(%q) = %q, want %q", next, got, want)
		}
	}
}
