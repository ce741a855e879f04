package signin

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"opsiam/internal/auth"
	"opsiam/internal/directory"
	"opsiam/internal/store"
)

// getLogin shows the step the browser's session is at: the password form,
// the code form, or OTP enrolment (A1). A signed-in user goes on to next,
// unless reauth=1 asks for a new sign-in (an application's prompt=login or
// max_age): then the password form is shown, and signing in replaces the
// session, so its sign-in time is new.
func (h *Handler) getLogin(w http.ResponseWriter, r *http.Request, v *view) error {
	v.Next = localPath(r.URL.Query().Get("next"), "")
	sess, err := h.cfg.Auth.Session(r.Context(), sessionToken(r))
	switch {
	case errors.Is(err, auth.ErrNoSession):
		h.render(w, http.StatusOK, "login", v)
		return nil
	case err != nil:
		return err
	case sess.Stage == store.StageFull && r.URL.Query().Get("reauth") == "1":
		v.Notice = v.T("login.reauth")
		h.render(w, http.StatusOK, "login", v)
		return nil
	case sess.Stage == store.StageFull:
		http.Redirect(w, r, localPath(v.Next, h.home(r.Context(), sess.UserID)), http.StatusSeeOther)
		return nil
	case sess.Stage == store.StageOTP:
		h.render(w, http.StatusOK, "otp", v)
		return nil
	}
	return h.showEnrol(w, r, v, sess.UserID, http.StatusOK)
}

// showEnrol renders the enrolment page with the pending secret, making
// one when none is pending.
func (h *Handler) showEnrol(w http.ResponseWriter, r *http.Request, v *view, id directory.UserID, status int) error {
	u, err := h.cfg.Auth.Store.GetUser(r.Context(), directory.Scope{}, id)
	if err != nil {
		return err
	}
	enr, err := h.cfg.Auth.PendingEnrolment(r.Context(), u)
	if errors.Is(err, store.ErrNotFound) {
		enr, err = h.cfg.Auth.BeginEnrolment(r.Context(), u)
	}
	if err != nil {
		return err
	}
	v.User, v.Enrol = u, enr
	h.render(w, status, "enrol", v)
	return nil
}

// postLogin takes the password step (fields username, password) or, when
// the form carries otp, the code or enrolment step (SPEC §7).
func (h *Handler) postLogin(w http.ResponseWriter, r *http.Request, v *view) error {
	v.Next = localPath(r.PostFormValue("next"), "")
	if !h.allowLogin(r) {
		v.Error = v.T("login.ratelimited")
		h.render(w, http.StatusTooManyRequests, "login", v)
		return nil
	}
	ctx := r.Context()
	if _, isCode := r.PostForm["otp"]; isCode {
		return h.postCode(w, r, v)
	}
	login, password := r.PostFormValue("username"), r.PostFormValue("password")
	if h.cfg.Upstream != nil {
		// A mail address of a customer's identity provider goes there
		// (issue 18): alone, or with a password when the provider is
		// mandatory. Anything else is a local sign-in, and a mail alone
		// of no provider fails like a wrong password.
		p, ok, err := h.cfg.Upstream.Manage.ProviderForLogin(ctx, login)
		if err != nil {
			return err
		}
		if ok && (password == "" || p.Mandatory) {
			return h.beginUpstream(w, r, v, p, login)
		}
	}
	old := sessionToken(r)
	token, sess, err := h.cfg.Auth.SignIn(ctx, login, password, source(r))
	if errors.Is(err, auth.ErrInvalidCredentials) {
		v.Error = v.T("login.failed")
		h.render(w, http.StatusUnauthorized, "login", v)
		return nil
	}
	if err != nil {
		return err
	}
	if old != "" {
		_ = h.cfg.Auth.SignOut(ctx, old, source(r))
	}
	h.setSession(w, token)
	if sess.Stage == store.StageFull {
		http.Redirect(w, r, localPath(v.Next, h.home(ctx, sess.UserID)), http.StatusSeeOther)
		return nil
	}
	http.Redirect(w, r, "/login?next="+url.QueryEscape(v.Next), http.StatusSeeOther)
	return nil
}

func (h *Handler) postCode(w http.ResponseWriter, r *http.Request, v *view) error {
	ctx := r.Context()
	token := sessionToken(r)
	sess, err := h.cfg.Auth.Session(ctx, token)
	if errors.Is(err, auth.ErrNoSession) || (err == nil && sess.Stage == store.StageFull) {
		v.Error = v.T("login.expired")
		h.render(w, http.StatusUnauthorized, "login", v)
		return nil
	}
	if err != nil {
		return err
	}
	code := r.PostFormValue("otp")
	var full string
	if sess.Stage == store.StageEnrol {
		full, _, err = h.cfg.Auth.ConfirmEnrolment(ctx, token, code, source(r))
	} else {
		full, _, err = h.cfg.Auth.SubmitCode(ctx, token, code, source(r))
	}
	if errors.Is(err, auth.ErrInvalidCredentials) || errors.Is(err, auth.ErrNoSession) {
		v.Error = v.T("otp.failed")
		if _, err := h.cfg.Auth.Session(ctx, token); err != nil {
			v.Error = v.T("login.expired")
			h.render(w, http.StatusUnauthorized, "login", v)
			return nil
		}
		if sess.Stage == store.StageEnrol {
			return h.showEnrol(w, r, v, sess.UserID, http.StatusUnauthorized)
		}
		h.render(w, http.StatusUnauthorized, "otp", v)
		return nil
	}
	if err != nil {
		return err
	}
	h.setSession(w, full)
	http.Redirect(w, r, localPath(v.Next, h.home(ctx, sess.UserID)), http.StatusSeeOther)
	return nil
}

// home is where a sign-in without a target lands: the admin console for
// those who may use it, the account page for everyone else.
func (h *Handler) home(ctx context.Context, id directory.UserID) string {
	if h.cfg.Console == nil {
		return "/account"
	}
	u, err := h.cfg.Auth.Store.GetUser(ctx, directory.Scope{}, id)
	if err == nil && h.cfg.Console(ctx, u) {
		return "/console/"
	}
	return "/account"
}

// getLogout asks before signing out, so that a link cannot sign anyone out.
func (h *Handler) getLogout(w http.ResponseWriter, r *http.Request, v *view) error {
	if _, _, err := h.cfg.Auth.SignedIn(r.Context(), sessionToken(r)); err != nil {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return nil
	}
	h.render(w, http.StatusOK, "logout", v)
	return nil
}

// postLogout ends the session (A5).
func (h *Handler) postLogout(w http.ResponseWriter, r *http.Request, v *view) error {
	if err := h.cfg.Auth.SignOut(r.Context(), sessionToken(r), source(r)); err != nil {
		return err
	}
	h.clearSession(w)
	v.Notice = v.T("logout.done")
	h.render(w, http.StatusOK, "message", v)
	return nil
}
