package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"opsiam/internal/auth"
	"opsiam/internal/directory"
	"opsiam/internal/provision"
	"opsiam/internal/store"
)

// continueAuth is where op sends the browser after storing an
// authorization request (Client.LoginURL). With a platform session it
// completes the request (so a second client needs no password: SSO, A5);
// without one it sends the browser to the sign-in page, which returns here.
// The ITSM client refuses users who are not agents and every customer
// user with a page, and the client gets access_denied (T2).
func (p *Provider) continueAuth(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := r.URL.Query().Get("id")
	ar, err := p.cfg.Store.GetAuthRequest(ctx, id)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			p.cfg.Log.Error("oidc continue", "err", err)
		}
		lang, t := texts(r)
		renderPage(w, http.StatusBadRequest, page{Lang: lang, Title: t("expired.title"), Message: t("expired.message")})
		return
	}
	req := authRequest{ar}
	userID, ok, err := p.cfg.Sessions(r)
	if err != nil {
		p.serverError(w, r, req, err)
		return
	}
	if !ok {
		if slices.Contains(ar.Prompt, oidc.PromptNone) {
			op.AuthRequestError(w, r, req, oidc.ErrLoginRequired(), p.op)
			return
		}
		if wantsNewSignIn(ar) && ar.SessionID == "" {
			if !p.markSentToSignIn(w, r, req, noSession) {
				return
			}
		}
		http.Redirect(w, r, p.cfg.LoginURL(p.prefix+ContinuePath+"?id="+url.QueryEscape(id)), http.StatusFound)
		return
	}
	info := p.sessionInfo(r)
	authTime := p.cfg.Now().UTC()
	if t := info.AuthTime; !t.IsZero() && t.Before(authTime) {
		authTime = t.UTC()
	}
	sid := SID(p.cfg.SessionKey(r))
	if sid == "" {
		p.serverError(w, r, req, errors.New("oidc: a signed-in request without a session key"))
		return
	}
	if p.needsNewSignIn(ar, authTime, sid) {
		switch {
		case slices.Contains(ar.Prompt, oidc.PromptNone):
			op.AuthRequestError(w, r, req, oidc.ErrLoginRequired().WithDescription("the sign-in is older than max_age"), p.op)
		case p.cfg.ReauthURL == nil:
			op.AuthRequestError(w, r, req, oidc.ErrLoginRequired().WithDescription("this server cannot ask for a new sign-in"), p.op)
		default:
			if !p.markSentToSignIn(w, r, req, sid) {
				return
			}
			http.Redirect(w, r, p.cfg.ReauthURL(p.prefix+ContinuePath+"?id="+url.QueryEscape(id)), http.StatusFound)
		}
		return
	}
	c, err := p.cfg.Store.GetOIDCClient(ctx, ar.ClientID)
	if err != nil {
		p.serverError(w, r, req, err)
		return
	}
	sub, err := p.storage.subjectOf(ctx, string(userID))
	if errors.Is(err, ErrUserDisabled) {
		p.refuse(w, r, req, "denied.disabled")
		return
	}
	if err != nil {
		p.serverError(w, r, req, err)
		return
	}
	switch err := sub.mayUse(c); {
	case errors.Is(err, ErrNotAgent):
		p.auditRefusal(ctx, r, sub.User, c)
		p.refuse(w, r, req, "denied.itsm", c.Name)
		return
	case errors.Is(err, ErrNoAccess):
		p.auditRefusal(ctx, r, sub.User, c)
		_, t := texts(r)
		p.refuse(w, r, req, "denied.role", c.Name, orList(t, c.AccessRoles))
		return
	}
	complete := func(tx store.Tx) error {
		ar.UserID, ar.SessionID, ar.AuthTime, ar.Done = string(sub.User.ID), sid, authTime, true
		ar.AMR, ar.SessionEnd = info.AMR, info.End.UTC()
		if err := tx.SaveAuthRequest(ctx, ar); err != nil {
			return err
		}
		if err := tx.RecordOIDCSignIn(ctx, store.OIDCSignIn{SessionID: sid, ClientID: c.ID, UserID: string(sub.User.ID)}); err != nil {
			return err
		}
		if err := tx.AppendAudit(ctx, p.audit(r, sub.User, store.ActionOidcSignIn, c.ID)); err != nil {
			return err
		}
		if c.ITSM {
			return markITSMSignIn(ctx, tx, sub.User.ID)
		}
		return nil
	}
	err = p.cfg.Store.InTx(ctx, complete)
	if errors.Is(err, store.ErrStale) {
		err = p.cfg.Store.InTx(ctx, complete) // the user changed meanwhile: read it again
	}
	if err != nil {
		p.serverError(w, r, req, err)
		return
	}
	http.Redirect(w, r, p.cfg.Issuer+"/authorize/callback?id="+url.QueryEscape(id), http.StatusFound)
}

// noSession marks a request whose browser was sent to sign in without a
// session (markSentToSignIn).
const noSession = "-"

// wantsNewSignIn reports whether ar asks for a fresh sign-in (prompt=login)
// or bounds its age (max_age; prompt=login arrives as max_age 0 too).
func wantsNewSignIn(ar store.OIDCAuthRequest) bool {
	return slices.Contains(ar.Prompt, oidc.PromptLogin) || ar.MaxAge >= 0
}

// needsNewSignIn reports whether request ar wants a sign-in newer than that
// of the platform session sid, signed in at authTime (OIDC Core §3.1.2.1):
// prompt=login, or more than max_age seconds since authTime. It is
// satisfied by a sign-in after the request was made, and by any session
// other than the one the request sent to sign in again (markSentToSignIn:
// every sign-in makes a new session, so a new sid is a new sign-in, however
// long it took and whatever the replicas' clocks say).
func (p *Provider) needsNewSignIn(ar store.OIDCAuthRequest, authTime time.Time, sid string) bool {
	if !slices.Contains(ar.Prompt, oidc.PromptLogin) &&
		!(ar.MaxAge >= 0 && p.cfg.Now().Sub(authTime) > time.Duration(ar.MaxAge)*time.Second) {
		return false
	}
	if ar.SessionID != "" && ar.SessionID != sid {
		return false
	}
	created := ar.ExpiresAt.Add(-p.storage.AuthRequestLifetime)
	return authTime.Before(created)
}

// markSentToSignIn records on the pending request which session (sid, or
// noSession) it sends to sign in; until the request is completed its
// SessionID holds nothing else. False when it failed and was answered.
func (p *Provider) markSentToSignIn(w http.ResponseWriter, r *http.Request, req authRequest, sid string) bool {
	req.r.SessionID = sid
	if err := p.cfg.Store.SaveAuthRequest(r.Context(), req.r); err != nil {
		p.serverError(w, r, req, err)
		return false
	}
	return true
}

// markITSMSignIn records the first ITSM sign-in on the user (T1, D1).
func markITSMSignIn(ctx context.Context, tx store.Tx, id directory.UserID) error {
	u, err := tx.GetUser(ctx, directory.Scope{}, id)
	if err != nil || u.ITSMSignedIn {
		return err
	}
	before, _ := json.Marshal(map[string]bool{"itsm_signed_in": false})
	u.ITSMSignedIn = true
	if _, err := tx.UpdateUser(ctx, u); err != nil {
		return err
	}
	after, _ := json.Marshal(map[string]bool{"itsm_signed_in": true})
	if err := tx.AppendAudit(ctx, store.AuditRecord{ActorID: string(u.ID), ActorName: u.Username,
		Action: store.ActionUserItsmFirstSignIn, TargetType: "user", TargetID: string(u.ID), Before: before, After: after}); err != nil {
		return err
	}
	payload, _ := json.Marshal(map[string]string{"user_id": string(u.ID)})
	_, err = tx.Enqueue(ctx, store.Event{Topic: provision.TopicUserUpdated, Aggregate: "user:" + string(u.ID), Payload: payload})
	return err
}

func (p *Provider) audit(r *http.Request, u directory.User, action, clientID string) store.AuditRecord {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return store.AuditRecord{At: p.cfg.Now().UTC(), ActorID: string(u.ID), ActorName: u.Username, Action: action,
		TargetType: "oidc_client", TargetID: clientID, Source: host}
}

func (p *Provider) auditRefusal(ctx context.Context, r *http.Request, u directory.User, c store.OIDCClient) {
	if err := p.cfg.Store.AppendAudit(ctx, p.audit(r, u, store.ActionOidcSignInRefused, c.ID)); err != nil {
		p.cfg.Log.Error("oidc audit", "err", err)
	}
}

// refuse shows a page saying why (the text msgID of pageTexts with args),
// whose link takes the browser back to the client with
// error=access_denied; the request is dropped.
func (p *Provider) refuse(w http.ResponseWriter, r *http.Request, req authRequest, msgID string, args ...any) {
	if err := p.cfg.Store.DeleteAuthRequest(r.Context(), req.r.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
		p.cfg.Log.Error("oidc refuse", "err", err)
	}
	back, err := op.AuthResponseURL(req.r.RedirectURI, req.GetResponseType(), req.GetResponseMode(),
		oidc.ErrAccessDenied().WithDescription("the user may not use this application"), p.op.Encoder())
	if err != nil {
		back = ""
	}
	if st := req.r.State; st != "" && back != "" {
		if u, err := url.Parse(back); err == nil && u.Query().Get("state") == "" {
			q := u.Query()
			q.Set("state", st)
			u.RawQuery = q.Encode()
			back = u.String()
		}
	}
	lang, t := texts(r)
	renderPage(w, http.StatusForbidden, page{Lang: lang, Title: t("denied.title"), Message: t(msgID, args...), Link: back,
		LinkText: t("denied.back")})
}

func (p *Provider) serverError(w http.ResponseWriter, r *http.Request, req authRequest, err error) {
	p.cfg.Log.Error("oidc authorization", "err", err, "path", r.URL.Path)
	op.AuthRequestError(w, r, req, oidc.ErrServerError(), p.op)
}

// SID is the sid claim of the platform session whose key is key (the
// stored hash of its cookie): auth.SID, so that the sign-in service finds
// the session a sid names with one indexed read. Empty for an empty key.
func SID(key string) string { return auth.SID(key) }
