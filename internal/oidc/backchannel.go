package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"opsiam/internal/provision"
	"opsiam/internal/store"
)

// BackchannelLogoutEvent is the event member of a logout token
// (OpenID Connect Back-Channel Logout 1.0 §2.4).
const BackchannelLogoutEvent = "http://schemas.openid.net/event/backchannel-logout"

// Backchannel is the provision.Target that delivers back-channel logout
// tokens: it POSTs logout_token, form-encoded, to the client's
// backchannel_logout_uri. A non-2xx answer or a network error is retried by
// the worker; the token's jti is the event id, so a client can drop a
// repeat.
type Backchannel struct {
	Issuer  string
	Keys    *Keys
	Clients store.OIDCClients
	HTTP    *http.Client
	Now     func() time.Time
}

var _ provision.Target = (*Backchannel)(nil)

// Name implements provision.Target.
func (b *Backchannel) Name() string { return "oidc-backchannel-logout" }

// Handles implements provision.Target.
func (b *Backchannel) Handles(topic string) bool {
	return topic == provision.TopicOIDCBackchannelLogout
}

// Deliver implements provision.Target.
func (b *Backchannel) Deliver(ctx context.Context, e store.Event) error {
	var p BackchannelPayload
	if err := json.Unmarshal(e.Payload, &p); err != nil {
		return fmt.Errorf("%w: bad payload: %v", provision.ErrPermanent, err)
	}
	c, err := b.Clients.GetOIDCClient(ctx, p.ClientID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && c.BackchannelLogoutURI == "") {
		return nil // the client is gone or no longer wants logout tokens
	}
	if err != nil {
		return err
	}
	token, err := b.LogoutToken(ctx, e.ID, p)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.BackchannelLogoutURI,
		strings.NewReader(url.Values{"logout_token": {token}}.Encode()))
	if err != nil {
		return fmt.Errorf("%w: %v", provision.ErrPermanent, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	hc := b.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("back-channel logout to %s: status %d", c.ID, resp.StatusCode)
	}
	return nil
}

// LogoutToken signs a logout token (§2.4): iss, aud, iat, exp, jti, sub,
// sid and the events claim, with typ logout+jwt, and never a nonce.
func (b *Backchannel) LogoutToken(ctx context.Context, jti string, p BackchannelPayload) (string, error) {
	key, err := b.Keys.SigningKey(ctx)
	if err != nil {
		return "", err
	}
	now := time.Now
	if b.Now != nil {
		now = b.Now
	}
	t := now().UTC()
	claims := map[string]any{
		"iss":    b.Issuer,
		"aud":    p.ClientID,
		"iat":    t.Unix(),
		"exp":    t.Add(2 * time.Minute).Unix(),
		"jti":    jti,
		"events": map[string]any{BackchannelLogoutEvent: map[string]any{}},
	}
	if p.UserID != "" {
		claims["sub"] = p.UserID
	}
	if p.SessionID != "" {
		claims["sid"] = p.SessionID
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: key.SignatureAlgorithm(),
		Key: &jose.JSONWebKey{Key: key.Key(), KeyID: key.ID()}},
		(&jose.SignerOptions{}).WithType("logout+jwt"))
	if err != nil {
		return "", err
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", err
	}
	return jws.CompactSerialize()
}
