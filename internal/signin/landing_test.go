package signin_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"opsiam/internal/directory"
	"opsiam/internal/signin"
)

// TestLandingAfterSignIn: a sign-in without a target lands in the console
// for users who may use it and on /account for the others; /account links
// to the console only for the former (issue 17, point 5).
func TestLandingAfterSignIn(t *testing.T) {
	s := newServer(t, nil, func(c *signin.Config) {
		c.Console = func(_ context.Context, u directory.User) bool { return u.Username == "operator" }
	})
	s.user(t, "operator", "operator password 1", false)
	s.user(t, "plain", "plain password 1", false)
	for _, c := range []struct{ user, next, want string }{
		{"operator", "", "/console/"},
		{"plain", "", "/account"},
		{"operator", "/account", "/account"}, // a target wins
	} {
		b := newBrowser(t, s.URL)
		b.c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		b.get("/login")
		form := url.Values{"username": {c.user}, "password": {c.user + " password 1"}, "csrf": {b.cookie("opsiam_csrf")}, "next": {c.next}}
		req, _ := http.NewRequest("POST", s.URL+"/login", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		res, err := b.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if loc := res.Header.Get("Location"); res.StatusCode != http.StatusSeeOther || loc != c.want {
			t.Errorf("%s next=%q: %d %q, want %q", c.user, c.next, res.StatusCode, loc, c.want)
		}
		// Signed in already: /login sends there too.
		req, _ = http.NewRequest("GET", s.URL+"/login", nil)
		if res, err = b.c.Do(req); err == nil {
			res.Body.Close()
			if c.next == "" && res.Header.Get("Location") != c.want {
				t.Errorf("%s, /login again: %q", c.user, res.Header.Get("Location"))
			}
		}
		_, body := b.get("/account")
		if has := strings.Contains(body, `id="console-link"`); has != (c.user == "operator") {
			t.Errorf("%s: console link on /account = %v", c.user, has)
		}
	}
}
