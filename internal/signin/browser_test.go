package signin_test

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"opsiam/internal/auth"
	"opsiam/internal/directory"
	"opsiam/internal/mail"
	"opsiam/internal/provision"
	"opsiam/internal/store"
	"opsiam/internal/testenv"
)

// newChrome starts a headless Chromium for one test.
func newChrome(t *testing.T) context.Context {
	t.Helper()
	bin := testenv.Chromium(t)
	opts := []chromedp.ExecAllocatorOption{chromedp.ExecPath(bin), chromedp.Headless, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("lang", "en-US")}
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox)
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	ctx, cancelT := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelT(); cancelC(); cancelA() })
	return ctx
}

var setupLinkRE = regexp.MustCompile(`http://\S+/password/setup\?token=[A-Za-z0-9_%-]+`)

// TestBrowserOTPJourney is acceptance 2 of issue 4 in headless Chromium:
// an administrator creates a user with OTP required (through the store and
// the outbox event, as the user use case does); the user sets a password
// from the mail, signs in, enrols OTP with a code computed from the key on
// the page, signs out, and signs in again with a fresh code.
func TestBrowserOTPJourney(t *testing.T) {
	ctx := newChrome(t)
	s := newServer(t, nil)
	bg := context.Background()
	tmpl, err := mail.LoadTemplates()
	if err != nil {
		t.Fatal(err)
	}
	target := &mail.Target{Users: s.db, Links: s.auth, Mailer: s.box, Templates: tmpl, BaseURL: s.URL}

	var ev store.Event
	err = s.db.InTx(bg, func(tx store.Tx) error {
		u, err := tx.CreateUser(bg, directory.User{Username: "kenji", Email: "kenji@example.test", FirstName: "Kenji",
			LastName: "Sato", Enabled: true, OTPRequired: true, Timezone: "Asia/Tokyo"})
		if err != nil {
			return err
		}
		ev, err = tx.Enqueue(bg, store.Event{Topic: provision.TopicMailPasswordSetup, Aggregate: "user:" + string(u.ID),
			Payload: []byte(fmt.Sprintf(`{"user_id":%q}`, u.ID))})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := target.Deliver(bg, ev); err != nil {
		t.Fatal(err)
	}

	run := func(step string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			html, _ := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("body")))
			t.Fatalf("%s: %v\npage:\n%s", step, err, html)
		}
	}
	text := func(sel string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return strings.TrimSpace(v)
	}

	// The mail, read in the development mailbox.
	run("open the mailbox", chromedp.Navigate(s.URL+"/dev/mail"), chromedp.WaitVisible(chromedp.CSS("article.mail")))
	link := setupLinkRE.FindString(text("article.mail pre"))
	if link == "" {
		t.Fatalf("no setup link in the mail:\n%s", text("article.mail pre"))
	}
	const password = "sakura-lantern-58"
	run("set the password",
		chromedp.Navigate(link),
		chromedp.WaitVisible(chromedp.CSS("#new_password")),
		chromedp.SendKeys(chromedp.CSS("#new_password"), password),
		chromedp.SendKeys(chromedp.CSS("#confirm_password"), password),
		chromedp.Click(chromedp.CSS("#password-submit")),
		chromedp.WaitVisible(chromedp.CSS("#notice")))
	if got := text("#notice"); !strings.Contains(got, "password is set") {
		t.Fatalf("after setting the password: %q", got)
	}

	signIn := func() {
		run("sign in",
			chromedp.Navigate(s.URL+"/login"),
			chromedp.WaitVisible(chromedp.CSS("#username")),
			chromedp.SendKeys(chromedp.CSS("#username"), "kenji"),
			chromedp.SendKeys(chromedp.CSS("#password"), password),
			chromedp.Click(chromedp.CSS("#login-submit")),
			chromedp.WaitVisible(chromedp.CSS("#otp")))
	}
	signIn()
	secret := text("#otp-secret")
	qr, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS("#otp-qr"), "src"))
	if err != nil || !strings.HasPrefix(qr.Value, "data:image/png;base64,") {
		t.Fatalf("QR code src %q, %v", qr.Value, err)
	}
	first, _ := auth.CodeAt(secret, time.Now())
	run("enrol",
		chromedp.SendKeys(chromedp.CSS("#otp"), first),
		chromedp.Click(chromedp.CSS("#otp-submit")),
		chromedp.WaitVisible(chromedp.CSS("#account-username")))
	if got := text("#account-username"); got != "kenji" {
		t.Fatalf("account page shows %q", got)
	}

	// A7: the change button is enabled only when all three are filled and
	// the new password equals the confirmation.
	disabled := func() bool {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("password-submit").disabled`))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if !disabled() {
		t.Fatal("change-password button enabled with empty fields")
	}
	run("fill two fields", chromedp.SendKeys(chromedp.CSS("#current_password"), password),
		chromedp.SendKeys(chromedp.CSS("#new_password"), "maple-river-93"))
	if !disabled() {
		t.Fatal("button enabled without the confirmation")
	}
	run("mismatching confirmation", chromedp.SendKeys(chromedp.CSS("#confirm_password"), "maple-river-9"))
	if !disabled() {
		t.Fatal("button enabled although new and confirmation differ")
	}
	run("matching confirmation", chromedp.SendKeys(chromedp.CSS("#confirm_password"), "3"))
	if disabled() {
		v, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("current_password").value + "|" + document.getElementById("new_password").value + "|" + document.getElementById("confirm_password").value`))
		t.Fatalf("button still disabled with all three filled and matching: %s", v)
	}

	run("sign out",
		chromedp.Click(chromedp.CSS("#logout-link")),
		chromedp.WaitVisible(chromedp.CSS("#logout-submit")),
		chromedp.Click(chromedp.CSS("#logout-submit")),
		chromedp.WaitVisible(chromedp.CSS("#notice")))
	run("signed out", chromedp.Navigate(s.URL+"/account"), chromedp.WaitVisible(chromedp.CSS("#username")))

	// Again, with a fresh code (the next step: the enrolment code is used).
	signIn()
	if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#otp-secret").length`)); n != 0 {
		t.Fatal("the key is shown again after enrolment")
	}
	fresh, _ := auth.CodeAt(secret, time.Now().Add(30*time.Second))
	run("code",
		chromedp.SendKeys(chromedp.CSS("#otp"), fresh),
		chromedp.Click(chromedp.CSS("#otp-submit")),
		chromedp.WaitVisible(chromedp.CSS("#account-username")))
	if got := text("#account-username"); got != "kenji" {
		t.Fatalf("second sign-in shows %q", got)
	}
}
