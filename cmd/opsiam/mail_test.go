package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"opsiam/internal/directory"
	"opsiam/internal/provision"
	"opsiam/internal/store"
	"opsiam/internal/store/sqlstore"
	"opsiam/internal/testenv"
)

var mailLinkRE = regexp.MustCompile(`http://\S+/password/setup\?token=[A-Za-z0-9_%-]+`)

// TestServeSendsSetupMail is acceptance 1 of issue 4 through the whole
// server: a user created with its mail.password_setup event (as the user
// use case does) is mailed by `opsiam serve`'s outbox worker through SMTP
// (Mailpit); the link in the mail sets the password on that server, and
// the user signs in with it.
func TestServeSendsSetupMail(t *testing.T) {
	smtpAddr, api := testenv.Mailpit(t)
	dsn := testenv.PostgresSchema(t)
	base, _ := startServer(t, nil, "--database", dsn, "--smtp-addr", smtpAddr, "--smtp-from", "opsiam <noreply@example.test>",
		"--outbox-poll", "100ms")

	ctx := context.Background()
	db, err := sqlstore.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	name := fmt.Sprintf("serve%d", time.Now().UnixNano())
	email := name + "@mail.example.test"
	err = db.InTx(ctx, func(tx store.Tx) error {
		u, err := tx.CreateUser(ctx, directory.User{Username: name, Email: email, FirstName: "Aoi", LastName: "Ito",
			Enabled: true, Timezone: "Asia/Tokyo"})
		if err != nil {
			return err
		}
		_, err = tx.Enqueue(ctx, store.Event{Topic: provision.TopicMailPasswordSetup, Aggregate: "user:" + string(u.ID),
			Payload: []byte(fmt.Sprintf(`{"user_id":%q}`, u.ID))})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}

	msgs := testenv.MailpitWait(t, api, email, 1)
	link := mailLinkRE.FindString(msgs[0].Text)
	if link == "" || !strings.HasPrefix(link, base+"/") {
		t.Fatalf("mail link %q does not point at the server %s:\n%s", link, base, msgs[0].Text)
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	resp, err := c.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET link = %d", resp.StatusCode)
	}
	u, _ := url.Parse(base)
	var csrf string
	for _, ck := range jar.Cookies(u) {
		if ck.Name == "opsiam_csrf" {
			csrf = ck.Value
		}
	}
	token, _ := url.Parse(link)
	resp, err = c.PostForm(base+"/password/setup", url.Values{"csrf": {csrf}, "token": {token.Query().Get("token")},
		"password": {"harbor-quince-64"}, "confirm": {"harbor-quince-64"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("set password = %d", resp.StatusCode)
	}
	if code, body := signInOnce(t, base, email, "harbor-quince-64"); code != 200 || !strings.Contains(body, `id="account-username">`+name+`<`) {
		t.Fatalf("sign-in with the new password = %d", code)
	}
}
