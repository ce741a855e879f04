package signin

import (
	"errors"
	"net/http"

	"opsiam/internal/auth"
	"opsiam/internal/directory"
)

// signedIn returns the user of a full session, or redirects to /login.
func (h *Handler) signedIn(w http.ResponseWriter, r *http.Request) (directory.User, bool, error) {
	u, _, err := h.cfg.Auth.SignedIn(r.Context(), sessionToken(r))
	if errors.Is(err, auth.ErrNoSession) {
		if r.Method == http.MethodGet {
			http.Redirect(w, r, "/login?next="+r.URL.Path, http.StatusSeeOther)
		} else {
			http.Redirect(w, r, "/login", http.StatusSeeOther)
		}
		return u, false, nil
	}
	return u, err == nil, err
}

// getAccount shows the account page (A7).
func (h *Handler) getAccount(w http.ResponseWriter, r *http.Request, v *view) error {
	u, ok, err := h.signedIn(w, r)
	if !ok {
		return err
	}
	if done := r.URL.Query().Get("done"); done == "password" || done == "otp" || done == "timezone" || done == "passkey" || done == "passkey_removed" {
		v.Notice = v.T("account.done." + done)
	}
	return h.showAccount(w, r, v, u, http.StatusOK)
}

func (h *Handler) showAccount(w http.ResponseWriter, r *http.Request, v *view, u directory.User, status int) error {
	has, err := h.cfg.Auth.HasOTP(r.Context(), u.ID)
	if err != nil {
		return err
	}
	v.User, v.HasOTP = u, has
	if h.cfg.Passkeys != nil {
		if v.Passkeys, err = h.cfg.Passkeys.List(r.Context(), u.ID); err != nil {
			return err
		}
		if v.HasPassword, err = h.cfg.Auth.HasPassword(r.Context(), u.ID); err != nil {
			return err
		}
	}
	v.Console = h.cfg.Console != nil && h.cfg.Console(r.Context(), u)
	if v.Timezone == "" {
		v.Timezone = u.Timezone
	}
	h.render(w, status, "account", v)
	return nil
}

func (h *Handler) postAccountPassword(w http.ResponseWriter, r *http.Request, v *view) error {
	u, ok, err := h.signedIn(w, r)
	if !ok {
		return err
	}
	err = h.cfg.Auth.ChangePassword(r.Context(), u, sessionToken(r), r.PostFormValue("current_password"), r.PostFormValue("password"),
		r.PostFormValue("confirm"), auth.Source{ActorID: u.ID, ActorName: u.Username, Address: source(r).Address})
	if done, err := h.refusedCurrent(w, r, v, u, err); done || err != nil {
		return err
	}
	http.Redirect(w, r, "/account?done=password", http.StatusSeeOther)
	return nil
}

// refusedCurrent answers a refused current password (wrong, missing, or
// the account disabled or locked by it) and reports whether it answered;
// err is returned for any other failure.
func (h *Handler) refusedCurrent(w http.ResponseWriter, r *http.Request, v *view, u directory.User, err error) (bool, error) {
	switch {
	case errors.Is(err, auth.ErrAccountDisabled), errors.Is(err, auth.ErrAccountLocked):
		h.clearSession(w)
		v.Error = v.T("account.disabled")
		if errors.Is(err, auth.ErrAccountLocked) {
			v.Error = v.T("account.locked")
		}
		h.render(w, http.StatusForbidden, "message", v)
		return true, nil
	case v.fieldErrors(err):
		return true, h.showAccount(w, r, v, u, http.StatusUnprocessableEntity)
	}
	return false, err
}

// postAccountOTP starts setting up (or replacing) one-time codes.
func (h *Handler) postAccountOTP(w http.ResponseWriter, r *http.Request, v *view) error {
	u, ok, err := h.signedIn(w, r)
	if !ok {
		return err
	}
	// Replacing the authenticator asks for the password: a session left
	// open must not be enough to take over the second factor.
	has, err := h.cfg.Auth.HasOTP(r.Context(), u.ID)
	if err != nil {
		return err
	}
	if has {
		err := h.cfg.Auth.VerifyPassword(r.Context(), u, r.PostFormValue("current_password"),
			auth.Source{ActorID: u.ID, ActorName: u.Username, Address: source(r).Address})
		if done, err := h.refusedCurrent(w, r, v, u, err); done || err != nil {
			return err
		}
	}
	enr, err := h.cfg.Auth.BeginEnrolment(r.Context(), u)
	if err != nil {
		return err
	}
	v.User, v.Enrol, v.Account = u, enr, true
	h.render(w, http.StatusOK, "enrol", v)
	return nil
}

func (h *Handler) postAccountOTPConfirm(w http.ResponseWriter, r *http.Request, v *view) error {
	u, ok, err := h.signedIn(w, r)
	if !ok {
		return err
	}
	_, _, err = h.cfg.Auth.ConfirmEnrolment(r.Context(), sessionToken(r), r.PostFormValue("otp"),
		auth.Source{ActorID: u.ID, ActorName: u.Username, Address: source(r).Address})
	if errors.Is(err, auth.ErrInvalidCredentials) {
		enr, err := h.cfg.Auth.PendingEnrolment(r.Context(), u)
		if err != nil {
			return err
		}
		v.User, v.Enrol, v.Account = u, enr, true
		v.Error = v.T("otp.failed")
		h.render(w, http.StatusUnprocessableEntity, "enrol", v)
		return nil
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/account?done=otp", http.StatusSeeOther)
	return nil
}

func (h *Handler) postAccountTimezone(w http.ResponseWriter, r *http.Request, v *view) error {
	u, ok, err := h.signedIn(w, r)
	if !ok {
		return err
	}
	v.Timezone = r.PostFormValue("timezone")
	_, err = h.cfg.Auth.SetTimezone(r.Context(), u, v.Timezone, auth.Source{ActorID: u.ID, ActorName: u.Username, Address: source(r).Address})
	if v.fieldErrors(err) {
		return h.showAccount(w, r, v, u, http.StatusUnprocessableEntity)
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/account?done=timezone", http.StatusSeeOther)
	return nil
}
