package signin_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"opsiam/internal/auth"
	"opsiam/internal/directory"
	"opsiam/internal/signin"
	"opsiam/internal/store"
)

const pw = "velvet-harbour-42"

func TestSignInAndOut(t *testing.T) {
	s := newServer(t, nil)
	u := s.user(t, "alice", pw, false)
	b := newBrowser(t, s.URL)
	code, body := b.get("/login")
	mustContain(t, body, `name="username"`, `name="password"`, `name="csrf"`)
	if code != 200 {
		t.Fatalf("GET /login = %d", code)
	}
	if code, _ := b.get("/api/whoami"); code != 401 {
		t.Fatalf("whoami before sign-in = %d", code)
	}
	code, body = b.post("/login", url.Values{"username": {"alice"}, "password": {pw}, "next": {"/account"}})
	if code != 200 {
		t.Fatalf("sign-in ended at %d:\n%s", code, body)
	}
	mustContain(t, body, `id="account-username">alice<`)
	if code, id := b.get("/api/whoami"); code != 200 || id != string(u.ID) {
		t.Fatalf("SessionUser = %d %q", code, id)
	}
	session := b.cookie(signin.SessionCookie)
	// A second sign-in gets a new session id.
	b.signIn("alice", pw)
	if b.cookie(signin.SessionCookie) == session {
		t.Fatal("the session id did not change at sign-in")
	}
	code, body = b.get("/logout")
	mustContain(t, body, `action="/logout"`)
	code, body = b.post("/logout", url.Values{})
	mustContain(t, body, "You have signed out.")
	if code, _ := b.get("/api/whoami"); code != 401 {
		t.Fatalf("whoami after sign-out = %d", code)
	}
	if code, body := b.get("/account"); code != 200 || !strings.Contains(body, `name="username"`) {
		t.Fatalf("/account after sign-out = %d, want the sign-in page", code)
	}
}

func TestSignInFailuresLookAlike(t *testing.T) {
	s := newServer(t, nil)
	s.user(t, "bob", pw, false)
	b := newBrowser(t, s.URL)
	var bodies []string
	for _, login := range [][2]string{{"bob", "wrong password!"}, {"nobody", pw}} {
		code, body := b.signIn(login[0], login[1])
		if code != http.StatusUnauthorized {
			t.Fatalf("failed sign-in = %d", code)
		}
		bodies = append(bodies, strings.ReplaceAll(body, b.cookie("opsiam_csrf"), ""))
	}
	if bodies[0] != bodies[1] {
		t.Fatalf("a wrong password and an unknown user answer differently:\n%s\n---\n%s", bodies[0], bodies[1])
	}
}

func TestCSRF(t *testing.T) {
	s := newServer(t, nil)
	s.user(t, "carol", pw, false)
	b := newBrowser(t, s.URL)
	b.get("/login")
	if code, _ := b.post("/login", url.Values{"username": {"carol"}, "password": {pw}, "csrf": {"forged-forged-forged-forged-forged"}}); code != http.StatusForbidden {
		t.Fatalf("wrong form token = %d, want 403", code)
	}
	// A cross-site POST is refused before the handler runs.
	form := url.Values{"username": {"carol"}, "password": {pw}, "csrf": {b.cookie("opsiam_csrf")}}
	req, _ := http.NewRequest("POST", s.URL+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if code, _ := b.do(req); code != http.StatusForbidden {
		t.Fatalf("cross-site POST = %d, want 403", code)
	}
}

func TestCookies(t *testing.T) {
	s := newServer(t, nil, func(c *signin.Config) { c.Secure = true })
	s.user(t, "dora", pw, false)
	b := newBrowser(t, s.URL)
	b.get("/login")
	form := url.Values{"username": {"dora"}, "password": {pw}, "csrf": {b.cookie("opsiam_csrf")}}
	b.c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := b.c.PostForm(s.URL+"/login", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var found bool
	for _, c := range resp.Cookies() {
		if c.Name == signin.SessionCookie {
			found = true
			if !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteLaxMode {
				t.Fatalf("session cookie %+v", c)
			}
		}
	}
	if !found || resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in answered %d without a session cookie", resp.StatusCode)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Fatalf("CSP %q", csp)
	}
}

func TestLoginRateLimit(t *testing.T) {
	s := newServer(t, nil, func(c *signin.Config) { c.LoginPerMinute = 3 })
	b := newBrowser(t, s.URL)
	for i := 0; i < 3; i++ {
		if code, _ := b.signIn("x", "y"); code != http.StatusUnauthorized {
			t.Fatalf("attempt %d = %d", i+1, code)
		}
	}
	code, body := b.signIn("x", "y")
	if code != http.StatusTooManyRequests {
		t.Fatalf("4th attempt in a minute = %d", code)
	}
	mustContain(t, body, "Too many sign-in attempts")
}

func TestLanguages(t *testing.T) {
	s := newServer(t, nil)
	b := newBrowser(t, s.URL)
	b.lang = "ja,en;q=0.8"
	_, body := b.get("/login")
	mustContain(t, body, `lang="ja"`, "サインイン", "ユーザー名またはメールアドレス")
	_, body = b.get("/login?lang=en")
	mustContain(t, body, `lang="en"`, "User name or mail address")
	_, body = b.get("/login") // the choice sticks
	mustContain(t, body, `lang="en"`)
	// The switch keeps a mail link's token.
	_, body = b.get("/password/setup?token=abc")
	mustContain(t, body, `href="/password/setup?lang=ja&amp;token=abc"`)
}

func TestOTPOverHTTP(t *testing.T) {
	s := newServer(t, nil)
	s.user(t, "erin", pw, true)
	b := newBrowser(t, s.URL)
	code, body := b.signIn("erin", pw)
	mustContain(t, body, `id="otp-qr" src="data:image/png;base64,`, `id="otp-secret"`)
	if code, _ := b.get("/api/whoami"); code != 401 {
		t.Fatal("signed in before enrolment")
	}
	secret := secretRE.FindStringSubmatch(body)[1]
	// A wrong first code shows the same key again.
	code, body = b.post("/login", url.Values{"otp": {"123456"}})
	if code != http.StatusUnauthorized || secretRE.FindStringSubmatch(body)[1] != secret {
		t.Fatalf("wrong first code: %d", code)
	}
	first, _ := auth.CodeAt(secret, time.Now())
	code, body = b.post("/login", url.Values{"otp": {first}})
	mustContain(t, body, `id="account-username">erin<`)
	mustContain(t, body, "One-time codes are set up.")
	b.post("/logout", url.Values{})

	code, body = b.signIn("erin", pw)
	mustContain(t, body, `name="otp"`)
	if strings.Contains(body, secret) {
		t.Fatal("the secret is shown again after enrolment")
	}
	code, _ = b.post("/login", url.Values{"otp": {first}})
	if code != http.StatusUnauthorized {
		t.Fatalf("the enrolment code was accepted a second time: %d", code)
	}
	next, _ := auth.CodeAt(secret, time.Now().Add(30*time.Second))
	code, body = b.post("/login", url.Values{"otp": {next}})
	mustContain(t, body, `id="account-username">erin<`)
}

func TestAccountPage(t *testing.T) {
	s := newServer(t, nil)
	u := s.user(t, "hank", pw, false)
	b := newBrowser(t, s.URL)
	b.signIn("hank", pw)
	code, body := b.get("/account")
	mustContain(t, body, `src="/auth/static/account.js"`, `id="password-submit"`)
	code, body = b.post("/account/password", url.Values{"current_password": {pw}, "password": {"short"}, "confirm": {"short"}})
	if code != http.StatusUnprocessableEntity {
		t.Fatalf("weak password = %d", code)
	}
	mustContain(t, body, "at least 8 characters")
	code, body = b.post("/account/timezone", url.Values{"timezone": {"Nowhere/Land"}})
	if code != http.StatusUnprocessableEntity {
		t.Fatalf("bad zone = %d", code)
	}
	_, body = b.post("/account/timezone", url.Values{"timezone": {"Europe/Paris"}})
	mustContain(t, body, "Your time zone was saved.", `value="Europe/Paris"`)
	_, body = b.post("/account/password", url.Values{"current_password": {pw}, "password": {"copper-lantern-77"}, "confirm": {"copper-lantern-77"}})
	mustContain(t, body, "Your password was changed.")
	// A7: a wrong current password twice disables the account.
	code, body = b.post("/account/password", url.Values{"current_password": {"nope"}, "password": {"copper-lantern-88"}, "confirm": {"copper-lantern-88"}})
	if code != http.StatusUnprocessableEntity {
		t.Fatalf("wrong current password = %d", code)
	}
	mustContain(t, body, "The current password is wrong.")
	code, body = b.post("/account/password", url.Values{"current_password": {"nope"}, "password": {"copper-lantern-88"}, "confirm": {"copper-lantern-88"}})
	if code != http.StatusForbidden {
		t.Fatalf("second wrong current password = %d", code)
	}
	mustContain(t, body, "has been disabled")
	got, _ := s.db.GetUser(context.Background(), directory.Scope{}, u.ID)
	if got.Enabled {
		t.Fatal("still enabled")
	}
	if code, _ := b.get("/api/whoami"); code != 401 {
		t.Fatal("session survived the disable")
	}
}

func TestAccountOTPReset(t *testing.T) {
	s := newServer(t, nil)
	s.user(t, "ivy", pw, false)
	b := newBrowser(t, s.URL)
	b.signIn("ivy", pw)
	_, body := b.post("/account/otp", url.Values{})
	secret := secretRE.FindStringSubmatch(body)[1]
	code, _ := b.post("/account/otp/confirm", url.Values{"otp": {"000000"}})
	if code != http.StatusUnprocessableEntity {
		t.Fatalf("wrong code = %d", code)
	}
	c, _ := auth.CodeAt(secret, time.Now())
	_, body = b.post("/account/otp/confirm", url.Values{"otp": {c}})
	mustContain(t, body, "One-time codes are set up.", "Set up again with a new key")
	// Replacing the authenticator asks for the password (issue 13, rule 3).
	mustContain(t, body, `id="otp_current_password"`)
	if code, body := b.post("/account/otp", url.Values{}); code != http.StatusUnprocessableEntity || secretRE.MatchString(body) {
		t.Fatalf("replacing one-time codes without the password = %d", code)
	}
	if code, body := b.post("/account/otp", url.Values{"current_password": {"not it"}}); code != http.StatusUnprocessableEntity || secretRE.MatchString(body) {
		t.Fatalf("replacing one-time codes with a wrong password = %d", code)
	}
	if _, body := b.post("/account/otp", url.Values{"current_password": {pw}}); !secretRE.MatchString(body) {
		t.Fatalf("replacing one-time codes with the password:\n%s", body)
	}
	b.post("/logout", url.Values{})
	_, body = b.signIn("ivy", pw)
	mustContain(t, body, `name="otp"`)
}

// TestPasswordChangeEndsOtherSessions is rule 3 of issue 13 on the account
// page: a new password ends the user's other sessions and its outstanding
// password links; the session that made the change stays.
func TestPasswordChangeEndsOtherSessions(t *testing.T) {
	s := newServer(t, nil)
	u := s.user(t, "jun", pw, false)
	laptop, phone := newBrowser(t, s.URL), newBrowser(t, s.URL)
	laptop.signIn("jun", pw)
	phone.signIn("jun", pw)
	link, _, err := s.auth.IssueLink(context.Background(), store.LinkPasswordReset, u.ID, "", "")
	if err != nil {
		t.Fatal(err)
	}
	_, body := laptop.post("/account/password", url.Values{"current_password": {pw}, "password": {"copper-lantern-77"}, "confirm": {"copper-lantern-77"}})
	mustContain(t, body, "Your password was changed.")
	if code, _ := laptop.get("/api/whoami"); code != http.StatusOK {
		t.Fatal("the session that changed the password ended")
	}
	if code, _ := phone.get("/api/whoami"); code != http.StatusUnauthorized {
		t.Fatal("another session survived the password change")
	}
	if _, err := s.auth.CheckLink(context.Background(), store.LinkPasswordReset, link); err == nil {
		t.Fatal("an outstanding reset link survived the password change")
	}
}

func TestRedirectsStayLocal(t *testing.T) {
	s := newServer(t, nil)
	s.user(t, "jo", pw, false)
	b := newBrowser(t, s.URL)
	b.get("/login")
	b.c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	for _, next := range []string{"//evil.example/x", "https://evil.example/", "/\\evil.example"} {
		req, _ := http.NewRequest("POST", s.URL+"/login", strings.NewReader(url.Values{"username": {"jo"}, "password": {pw},
			"next": {next}, "csrf": {b.cookie("opsiam_csrf")}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := b.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if loc := resp.Header.Get("Location"); loc != "/account" {
			t.Fatalf("next=%q redirected to %q", next, loc)
		}
	}
}

func TestJapaneseFieldErrors(t *testing.T) {
	s := newServer(t, nil)
	s.user(t, "mika", pw, false)
	b := newBrowser(t, s.URL)
	b.lang = "ja"
	b.signIn("mika", pw)
	code, body := b.post("/account/password", url.Values{"current_password": {pw}, "password": {"mika"}, "confirm": {"mikb"}})
	if code != http.StatusUnprocessableEntity {
		t.Fatalf("status %d", code)
	}
	mustContain(t, body, "パスワードがポリシーを満たしていません。", "新しいパスワードと確認用のパスワードが一致しません。")
	_, body = newBrowser(t, s.URL).signIn("mika", "wrong password")
	if !strings.Contains(body, "The user name, password or code is wrong") {
		t.Fatal("English failure text missing for an English browser")
	}
}

// TestReauth: /login?reauth=1 (an application's prompt=login or max_age,
// OIDC Core §3.1.2.1) shows a signed-in browser the password form instead
// of sending it on, keeps next, and signing in makes a new session.
func TestReauth(t *testing.T) {
	s := newServer(t, nil)
	s.user(t, "alice", pw, false)
	b := newBrowser(t, s.URL)
	b.signIn("alice", pw)
	session := b.cookie(signin.SessionCookie)
	if code, body := b.get("/login?next=/account"); code != 200 || strings.Contains(body, `id="login-form"`) {
		t.Fatalf("a signed-in browser without reauth: %d, sign-in form shown: %v", code, strings.Contains(body, `id="login-form"`))
	}
	code, body := b.get("/login?reauth=1&next=/account")
	if code != 200 {
		t.Fatalf("GET /login?reauth=1 = %d", code)
	}
	mustContain(t, body, `id="login-form"`, `name="next" value="/account"`, `id="notice"`)
	code, body = b.post("/login", url.Values{"username": {"alice"}, "password": {pw}, "next": {"/account"}})
	if code != 200 || !strings.Contains(body, `id="account-username">alice<`) {
		t.Fatalf("sign-in again ended at %d:\n%s", code, body)
	}
	if b.cookie(signin.SessionCookie) == session {
		t.Fatal("signing in again kept the old session")
	}
}
