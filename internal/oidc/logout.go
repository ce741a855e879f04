package oidc

import (
	"context"
	"encoding/json"
	"net"
	"net/http"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"opsiam/internal/directory"
	"opsiam/internal/provision"
	"opsiam/internal/store"
)

// BackchannelPayload is the payload of a TopicOIDCBackchannelLogout event.
type BackchannelPayload struct {
	ClientID  string `json:"client_id"`
	UserID    string `json:"user_id"`
	SessionID string `json:"session_id"`
}

// endSession is RP-initiated logout (OpenID Connect RP-Initiated Logout
// 1.0): the request is validated by the library (id_token_hint,
// post_logout_redirect_uri registered for the client), then the platform
// session ends, every client the browser session signed in to gets a
// back-channel logout token through the outbox, and the browser goes to
// the post-logout URI.
func (p *Provider) endSession(w http.ResponseWriter, r *http.Request) {
	req, err := op.ParseEndSessionRequest(r, p.op.Decoder())
	if err != nil {
		op.RequestError(w, r, err, nil)
		return
	}
	session, err := op.ValidateEndSessionRequest(r.Context(), req, p.op)
	if err != nil {
		op.RequestError(w, r, err, nil)
		return
	}
	var hinted, hintedUser string
	if session.IDTokenHintClaims != nil {
		hinted, hintedUser = session.IDTokenHintClaims.SessionID, session.IDTokenHintClaims.Subject
	} else if p.needsConfirmation(w, r, req) {
		return
	}
	if err := p.logout(w, r, hinted, hintedUser); err != nil {
		p.cfg.Log.Error("oidc end_session", "err", err)
		op.RequestError(w, r, oidc.ErrServerError(), nil)
		return
	}
	http.Redirect(w, r, session.RedirectURI, http.StatusFound)
}

// needsConfirmation asks a signed-in user to confirm a logout that comes
// without an id_token_hint, so that another site cannot sign users out by
// linking here (RP-Initiated Logout 1.0 §2). The confirmation is a
// same-origin POST (checked with http.CrossOriginProtection). It reports
// whether it answered the request.
func (p *Provider) needsConfirmation(w http.ResponseWriter, r *http.Request, req *oidc.EndSessionRequest) bool {
	if _, in, err := p.cfg.Sessions(r); err != nil || !in {
		return false // nothing to end but the provider's own records
	}
	if r.Method == http.MethodPost && r.PostFormValue("confirm") == "yes" && p.cop.Check(r) == nil {
		return false
	}
	fields := map[string]string{"confirm": "yes"}
	for k, v := range map[string]string{"client_id": req.ClientID, "post_logout_redirect_uri": req.PostLogoutRedirectURI,
		"state": req.State, "logout_hint": req.LogoutHint} {
		if v != "" {
			fields[k] = v
		}
	}
	lang, t := texts(r)
	renderPage(w, http.StatusOK, page{Lang: lang, Title: t("logout.title"), Message: t("logout.message"),
		Action: p.prefix + "/end_session", Button: t("logout.button"), Fields: fields})
	return true
}

// EndPlatformSession ends the OpenID Connect side of the platform session
// whose key (session cookie) is sessionKey: the platform's own /logout
// calls it so that signing out of the platform reaches every application
// (A5). It does not end the platform session itself.
func (p *Provider) EndPlatformSession(ctx context.Context, sessionKey string) error {
	sid := SID(sessionKey)
	if sid == "" {
		return nil
	}
	return p.cfg.Store.InTx(ctx, func(tx store.Tx) error { return EndSession(ctx, tx, sid, nil) })
}

// logout ends the browser session's sign-ins and the platform session,
// and the platform session the id_token_hint names (sid hinted of user
// hintedUser): an application's backend logout comes without the
// browser's cookie and must end the session all the same (issue 12,
// defect 4).
func (p *Provider) logout(w http.ResponseWriter, r *http.Request, hinted, hintedUser string) error {
	if err := p.endSignIns(r, hinted); err != nil {
		return err
	}
	if hinted != "" && hinted != SID(p.cfg.SessionKey(r)) && p.cfg.PlatformSessions != nil {
		if err := p.cfg.PlatformSessions.End(r.Context(), hintedUser, hinted, clientAddress(r)); err != nil {
			return err
		}
	}
	if p.cfg.EndSession != nil {
		return p.cfg.EndSession(w, r)
	}
	return nil
}

// clientAddress is the host of r's remote address, for audit records.
func clientAddress(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// endSignIns forgets the sign-ins of the request's platform session and
// of the session named by an id_token_hint, revokes their tokens, and
// enqueues one back-channel logout per client, with an audit record, in
// one transaction (P3).
func (p *Provider) endSignIns(r *http.Request, hinted string) error {
	ctx := r.Context()
	var sids []string
	if sid := SID(p.cfg.SessionKey(r)); sid != "" {
		sids = append(sids, sid)
	}
	if hinted != "" && (len(sids) == 0 || sids[0] != hinted) {
		sids = append(sids, hinted)
	}
	return p.cfg.Store.InTx(ctx, func(tx store.Tx) error {
		for _, sid := range sids {
			if err := EndSession(ctx, tx, sid, r); err != nil {
				return err
			}
		}
		return nil
	})
}

// EndSession ends one browser session's sign-ins inside tx: their tokens
// are revoked and each client with a back-channel logout URI gets an
// outbox event (A5). r may be nil (no client address for the audit).
func EndSession(ctx context.Context, tx store.Tx, sid string, r *http.Request) error {
	ins, err := tx.EndOIDCSignIns(ctx, sid)
	if err != nil {
		return err
	}
	// Only the tokens of this session: the user's other devices stay
	// signed in (issue 12, defect 5), and so do offline tokens.
	return endSignIns(ctx, tx, ins, r, func(in store.OIDCSignIn) error {
		return tx.RevokeSessionClientTokens(ctx, in.SessionID, in.ClientID)
	})
}

// EndUserSessions ends every sign-in of a user inside tx, as EndSession
// does for one session: the use cases that disable or delete a user call
// it in their transaction, so that the applications end their own sessions
// of the user at once too (U7, A5).
func EndUserSessions(ctx context.Context, tx store.Tx, user directory.UserID) error {
	ins, err := tx.EndUserOIDCSignIns(ctx, string(user))
	if err != nil {
		return err
	}
	return endSignIns(ctx, tx, ins, nil, func(in store.OIDCSignIn) error {
		return tx.RevokeUserClientTokens(ctx, in.UserID, in.ClientID)
	})
}

// endSignIns revokes the tokens of each sign-in with revoke, audits it and
// queues its back-channel logout.
func endSignIns(ctx context.Context, tx store.Tx, ins []store.OIDCSignIn, r *http.Request, revoke func(store.OIDCSignIn) error) error {
	for _, in := range ins {
		if err := revoke(in); err != nil {
			return err
		}
		rec := store.AuditRecord{ActorID: in.UserID, Action: store.ActionOidcLogout, TargetType: "oidc_client", TargetID: in.ClientID}
		if r != nil {
			rec.Source = clientAddress(r)
		}
		if u, err := tx.GetUser(ctx, directory.Scope{}, directory.UserID(in.UserID)); err == nil {
			rec.ActorName = u.Username
		}
		if err := tx.AppendAudit(ctx, rec); err != nil {
			return err
		}
		c, err := tx.GetOIDCClient(ctx, in.ClientID)
		if err != nil || c.BackchannelLogoutURI == "" {
			continue
		}
		payload, _ := json.Marshal(BackchannelPayload{ClientID: in.ClientID, UserID: in.UserID, SessionID: in.SessionID})
		if _, err := tx.Enqueue(ctx, store.Event{Topic: provision.TopicOIDCBackchannelLogout,
			Aggregate: "oidc_client:" + in.ClientID, Payload: payload}); err != nil {
			return err
		}
	}
	return nil
}
