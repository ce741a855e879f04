package oidc

import (
	"context"

	"net/http"
	"opsiam/internal/store"
	"time"
)

// PlatformSessions is the provider's view of the platform's sign-in
// sessions, named by their sid (SID of the session key): a refresh token
// bound to a session stops with it (issue 12, defect 8), and a logout that
// names a session only through its id_token_hint, without the browser's
// cookie (an application's backend logout), ends it (defect 4).
type PlatformSessions interface {
	// Live reports whether user's session sid is still signed in; a
	// refresh counts as use of it.
	Live(ctx context.Context, user, sid string) (bool, error)
	// End ends user's session sid; no error when it has ended already.
	End(ctx context.Context, user, sid, source string) error
}

// SessionInfo is what the provider records of the platform session that
// completes an authorization request.
type SessionInfo struct {
	AuthTime time.Time // when it signed in (auth_time)
	End      time.Time // its absolute end (--session-max)
	AMR      []string  // how it signed in (RFC 8176)
}

// sessionInfo reads the session of r through Config.SessionInfo, or
// Config.AuthTime alone.
func (p *Provider) sessionInfo(r *http.Request) SessionInfo {
	if p.cfg.SessionInfo != nil {
		return p.cfg.SessionInfo(r)
	}
	var in SessionInfo
	if p.cfg.AuthTime != nil {
		in.AuthTime = p.cfg.AuthTime(r)
	}
	return in
}

// AMROf returns the amr values (RFC 8176) of a session by its sign-in
// method (store.Method*): a passkey is a hardware key and a user check
// (multi-factor); the customer's identity provider is a federated
// sign-in; a password is "pwd", with "otp" and "mfa" when a one-time code
// was entered (mfa).
func AMROf(mfa bool, method string) []string {
	switch {
	case method == store.MethodPasskey:
		return []string{AMRHardwareKey, AMRUser, AMRMFA}
	case method == store.MethodUpstream:
		return []string{AMRFederated}
	case mfa:
		return []string{AMRPassword, AMROTP, AMRMFA}
	}
	return []string{AMRPassword}
}
