package mail

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"opsiam/internal/directory"
	"opsiam/internal/i18n"
	"opsiam/internal/provision"
	"opsiam/internal/store"
)

// LinkIssuer makes single-use link tokens (auth.Service does).
type LinkIssuer interface {
	IssueLink(ctx context.Context, purpose string, u directory.UserID, email, eventID string) (string, time.Time, error)
}

// Target delivers the mail.* outbox events (A4, U9): at delivery time it
// makes a fresh link (only its hash is stored), renders the mail and sends
// it. A redelivered event replaces the link of its first delivery, so at
// most one link per event works.
type Target struct {
	Users     store.Users
	Links     LinkIssuer
	Mailer    Mailer
	Templates Templates
	BaseURL   string // the issuer, e.g. https://id.example.com
}

var _ provision.Target = (*Target)(nil)

// Name implements provision.Target.
func (t *Target) Name() string { return "mail" }

// Handles implements provision.Target.
func (t *Target) Handles(topic string) bool {
	switch topic {
	case provision.TopicMailPasswordSetup, provision.TopicMailPasswordReset, provision.TopicMailVerifyEmail:
		return true
	}
	return false
}

type mailPayload struct {
	UserID directory.UserID `json:"user_id"`
	Email  string           `json:"email"`
}

// Deliver implements provision.Target. Nothing is sent, without error, when
// the mail no longer applies: the user is gone, a setup or reset is for a
// disabled user (U7, A4), or the address to verify is no longer the user's.
func (t *Target) Deliver(ctx context.Context, e store.Event) error {
	var p mailPayload
	if err := json.Unmarshal(e.Payload, &p); err != nil || p.UserID == "" {
		return fmt.Errorf("%w: event %s: payload needs user_id", provision.ErrPermanent, e.ID)
	}
	u, err := t.Users.GetUser(ctx, directory.Scope{}, p.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	var kind, path string
	to := u.Email
	switch e.Topic {
	case provision.TopicMailPasswordSetup:
		kind, path = KindPasswordSetup, "/password/setup"
	case provision.TopicMailPasswordReset:
		kind, path = KindPasswordReset, "/password/reset"
	case provision.TopicMailVerifyEmail:
		kind, path = KindVerifyEmail, "/email/verify"
		if p.Email == "" || directory.Key(p.Email) != directory.Key(u.Email) {
			return nil
		}
		to = p.Email
	default:
		return fmt.Errorf("%w: mail target got topic %q", provision.ErrPermanent, e.Topic)
	}
	if kind != KindVerifyEmail && !u.Enabled {
		return nil
	}
	token, expires, err := t.Links.IssueLink(ctx, kind, u.ID, to, e.ID)
	if err != nil {
		return err
	}
	link := strings.TrimRight(t.BaseURL, "/") + path + "?token=" + url.QueryEscape(token)
	subject, body, err := t.Templates.Render(kind, Data{Name: i18n.PersonName(i18n.English, u.FirstName, u.LastName),
		NameJA: i18n.PersonName(i18n.Japanese, u.FirstName, u.LastName), Username: u.Username,
		Email: to, Link: link, Expires: FormatExpiry(expires, u.Timezone)})
	if err != nil {
		return fmt.Errorf("%w: %v", provision.ErrPermanent, err)
	}
	return t.Mailer.Send(ctx, Message{To: to, Subject: subject, Text: body})
}
