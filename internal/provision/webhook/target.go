package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"opsiam/internal/provision"
	"opsiam/internal/store"
)

// Message is the JSON body of every webhook, in the Standard Webhooks
// shape: the event type, when the event happened, and its payload.
type Message struct {
	Type      string          `json:"type"`
	Timestamp time.Time       `json:"timestamp"`
	Data      json.RawMessage `json:"data"`
}

// Endpoint is the target of one webhook endpoint; its name in delivery
// records is "webhook:" + the endpoint's id, so each endpoint keeps its own
// order, retries and dead deliveries.
type Endpoint struct {
	E       store.WebhookEndpoint // Secret as stored (sealed, or clear from earlier versions)
	Secrets *Sealer               // opens E.Secret
	Client  *http.Client
	Now     func() time.Time
}

var _ provision.Target = (*Endpoint)(nil)

// TargetName is the delivery target name of the endpoint with this id.
func TargetName(id string) string { return "webhook:" + id }

// Name is "webhook:" + the endpoint id.
func (t *Endpoint) Name() string { return TargetName(t.E.ID) }

// Handles reports whether the endpoint asked for topic (see Matches).
func (t *Endpoint) Handles(topic string) bool { return Matches(t.E.EventTypes, topic) }

// Matches reports whether one of the event types selects topic: "*" selects
// every topic, "group.*" every topic starting "group.", anything else only
// itself.
func Matches(types []string, topic string) bool {
	for _, p := range types {
		switch {
		case p == "*", p == topic:
			return true
		case strings.HasSuffix(p, ".*") && strings.HasPrefix(topic, strings.TrimSuffix(p, "*")):
			return true
		}
	}
	return false
}

// Deliver POSTs the signed event. webhook-id is the event's id, the same
// on every retry, so receivers can drop a repeat; the timestamp and
// signature are fresh on each attempt. Any 2xx is success; 410 Gone means
// the receiver wants no more (permanent); anything else is retried.
func (t *Endpoint) Deliver(ctx context.Context, e store.Event) error {
	body, err := json.Marshal(Message{Type: e.Topic, Timestamp: e.CreatedAt.UTC(), Data: e.Payload})
	if err != nil {
		return fmt.Errorf("webhook: %v: %w", err, provision.ErrPermanent)
	}
	now := time.Now
	if t.Now != nil {
		now = t.Now
	}
	ts := now()
	secret, err := t.Secrets.Open(t.E.ID, t.E.Secret)
	if err != nil {
		// A key problem of this server (say a replica with another
		// --key-encryption-key): retried, so the deliveries wait for a fix.
		return fmt.Errorf("webhook %s: %w", t.E.ID, err)
	}
	sig, err := Sign(secret, e.ID, ts, body)
	if err != nil {
		return fmt.Errorf("webhook %s: %v: %w", t.E.ID, err, provision.ErrPermanent)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.E.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("webhook %s: %v: %w", t.E.ID, err, provision.ErrPermanent)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "opsiam-webhook/1")
	req.Header.Set(HeaderID, e.ID)
	req.Header.Set(HeaderTimestamp, fmt.Sprint(ts.Unix()))
	req.Header.Set(HeaderSignature, sig)
	c := t.Client
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("webhook %s: %w", t.E.ID, err)
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)) // let the connection be reused
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return nil
	case resp.StatusCode == http.StatusGone:
		return fmt.Errorf("webhook %s: 410 Gone: %w", t.E.ID, provision.ErrPermanent)
	}
	return fmt.Errorf("webhook %s: %s: %s", t.E.ID, resp.Status, strings.TrimSpace(string(snippet)))
}

// Source lists the enabled webhook endpoints as targets, read from the
// database on every call, so every replica serves the same endpoints.
type Source struct {
	Store   store.Webhooks
	Secrets *Sealer      // opens the stored secrets; the server always sets it
	Client  *http.Client // shared by all endpoints
	Now     func() time.Time
}

// NewSource builds a Source with a client from NewClient.
func NewSource(s store.Webhooks) *Source {
	return &Source{Store: s, Client: NewClient(), Now: time.Now}
}

var _ provision.TargetSource = (*Source)(nil)

// NewClient is an HTTP client for webhooks: keeps connections to
// receivers open for reuse and follows no redirects (a redirect would be
// sent unsigned for a new URL).
func NewClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	return &http.Client{
		Transport:     tr,
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Targets returns one target per enabled endpoint.
func (s *Source) Targets(ctx context.Context) ([]provision.Target, error) {
	ws, err := s.Store.ListWebhooks(ctx)
	if err != nil {
		return nil, err
	}
	var out []provision.Target
	for _, w := range ws {
		if w.Enabled {
			out = append(out, &Endpoint{E: w, Secrets: s.Secrets, Client: s.Client, Now: s.Now})
		}
	}
	return out, nil
}
