package main

import (
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"opsiam/internal/auth"
	"opsiam/internal/oidc/oidctest"
	"opsiam/internal/testenv"
)

var devSetupLinkRE = regexp.MustCompile(`http://\S+/password/setup\?token=[A-Za-z0-9_%-]+`)

// TestBrowserSignInToAnotherOrigin is the cross-origin test of issue 12
// (defect 1): headless Chromium signs in to a web application on another
// port (another origin) through `opsiam serve`'s real sign-in pages, with
// the authorization code flow and PKCE, for a password-only user, an OTP
// user at enrolment and at a later sign-in, and for prompt=login; each
// time the application must receive the code on the first submission.
// Under `form-action 'self'` Chromium blocked the last redirect and showed
// the sign-in form again.
func TestBrowserSignInToAnotherOrigin(t *testing.T) {
	t.Parallel() // its own data directory and server (issue 17, point 7)
	ctx := testenv.Chrome(t)
	dir := filepath.Join(t.TempDir(), "data")
	const adminPW = "a long admin secret"
	runWithEnv(t, map[string]string{"OPSIAM_ADMIN_PASSWORD": adminPW}, "migrate", "--data-dir", dir)
	rp := oidctest.NewWebRP(t)
	out := runWithEnv(t, nil, "client", "add", "--data-dir", dir, "--client-id", "webapp", "--name", "Web app",
		"--redirect-uri", rp.RedirectURI())
	admin := strings.TrimSpace(runCLI(t, dir, "", "", "token", "issue", "admin"))
	base, _ := startServer(t, nil, "--data-dir", dir)
	rp.Configure(t, base, "webapp", secretRE.FindStringSubmatch(out)[1])
	if strings.Split(base, ":")[2] == strings.Split(rp.URL, ":")[2] {
		t.Fatal("the application must be on another origin")
	}

	b := browser{t: t, ctx: ctx}
	run, text := b.run, b.text
	// signedIn checks that the application got the code of the one
	// submission and shows user, on the application's origin.
	signedIn := func(step, user string, callsBefore int, wantAMR string) {
		t.Helper()
		run(step+": back at the application", chromedp.WaitVisible(chromedp.CSS("#signed-in")))
		loc, _ := chromedp.Run(ctx, chromedp.Location())
		if !strings.HasPrefix(loc, rp.URL+"/callback") || text("#signed-in") != user || rp.Callbacks() != callsBefore+1 {
			t.Fatalf("%s: at %s as %q after %d callbacks", step, loc, text("#signed-in"), rp.Callbacks()-callsBefore)
		}
		if got := text("#amr"); got != wantAMR {
			t.Fatalf("%s: amr %q, want %q", step, got, wantAMR)
		}
	}
	signInForm := func(step, user, password string) {
		t.Helper()
		run(step+": sign-in form",
			chromedp.WaitVisible(chromedp.CSS("#username")),
			chromedp.SendKeys(chromedp.CSS("#username"), user),
			chromedp.SendKeys(chromedp.CSS("#password"), password),
			chromedp.Click(chromedp.CSS("#login-submit")))
	}

	// A password-only user.
	calls := rp.Callbacks()
	run("admin opens the application", chromedp.Navigate(rp.URL+"/start"))
	signInForm("admin", "admin", adminPW)
	signedIn("admin", "admin", calls, "pwd")

	// prompt=login asks for the password again and returns on the first submission.
	calls = rp.Callbacks()
	run("prompt=login", chromedp.Navigate(rp.URL+"/start?prompt=login"))
	signInForm("prompt=login", "admin", adminPW)
	signedIn("prompt=login", "admin", calls, "pwd")
	time.Sleep(1100 * time.Millisecond) // max_age counts whole seconds
	calls = rp.Callbacks()
	run("max_age=0", chromedp.Navigate(rp.URL+"/start?max_age=0"))
	signInForm("max_age=0", "admin", adminPW)
	signedIn("max_age=0", "admin", calls, "pwd")
	run("admin signs out",
		chromedp.Navigate(base+"/logout"), chromedp.WaitVisible(chromedp.CSS("#logout-submit")),
		chromedp.Click(chromedp.CSS("#logout-submit")), chromedp.WaitVisible(chromedp.CSS("#notice")))

	// An OTP user: the administrator creates it; it sets its password from
	// the mail (the development mailbox), then enrols at its first sign-in
	// into the application.
	if code, u := do(t, "POST", base+"/api/v1/users", admin, `{"username":"kenji","email":"kenji@example.test",
		"first_name":"Kenji","last_name":"Sato","otp_required":true}`); code != http.StatusCreated {
		t.Fatalf("create kenji: %d %v", code, u)
	}
	var link string
	for deadline := time.Now().Add(20 * time.Second); link == "" && time.Now().Before(deadline); {
		run("open the mailbox", chromedp.Navigate(base+"/dev/mail"), chromedp.WaitReady(chromedp.CSS("body")))
		if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("article.mail").length`)); n > 0 {
			link = devSetupLinkRE.FindString(text("article.mail pre"))
		}
		if link == "" {
			time.Sleep(200 * time.Millisecond)
		}
	}
	if link == "" {
		t.Fatal("no password-setup mail")
	}
	const pw = "sakura-lantern-58"
	run("set the password", chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS("#new_password")),
		chromedp.SendKeys(chromedp.CSS("#new_password"), pw), chromedp.SendKeys(chromedp.CSS("#confirm_password"), pw),
		chromedp.Click(chromedp.CSS("#password-submit")), chromedp.WaitVisible(chromedp.CSS("#notice")))

	calls = rp.Callbacks()
	run("kenji opens the application", chromedp.Navigate(rp.URL+"/start"))
	signInForm("kenji", "kenji", pw)
	run("enrolment page", chromedp.WaitVisible(chromedp.CSS("#otp-secret")))
	secret := text("#otp-secret")
	first, _ := auth.CodeAt(secret, time.Now())
	run("enrol", chromedp.SendKeys(chromedp.CSS("#otp"), first), chromedp.Click(chromedp.CSS("#otp-submit")))
	signedIn("kenji enrols", "kenji", calls, "pwd otp mfa")

	run("kenji signs out",
		chromedp.Navigate(base+"/logout"), chromedp.WaitVisible(chromedp.CSS("#logout-submit")),
		chromedp.Click(chromedp.CSS("#logout-submit")), chromedp.WaitVisible(chromedp.CSS("#notice")))
	calls = rp.Callbacks()
	run("kenji again", chromedp.Navigate(rp.URL+"/start"))
	signInForm("kenji again", "kenji", pw)
	fresh, _ := auth.CodeAt(secret, time.Now().Add(30*time.Second))
	run("one-time code", chromedp.WaitVisible(chromedp.CSS("#otp")), chromedp.SendKeys(chromedp.CSS("#otp"), fresh),
		chromedp.Click(chromedp.CSS("#otp-submit")))
	signedIn("kenji with a code", "kenji", calls, "pwd otp mfa")

}
