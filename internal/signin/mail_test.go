package signin_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"opsiam/internal/directory"
	"opsiam/internal/mail"
	"opsiam/internal/provision"
	"opsiam/internal/store"
	"opsiam/internal/testenv"
)

// mailFixture is the pages plus the mail target sending through Mailpit.
type mailFixture struct {
	*server
	target *mail.Target
	api    string
}

func newMailFixture(t *testing.T) *mailFixture {
	t.Helper()
	addr, api := testenv.Mailpit(t)
	s := newServer(t, nil)
	ts, err := mail.LoadTemplates()
	if err != nil {
		t.Fatal(err)
	}
	tg := &mail.Target{Users: s.db, Links: s.auth, Templates: ts, BaseURL: s.URL,
		Mailer: &mail.SMTP{Addr: addr, From: "opsiam <noreply@example.test>"}}
	return &mailFixture{server: s, target: tg, api: api}
}

// uniqueUser creates a user whose mail address no other test uses, as
// tests of several packages share one Mailpit.
func (f *mailFixture) uniqueUser(t *testing.T, prefix string) directory.User {
	t.Helper()
	name := fmt.Sprintf("%s%d", prefix, time.Now().UnixNano())
	u, err := f.db.CreateUser(context.Background(), directory.User{Username: name, Email: name + "@mail.example.test",
		FirstName: "花子", LastName: "佐藤", Enabled: true, Timezone: "Asia/Tokyo"})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// send enqueues a mail event in a transaction, as the user use cases do,
// and hands it to the target as the outbox worker would.
func (f *mailFixture) send(t *testing.T, topic string, payload string) {
	t.Helper()
	ctx := context.Background()
	var ev store.Event
	err := f.db.InTx(ctx, func(tx store.Tx) error {
		var err error
		ev, err = tx.Enqueue(ctx, store.Event{Topic: topic, Aggregate: "user:x", Payload: []byte(payload)})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.target.Deliver(ctx, ev); err != nil {
		t.Fatal(err)
	}
}

var linkRE = regexp.MustCompile(`http://\S+\?token=[A-Za-z0-9_%-]+`)

// link reads the newest mail to addr from Mailpit and returns its link as
// a path with query.
func (f *mailFixture) link(t *testing.T, to string, n int) string {
	t.Helper()
	msgs := testenv.MailpitWait(t, f.api, to, n)
	m := linkRE.FindString(msgs[0].Text)
	if m == "" {
		t.Fatalf("no link in the mail:\n%s", msgs[0].Text)
	}
	u, _ := url.Parse(m)
	return u.RequestURI()
}

// TestSetupLinkSetsPassword is acceptance 1 (setup): the link in a new
// user's mail sets a password, and the user can then sign in.
func TestSetupLinkSetsPassword(t *testing.T) {
	f := newMailFixture(t)
	u := f.uniqueUser(t, "setup")
	f.send(t, provision.TopicMailPasswordSetup, fmt.Sprintf(`{"user_id":%q}`, u.ID))
	path := f.link(t, u.Email, 1)
	if !strings.HasPrefix(path, "/password/setup?token=") {
		t.Fatalf("link %s", path)
	}
	b := newBrowser(t, f.URL)
	_, body := b.get(path)
	mustContain(t, body, `id="link-username">`+u.Username+`<`)
	token, _ := url.ParseQuery(strings.SplitN(path, "?", 2)[1])
	code, body := b.post("/password/setup", url.Values{"token": token["token"], "password": {"amber-meadow-31"}, "confirm": {"amber-meadow-31"}})
	if code != 200 {
		t.Fatalf("set password = %d:\n%s", code, body)
	}
	mustContain(t, body, "Your password is set.")
	_, body = b.signIn(u.Email, "amber-meadow-31")
	mustContain(t, body, `id="account-username">`+u.Username+`<`)
}

// TestResetLinkWorksOnce is acceptance 1 (reset): the old password works
// until the new one is set; the link works once and only once.
func TestResetLinkWorksOnce(t *testing.T) {
	f := newMailFixture(t)
	u := f.uniqueUser(t, "reset")
	hash, _ := f.auth.Hasher.Hash(pw)
	f.db.SetPasswordHash(context.Background(), u.ID, hash)
	f.send(t, provision.TopicMailPasswordReset, fmt.Sprintf(`{"user_id":%q}`, u.ID))
	path := f.link(t, u.Email, 1)
	b := newBrowser(t, f.URL)
	if _, body := b.signIn(u.Username, pw); !strings.Contains(body, `id="account-username"`) {
		t.Fatal("the old password stopped working before a new one was set")
	}
	b = newBrowser(t, f.URL)
	token := strings.SplitN(path, "token=", 2)[1]
	tok, _ := url.QueryUnescape(token)
	b.get(path)
	code, _ := b.post("/password/reset", url.Values{"token": {tok}, "password": {"amber-meadow-31"}, "confirm": {"amber-meadow-31"}})
	if code != 200 {
		t.Fatalf("first use = %d", code)
	}
	code, body := b.post("/password/reset", url.Values{"token": {tok}, "password": {"amber-meadow-99"}, "confirm": {"amber-meadow-99"}})
	if code != http.StatusNotFound {
		t.Fatalf("second use = %d", code)
	}
	mustContain(t, body, "invalid, was used already, or has expired")
	if code, _ := b.get(path); code != http.StatusNotFound {
		t.Fatalf("GET of a used link = %d", code)
	}
	if code, _ := newBrowser(t, f.URL).signIn(u.Username, pw); code != http.StatusUnauthorized {
		t.Fatal("the old password still works after the reset")
	}
	if _, body := newBrowser(t, f.URL).signIn(u.Username, "amber-meadow-31"); !strings.Contains(body, `id="account-username"`) {
		t.Fatal("the new password does not work")
	}
}

// TestVerificationLinkSetsVerified is acceptance 1 (U9).
func TestVerificationLinkSetsVerified(t *testing.T) {
	f := newMailFixture(t)
	u := f.uniqueUser(t, "verify")
	f.send(t, provision.TopicMailVerifyEmail, fmt.Sprintf(`{"user_id":%q,"email":%q}`, u.ID, u.Email))
	path := f.link(t, u.Email, 1)
	if !strings.HasPrefix(path, "/email/verify?token=") {
		t.Fatalf("link %s", path)
	}
	b := newBrowser(t, f.URL)
	_, body := b.get(path)
	mustContain(t, body, `id="verify-submit"`)
	// Fetching the link alone verifies nothing (mail scanners do that).
	if got, _ := f.db.GetUser(context.Background(), directory.Scope{}, u.ID); got.EmailVerified {
		t.Fatal("verified by a GET")
	}
	tok, _ := url.QueryUnescape(strings.SplitN(path, "token=", 2)[1])
	code, body := b.post("/email/verify", url.Values{"token": {tok}})
	if code != 200 {
		t.Fatalf("verify = %d", code)
	}
	mustContain(t, body, "Your mail address is confirmed.")
	if got, _ := f.db.GetUser(context.Background(), directory.Scope{}, u.ID); !got.EmailVerified {
		t.Fatal("mail verified not set")
	}
	if code, _ := b.post("/email/verify", url.Values{"token": {tok}}); code != http.StatusNotFound {
		t.Fatalf("second use = %d", code)
	}
}

func TestDevMailPage(t *testing.T) {
	s := newServer(t, nil)
	s.box.Send(context.Background(), mail.Message{To: "z@example.test", Subject: "Hello <b>",
		Text: "line <i>\nhttp://id.example.test/password/setup?token=a_b-c\njavascript:alert(1)"})
	_, body := newBrowser(t, s.URL).get("/dev/mail")
	mustContain(t, body, "z@example.test", "Hello &lt;b&gt;", "line &lt;i&gt;",
		`<a href="http://id.example.test/password/setup?token=a_b-c">`)
	if strings.Contains(body, `href="javascript`) {
		t.Fatal("a javascript: URL became a link")
	}
}
