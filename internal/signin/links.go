package signin

import (
	"errors"
	"net/http"
	"regexp"
	"strings"

	"opsiam/internal/auth"
	"opsiam/internal/store"
)

// purposeOf maps the page path to the link purpose (A4).
func purposeOf(path string) string {
	if strings.HasSuffix(path, "/reset") {
		return store.LinkPasswordReset
	}
	return store.LinkPasswordSetup
}

// getPasswordLink shows the form to set a password from a mail link.
func (h *Handler) getPasswordLink(w http.ResponseWriter, r *http.Request, v *view) error {
	v.Token, v.Purpose = r.URL.Query().Get("token"), purposeOf(r.URL.Path)
	u, err := h.cfg.Auth.CheckLink(r.Context(), v.Purpose, v.Token)
	if errors.Is(err, auth.ErrInvalidLink) {
		v.Error = v.T("link.invalid")
		h.render(w, http.StatusNotFound, "message", v)
		return nil
	}
	if err != nil {
		return err
	}
	v.User = u
	h.render(w, http.StatusOK, "password", v)
	return nil
}

// postPasswordLink sets the password and uses the link up.
func (h *Handler) postPasswordLink(w http.ResponseWriter, r *http.Request, v *view) error {
	v.Token, v.Purpose = r.PostFormValue("token"), purposeOf(r.URL.Path)
	u, err := h.cfg.Auth.SetPasswordWithLink(r.Context(), v.Purpose, v.Token, r.PostFormValue("password"),
		r.PostFormValue("confirm"), source(r))
	switch {
	case errors.Is(err, auth.ErrInvalidLink):
		v.Error = v.T("link.invalid")
		h.render(w, http.StatusNotFound, "message", v)
		return nil
	case v.fieldErrors(err):
		v.User = u
		h.render(w, http.StatusUnprocessableEntity, "password", v)
		return nil
	case err != nil:
		return err
	}
	v.Notice = v.T("link.done")
	h.render(w, http.StatusOK, "message", v)
	return nil
}

// getVerify asks for a click rather than verifying on GET, so that mail
// scanners that fetch links do not use them up.
func (h *Handler) getVerify(w http.ResponseWriter, r *http.Request, v *view) error {
	v.Token = r.URL.Query().Get("token")
	h.render(w, http.StatusOK, "verify", v)
	return nil
}

func (h *Handler) postVerify(w http.ResponseWriter, r *http.Request, v *view) error {
	_, err := h.cfg.Auth.VerifyEmail(r.Context(), r.PostFormValue("token"), source(r))
	if errors.Is(err, auth.ErrInvalidLink) {
		v.Error = v.T("link.invalid")
		h.render(w, http.StatusNotFound, "message", v)
		return nil
	}
	if err != nil {
		return err
	}
	v.Notice = v.T("verify.done")
	h.render(w, http.StatusOK, "message", v)
	return nil
}

// getDevMail lists the development mailbox (embedded default only).
func (h *Handler) getDevMail(w http.ResponseWriter, r *http.Request, v *view) error {
	v.Mails = h.cfg.DevMail.List()
	h.render(w, http.StatusOK, "devmail", v)
	return nil
}

// textPart is a piece of a mail body: plain text or a link.
type textPart struct {
	Text string
	Link bool
}

// linkRE finds the links in a mail body.
var linkRE = regexp.MustCompile(`https?://[^\s<>"]+`)

// MailParts splits a dev-mailbox mail into text and clickable links; the
// template escapes both, and html/template checks the link URLs.
func (v *view) MailParts(text string) []textPart {
	var out []textPart
	last := 0
	for _, m := range linkRE.FindAllStringIndex(text, -1) {
		out = append(out, textPart{Text: text[last:m[0]]}, textPart{Text: text[m[0]:m[1]], Link: true})
		last = m[1]
	}
	return append(out, textPart{Text: text[last:]})
}
