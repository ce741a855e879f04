package webhook

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"opsiam/internal/directory"
	"opsiam/internal/provision"
	"opsiam/internal/store"
)

// Service manages webhook endpoints for /api/v1/webhooks and the console
// (P3). Every change is written with its audit record in one transaction;
// secrets never appear in audit records or in reads.
type Service struct {
	Store store.Store
	Now   func() time.Time
	// Secrets seals secrets at rest (seal.go); the server always sets it.
	Secrets *Sealer
}

// Input is what an administrator sets on an endpoint.
type Input struct {
	URL         string
	Description string
	EventTypes  []string
	Enabled     bool
}

// topicPattern is a topic ("group.member_added"), a prefix pattern
// ("group.*") or "*".
var topicPattern = regexp.MustCompile(`^(\*|[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*(\.\*)?)$`)

// Validate names every bad field at once (O2).
func (in Input) Validate() error {
	var fe directory.FieldErrors
	u, err := url.Parse(in.URL)
	switch {
	case strings.TrimSpace(in.URL) == "":
		fe = append(fe, directory.FieldError{Field: "url", Code: directory.CodeRequired, Message: "url: required"})
	case len(in.URL) > 2048:
		fe = append(fe, directory.FieldError{Field: "url", Code: directory.CodeTooLong, Message: "url: at most 2,048 characters"})
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.Fragment != "":
		fe = append(fe, directory.FieldError{Field: "url", Code: directory.CodeInvalid,
			Message: "url: want an absolute http:// or https:// URL without user info or fragment"})
	}
	if utf8.RuneCountInString(in.Description) > 255 {
		fe = append(fe, directory.FieldError{Field: "description", Code: directory.CodeTooLong, Message: "description: at most 255 characters"})
	} else if !utf8.ValidString(in.Description) || strings.IndexFunc(in.Description, func(r rune) bool { return !unicode.IsGraphic(r) }) >= 0 {
		// The text rule of every other text field (SPEC §8): printable characters only.
		fe = append(fe, directory.FieldError{Field: "description", Code: directory.CodeInvalid,
			Message: "description: only printable characters, no control characters"})
	}
	if len(in.EventTypes) == 0 {
		fe = append(fe, directory.FieldError{Field: "event_types", Code: directory.CodeRequired,
			Message: `event_types: name at least one event type, or "*" for all`})
	}
	if len(in.EventTypes) > 100 {
		fe = append(fe, directory.FieldError{Field: "event_types", Code: directory.CodeTooLong, Message: "event_types: at most 100"})
	}
	for _, t := range in.EventTypes {
		if len(t) > 128 || !topicPattern.MatchString(t) {
			fe = append(fe, directory.FieldError{Field: "event_types", Code: directory.CodeInvalid,
				Message: fmt.Sprintf(`event_types: %q is not an event type such as "user.created", "group.*" or "*"`, t)})
			break
		}
	}
	return fe.Err()
}

// Redact returns w without its secret, for reads.
func Redact(w store.WebhookEndpoint) store.WebhookEndpoint {
	w.Secret = ""
	return w
}

// Create stores a new endpoint with a new secret and returns the endpoint
// with the secret, to be shown once.
func (s *Service) Create(ctx context.Context, a provision.Actor, in Input) (store.WebhookEndpoint, error) {
	if err := in.Validate(); err != nil {
		return store.WebhookEndpoint{}, err
	}
	var out store.WebhookEndpoint
	err := s.Store.InTx(ctx, func(tx store.Tx) error {
		// The sealed secret is bound to the endpoint id, which the store
		// gives: insert, then store the sealed secret, in one transaction.
		created, err := tx.CreateWebhook(ctx, store.WebhookEndpoint{URL: in.URL, Description: in.Description,
			EventTypes: in.EventTypes, Enabled: in.Enabled})
		if err != nil {
			return err
		}
		secret := NewSecret()
		if created.Secret, err = s.Secrets.Seal(created.ID, secret); err != nil {
			return err
		}
		if out, err = tx.UpdateWebhook(ctx, created); err != nil {
			return err
		}
		out.Secret = secret
		return s.audit(ctx, tx, a, store.ActionWebhookCreate, out.ID, nil, &out)
	})
	return out, err
}

// Get returns an endpoint without its secret.
func (s *Service) Get(ctx context.Context, id string) (store.WebhookEndpoint, error) {
	w, err := s.Store.GetWebhook(ctx, id)
	return Redact(w), err
}

// List returns every endpoint without secrets.
func (s *Service) List(ctx context.Context) ([]store.WebhookEndpoint, error) {
	ws, err := s.Store.ListWebhooks(ctx)
	for i := range ws {
		ws[i] = Redact(ws[i])
	}
	return ws, err
}

// Update changes url, description, event types and enabled; the secret stays.
func (s *Service) Update(ctx context.Context, a provision.Actor, id string, in Input) (store.WebhookEndpoint, error) {
	if err := in.Validate(); err != nil {
		return store.WebhookEndpoint{}, err
	}
	var out store.WebhookEndpoint
	err := s.Store.InTx(ctx, func(tx store.Tx) error {
		before, err := tx.GetWebhook(ctx, id)
		if err != nil {
			return err
		}
		w := before
		w.URL, w.Description, w.EventTypes, w.Enabled = in.URL, in.Description, in.EventTypes, in.Enabled
		// A secret still in clear (earlier versions) is sealed now.
		if w.Secret, err = s.reseal(id, before.Secret); err != nil {
			return err
		}
		if out, err = tx.UpdateWebhook(ctx, w); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, store.ActionWebhookUpdate, id, &before, &out)
	})
	return Redact(out), err
}

// RotateSecret gives the endpoint a new secret and returns it, shown once.
// Deliveries signed from then on use the new secret.
func (s *Service) RotateSecret(ctx context.Context, a provision.Actor, id string) (string, error) {
	secret := NewSecret()
	err := s.Store.InTx(ctx, func(tx store.Tx) error {
		w, err := tx.GetWebhook(ctx, id)
		if err != nil {
			return err
		}
		if w.Secret, err = s.Secrets.Seal(id, secret); err != nil {
			return err
		}
		if _, err := tx.UpdateWebhook(ctx, w); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, store.ActionWebhookRotateSecret, id, nil, nil)
	})
	if err != nil {
		return "", err
	}
	return secret, nil
}

// Delete removes an endpoint. Its deliveries still pending are no longer
// served by any worker; they die after their attempts and can be
// discarded (docs/architecture.md).
func (s *Service) Delete(ctx context.Context, a provision.Actor, id string) error {
	return s.Store.InTx(ctx, func(tx store.Tx) error {
		before, err := tx.GetWebhook(ctx, id)
		if err != nil {
			return err
		}
		if err := tx.DeleteWebhook(ctx, id); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, store.ActionWebhookDelete, id, &before, nil)
	})
}

// reseal returns the stored secret sealed: a legacy clear one is sealed,
// a sealed one is kept (it must open with this key).
func (s *Service) reseal(id, stored string) (string, error) {
	if s.Secrets == nil || IsSealed(stored) {
		if _, err := s.Secrets.Open(id, stored); err != nil {
			return "", err
		}
		return stored, nil
	}
	return s.Secrets.Seal(id, stored)
}

func (s *Service) audit(ctx context.Context, tx store.Tx, a provision.Actor, action, id string, before, after *store.WebhookEndpoint) error {
	view := func(w *store.WebhookEndpoint) json.RawMessage {
		if w == nil {
			return nil
		}
		b, _ := json.Marshal(map[string]any{"id": w.ID, "url": w.URL, "description": w.Description,
			"event_types": w.EventTypes, "enabled": w.Enabled})
		return b
	}
	return tx.AppendAudit(ctx, store.AuditRecord{At: s.Now(), ActorID: a.ID, ActorName: a.Name, Source: a.Source,
		Action: action, TargetType: "webhook", TargetID: id, Before: view(before), After: view(after)})
}
