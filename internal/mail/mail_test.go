package mail_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"opsiam/internal/auth"
	"opsiam/internal/directory"
	"opsiam/internal/mail"
	"opsiam/internal/provision"
	"opsiam/internal/store"
	"opsiam/internal/store/sqlstore"
	"opsiam/internal/testenv"
)

func unique(prefix string) string {
	return fmt.Sprintf("%s-%d@example.test", prefix, time.Now().UnixNano())
}

func TestSMTPToMailpit(t *testing.T) {
	addr, api := testenv.Mailpit(t)
	to := unique("smtp")
	for _, s := range []*mail.SMTP{
		{Addr: addr, From: "opsiam <noreply@example.test>"},
		{Addr: addr, From: "noreply@example.test", Username: "opsiam", Password: "secret"},
	} {
		if err := s.Send(context.Background(), mail.Message{To: to, Subject: "テスト / test", Text: "本文 body\n"}); err != nil {
			t.Fatalf("Send (user %q): %v", s.Username, err)
		}
	}
	msgs := testenv.MailpitWait(t, api, to, 2)
	if msgs[0].Subject != "テスト / test" || !strings.Contains(msgs[0].Text, "本文 body") {
		t.Fatalf("mail read back: %+v", msgs[0])
	}
}

func TestSMTPRefusesBadInput(t *testing.T) {
	s := &mail.SMTP{Addr: "nowhere", From: "x@example.test"}
	if err := s.Send(context.Background(), mail.Message{To: "a@example.test"}); err == nil || !strings.Contains(err.Error(), "smtp-addr") {
		t.Fatalf("bad address: %v", err)
	}
	s = &mail.SMTP{Addr: "127.0.0.1:1", From: "not an address"}
	if err := s.Send(context.Background(), mail.Message{To: "a@example.test"}); err == nil || !strings.Contains(err.Error(), "smtp-from") {
		t.Fatalf("bad from: %v", err)
	}
}

func TestDevMailboxKeepsLatest(t *testing.T) {
	d := &mail.DevMailbox{Max: 2}
	for i := range 3 {
		d.Send(context.Background(), mail.Message{To: fmt.Sprint(i)})
	}
	got := d.List()
	if len(got) != 2 || got[0].To != "2" || got[1].To != "1" {
		t.Fatalf("List = %+v", got)
	}
}

func TestTemplatesRender(t *testing.T) {
	ts, err := mail.LoadTemplates()
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{mail.KindPasswordSetup, mail.KindPasswordReset, mail.KindVerifyEmail} {
		subj, body, err := ts.Render(kind, mail.Data{Name: "山田 太郎", Username: "taro", Email: "t@example.test",
			Link: "https://id.example.test/x?token=abc", Expires: "2026-01-01 09:00 JST"})
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"山田 太郎", "taro", "https://id.example.test/x?token=abc", "2026-01-01 09:00 JST", "Hello"} {
			if !strings.Contains(body, want) {
				t.Errorf("%s: body lacks %q", kind, want)
			}
		}
		if !strings.Contains(subj, "/") || strings.Contains(subj, "\n") {
			t.Errorf("%s: subject %q", kind, subj)
		}
	}
}

// targetFixture builds the mail target on a real SQLite store.
func targetFixture(t *testing.T, mailer mail.Mailer) (*mail.Target, *sqlstore.DB) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	svc, err := auth.New(db, auth.Hasher{Params: auth.Params{Time: 1, MemoryKiB: 64, Threads: 1, KeyLen: 32, SaltLen: 16}}, auth.DefaultPolicy(), nil)
	if err != nil {
		t.Fatal(err)
	}
	ts, err := mail.LoadTemplates()
	if err != nil {
		t.Fatal(err)
	}
	return &mail.Target{Users: db, Links: svc, Mailer: mailer, Templates: ts, BaseURL: "https://id.example.test/"}, db
}

func event(t *testing.T, db *sqlstore.DB, topic string, payload any) store.Event {
	t.Helper()
	b, _ := json.Marshal(payload)
	e, err := db.Enqueue(context.Background(), store.Event{Topic: topic, Aggregate: "user:x", Payload: b})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestTargetDeliver(t *testing.T) {
	ctx := context.Background()
	box := &mail.DevMailbox{}
	tg, db := targetFixture(t, box)
	if tg.Name() != "mail" || !tg.Handles(provision.TopicMailPasswordReset) || tg.Handles(provision.TopicUserCreated) {
		t.Fatal("Name/Handles")
	}
	on, _ := db.CreateUser(ctx, directory.User{Username: "on", Email: "on@example.test", FirstName: "A", LastName: "B", Enabled: true, Timezone: "Asia/Tokyo"})
	off, _ := db.CreateUser(ctx, directory.User{Username: "off", Email: "off@example.test", FirstName: "A", LastName: "B", Enabled: false, Timezone: "UTC"})

	e := event(t, db, provision.TopicMailPasswordSetup, map[string]string{"user_id": string(on.ID)})
	if err := tg.Deliver(ctx, e); err != nil {
		t.Fatal(err)
	}
	// A redelivery sends again, and only the newest link works.
	if err := tg.Deliver(ctx, e); err != nil {
		t.Fatal(err)
	}
	got := box.List()
	if len(got) != 2 || got[0].To != "on@example.test" || !strings.Contains(got[0].Text, "https://id.example.test/password/setup?token=") ||
		!strings.Contains(got[0].Text, "JST") {
		t.Fatalf("mails: %+v", got)
	}
	links := 0
	for _, m := range got {
		tok := m.Text[strings.Index(m.Text, "token=")+6:]
		tok = tok[:strings.IndexAny(tok, "\n ")]
		if _, err := db.GetMailLink(ctx, auth.HashToken(tok), store.LinkPasswordSetup, time.Now()); err == nil {
			links++
		}
	}
	if links != 1 {
		t.Fatalf("%d working links after a redelivery, want 1", links)
	}

	for _, tc := range []struct {
		name    string
		topic   string
		payload any
	}{
		{"setup for a disabled user", provision.TopicMailPasswordSetup, map[string]string{"user_id": string(off.ID)}},
		{"reset for a disabled user", provision.TopicMailPasswordReset, map[string]string{"user_id": string(off.ID)}},
		{"deleted user", provision.TopicMailPasswordReset, map[string]string{"user_id": "gone"}},
		{"address changed since", provision.TopicMailVerifyEmail, map[string]string{"user_id": string(on.ID), "email": "old@example.test"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(box.List())
			if err := tg.Deliver(ctx, event(t, db, tc.topic, tc.payload)); err != nil {
				t.Fatal(err)
			}
			if len(box.List()) != before {
				t.Fatal("a mail was sent")
			}
		})
	}
	if err := tg.Deliver(ctx, event(t, db, provision.TopicMailPasswordReset, "not an object")); !errors.Is(err, provision.ErrPermanent) {
		t.Fatalf("bad payload: %v", err)
	}
}

func TestTargetSMTPFailureIsRetried(t *testing.T) {
	tg, db := targetFixture(t, &mail.SMTP{Addr: "127.0.0.1:1", From: "x@example.test", Timeout: time.Second})
	ctx := context.Background()
	u, _ := db.CreateUser(ctx, directory.User{Username: "u", Email: "u@example.test", FirstName: "A", LastName: "B", Enabled: true, Timezone: "UTC"})
	err := tg.Deliver(ctx, event(t, db, provision.TopicMailPasswordReset, map[string]string{"user_id": string(u.ID)}))
	if err == nil || errors.Is(err, provision.ErrPermanent) {
		t.Fatalf("unreachable server: %v, want a retryable error", err)
	}
}
