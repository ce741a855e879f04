package signin_test

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"opsiam/internal/testenv"
)

// TestBrowserPasskey registers a passkey on /account in Chromium with its
// virtual authenticator, signs out and signs in with the passkey without
// typing a name; the pages with the passkey parts pass axe in both
// languages.
func TestBrowserPasskey(t *testing.T) {
	ctx := newChrome(t)
	s, _ := newPasskeyServer(t, openDB(t, sqliteDSN(t)))
	s.user(t, "yuki", "yuki password 1", false)
	if err := chromedp.Do(ctx, chromedp.Navigate(s.URL+"/login?lang=ja")); err != nil {
		t.Fatal(err)
	}
	axeCheck(t, ctx, "login-passkey-ja")
	if err := chromedp.Do(ctx, chromedp.Navigate(s.URL+"/login?lang=en")); err != nil {
		t.Fatal(err)
	}
	auth := testenv.VirtualAuthenticator(t, ctx)
	axeCheck(t, ctx, "login-passkey-en")
	err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#username"), "yuki"), chromedp.SendKeys(chromedp.CSS("#password"), "yuki password 1"),
		chromedp.Click(chromedp.CSS("#login-submit")), chromedp.WaitVisible(chromedp.CSS("#passkey-form")))
	if err != nil {
		t.Fatal(err)
	}
	axeCheck(t, ctx, "account-passkeys-none-en")
	err = chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#passkey_name"), "Chromium key"),
		chromedp.SendKeys(chromedp.CSS("#passkey_current_password"), "yuki password 1"),
		chromedp.Click(chromedp.CSS("#passkey-register")))
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(".passkey-name"))); err != nil {
		t.Fatal(err)
	}
	name, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".passkey-name")))
	if err != nil || name != "Chromium key" {
		t.Fatalf("listed passkey %q, %v", name, err)
	}
	creds, err := chromedp.Call(ctx, webauthn.GetCredentials, webauthn.GetCredentialsParams{AuthenticatorID: auth})
	if err != nil || len(creds.Credentials) != 1 || !creds.Credentials[0].IsResidentCredential {
		t.Fatalf("authenticator holds %+v, %v", creds, err)
	}
	axeCheck(t, ctx, "account-passkeys-en")
	if err := chromedp.Do(ctx, chromedp.Navigate(s.URL+"/account?lang=ja"), chromedp.WaitVisible(chromedp.CSS(".passkey-name"))); err != nil {
		t.Fatal(err)
	}
	axeCheck(t, ctx, "account-passkeys-ja")

	// Sign out, then in with the passkey.
	step := func(name string, a ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		defer cancel()
		if err := chromedp.Do(sctx, a...); err != nil {
			u, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + " | " + ((document.getElementById("passkey-error")||{}).textContent||"")`))
			t.Fatalf("%s: %v (page %s)", name, err, u)
		}
	}
	step("sign out", chromedp.Navigate(s.URL+"/logout?lang=en"), chromedp.Click(chromedp.CSS("#logout-submit")),
		chromedp.WaitVisible(chromedp.CSS("#to-login")))
	// Chromium's virtual authenticator answers the sign-in page's
	// conditional (autofill) request at once, so opening /login signs in
	// with the passkey; where it does not, the button does.
	step("passkey sign-in", chromedp.Navigate(s.URL+"/login?lang=ja"), chromedp.WaitReady(chromedp.CSS("body")))
	if on, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`!!document.getElementById("passkey-signin") && !document.getElementById("passkey-signin").hidden`)); on {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		_ = chromedp.Do(cctx, chromedp.Click(chromedp.CSS("#passkey-signin"))) // the autofill may have won meanwhile
		cancel()
	}
	step("signed in", chromedp.WaitVisible(chromedp.CSS("#account-username")))
	who, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#account-username")))
	if err != nil || who != "yuki" {
		t.Fatalf("signed in as %q, %v", who, err)
	}
}
