package main

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"opsiam/internal/auth"
	"opsiam/internal/oidc/oidctest"
	"opsiam/internal/testenv"
)

// TestBrowserPasskeyIntoApplication is issue 18's passkey journey through
// `opsiam serve` in Chromium with its virtual authenticator (the DevTools
// WebAuthn domain). A user who must give a one-time code signs in with
// password and code and registers a passkey on /account; signs out; opens
// an application on another origin, which sends it to /login, where the
// passkey alone signs it in, without a name and without a code, and the
// application receives an ID token whose amr says hwk, user and mfa. An
// administrator then removes the passkey through the API; the next
// passkey sign-in is refused and the application gets no code.
func TestBrowserPasskeyIntoApplication(t *testing.T) {
	t.Parallel() // its own data directory and server
	ctx := testenv.Chrome(t)
	dir := filepath.Join(t.TempDir(), "data")
	runWithEnv(t, map[string]string{"OPSIAM_ADMIN_PASSWORD": "a long admin secret"}, "migrate", "--data-dir", dir)
	rp := oidctest.NewWebRP(t)
	out := runWithEnv(t, nil, "client", "add", "--data-dir", dir, "--client-id", "webapp", "--name", "Web app",
		"--redirect-uri", rp.RedirectURI())
	admin := strings.TrimSpace(runCLI(t, dir, "", "", "token", "issue", "admin"))
	// WebAuthn needs a host name: the issuer is on localhost, the
	// application on 127.0.0.1 and another port.
	port := freePort(t)
	issuer := "http://localhost:" + port
	startServer(t, nil, "--data-dir", dir, "--addr", "127.0.0.1:"+port, "--issuer", issuer)
	rp.Configure(t, issuer, "webapp", secretRE.FindStringSubmatch(out)[1])
	if strings.HasPrefix(rp.URL, issuer) {
		t.Fatal("the application must be on another origin")
	}
	code, u := do(t, "POST", issuer+"/api/v1/users", admin, `{"username":"mika","email":"mika@example.test","email_verified":true,
		"first_name":"Mika","last_name":"Ito","otp_required":true}`)
	if code != http.StatusCreated {
		t.Fatalf("create mika: %d %v", code, u)
	}
	userID := u["id"].(string)
	const pw = "camellia-orbit-27"
	runCLI(t, dir, pw+"\n", "", "user", "set-password", "mika")

	b := browser{t: t, ctx: ctx, stepTimeout: 20 * time.Second}
	run, text := b.run, b.text

	// Password and one-time code (enrolment), then a passkey on /account.
	// (The first action runs without run's deadline: chromedp closes the
	// tab with the context its first action ran under.)
	if err := chromedp.Do(ctx, chromedp.Navigate(issuer+"/login?lang=en"), chromedp.WaitVisible(chromedp.CSS("#username"))); err != nil {
		t.Fatal(err)
	}
	va := testenv.VirtualAuthenticator(t, ctx)
	run("password", chromedp.SendKeys(chromedp.CSS("#username"), "mika"), chromedp.SendKeys(chromedp.CSS("#password"), pw),
		chromedp.Click(chromedp.CSS("#login-submit")), chromedp.WaitVisible(chromedp.CSS("#otp-secret")))
	first, _ := auth.CodeAt(text("#otp-secret"), time.Now())
	run("enrol", chromedp.SendKeys(chromedp.CSS("#otp"), first), chromedp.Click(chromedp.CSS("#otp-submit")),
		chromedp.WaitVisible(chromedp.CSS("#passkey-form")))
	run("register a passkey", chromedp.SendKeys(chromedp.CSS("#passkey_name"), "Mika's laptop"),
		chromedp.SendKeys(chromedp.CSS("#passkey_current_password"), pw), chromedp.Click(chromedp.CSS("#passkey-register")),
		chromedp.WaitVisible(chromedp.CSS(".passkey-name")))
	if got := text(".passkey-name"); got != "Mika's laptop" {
		t.Fatalf("registered %q", got)
	}
	creds, err := chromedp.Call(ctx, webauthn.GetCredentials, webauthn.GetCredentialsParams{AuthenticatorID: va})
	if err != nil || len(creds.Credentials) != 1 || !creds.Credentials[0].IsResidentCredential {
		t.Fatalf("the authenticator holds %+v, %v", creds, err)
	}
	signOut := func(step string) {
		t.Helper()
		run(step, chromedp.Navigate(issuer+"/logout?lang=en"), chromedp.WaitVisible(chromedp.CSS("#logout-submit")),
			chromedp.Click(chromedp.CSS("#logout-submit")), chromedp.WaitVisible(chromedp.CSS("#notice")))
	}
	signOut("sign out")

	// The application on the other origin sends the browser to /login;
	// the passkey signs in (the browser's autofill answers at once, or the
	// button does).
	passkeySignIn := func(step string) {
		t.Helper()
		run(step+": the application sends to /login", chromedp.Navigate(rp.URL+"/start"), chromedp.WaitReady(chromedp.CSS("body")))
		deadline := time.Now().Add(3 * time.Second)
		for time.Now().Before(deadline) {
			loc, _ := chromedp.Run(ctx, chromedp.Location())
			if strings.HasPrefix(loc, rp.URL) {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		run(step+": the passkey button", chromedp.WaitVisible(chromedp.CSS("#passkey-signin")), chromedp.Click(chromedp.CSS("#passkey-signin")))
	}
	calls := rp.Callbacks()
	passkeySignIn("passkey")
	run("back at the application", chromedp.WaitVisible(chromedp.CSS("#signed-in")))
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	if !strings.HasPrefix(loc, rp.URL+"/callback") || text("#signed-in") != "mika" || rp.Callbacks() != calls+1 {
		t.Fatalf("at %s as %q after %d callbacks", loc, text("#signed-in"), rp.Callbacks()-calls)
	}
	if got := text("#amr"); got != "hwk user mfa" {
		t.Fatalf("amr %q, want hwk user mfa", got)
	}
	_, list := do(t, "GET", issuer+"/api/v1/users/"+userID+"/passkeys", admin, "")
	items, _ := list["items"].([]any)
	if len(items) != 1 || items[0].(map[string]any)["last_used_at"] == nil {
		t.Fatalf("passkeys after the sign-in: %v", list)
	}
	pid := items[0].(map[string]any)["id"].(string)

	// An administrator removes it: the same passkey no longer signs in.
	signOut("sign out again")
	if code, body := do(t, "DELETE", fmt.Sprintf("%s/api/v1/users/%s/passkeys/%s", issuer, userID, pid), admin, ""); code != http.StatusNoContent {
		t.Fatalf("remove: %d %v", code, body)
	}
	calls = rp.Callbacks()
	run("after removal: the application sends to /login", chromedp.Navigate(rp.URL+"/start"), chromedp.WaitVisible(chromedp.CSS("#passkey-signin")))
	run("after removal: the passkey button", chromedp.Click(chromedp.CSS("#passkey-signin")), chromedp.WaitVisible(chromedp.CSS("#passkey-error")))
	if msg := text("#passkey-error"); msg == "" {
		t.Fatal("no message for the refused passkey")
	}
	loc, _ = chromedp.Run(ctx, chromedp.Location())
	if !strings.HasPrefix(loc, issuer+"/login") || rp.Callbacks() != calls {
		t.Fatalf("after removal: at %s with %d callbacks", loc, rp.Callbacks()-calls)
	}
}
