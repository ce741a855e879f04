package signin

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"unicode/utf8"

	"opsiam/internal/auth"
	"opsiam/internal/directory"
	"opsiam/internal/i18n"
	"opsiam/internal/store"
)

// Passkeys (SPEC §9). The browser side is static/passkey.js (the pages'
// CSP allows no inline script); it talks JSON with the endpoints below.
// Each ceremony's state is in the database under the hash of the
// opsiam_passkey cookie (auth.Passkeys), so it is bound to the browser,
// used once and short-lived. The endpoints are protected like the forms:
// http.CrossOriginProtection (Sec-Fetch-Site / Origin), a JSON body (which
// no cross-site form can send) and the form token in the X-CSRF-Token
// header, compared with its cookie in constant time.

const (
	passkeyCookie = "opsiam_passkey"
	csrfHeader    = "X-CSRF-Token"
	// maxPasskeyBody bounds a JSON body: an authenticator's answer is a few
	// KiB at most.
	maxPasskeyBody = 64 << 10
)

// jsonFunc is a passkey endpoint: it gets the checked body and answers
// with a status and a JSON value, or fails (STYLE P5).
type jsonFunc func(w http.ResponseWriter, r *http.Request, body []byte, lang string) (int, any, error)

// jsonAnswer is the body of every answer that is not the options of a
// ceremony: where to go next, or what went wrong (errors per field).
type jsonAnswer struct {
	Redirect string           `json:"redirect,omitempty"`
	Error    string           `json:"error,omitempty"`
	Errors   []jsonFieldError `json:"errors,omitempty"`
}

type jsonFieldError struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// api wraps a passkey endpoint with the same protections as page.
func (h *Handler) api(fn jsonFunc) http.Handler {
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", signInCSP)
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Cache-Control", "no-store")
		lang := i18n.FromRequest(r)
		fail := func(status int, id string) {
			writeJSON(w, status, jsonAnswer{Error: messages.T(lang, id)})
		}
		if h.cfg.Passkeys == nil {
			fail(http.StatusNotFound, "passkey.off")
			return
		}
		if mt := r.Header.Get("Content-Type"); mt != "application/json" && mt != "application/json; charset=utf-8" {
			fail(http.StatusUnsupportedMediaType, "passkey.badrequest")
			return
		}
		c, err := r.Cookie(csrfCookie)
		if err != nil || len(c.Value) < 32 || subtle.ConstantTimeCompare([]byte(c.Value), []byte(r.Header.Get(csrfHeader))) != 1 {
			fail(http.StatusForbidden, "csrf")
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxPasskeyBody))
		var tooBig *http.MaxBytesError
		switch {
		case errors.As(err, &tooBig):
			fail(http.StatusRequestEntityTooLarge, "passkey.toolarge")
			return
		case err != nil, !utf8.Valid(body), bytes.IndexByte(body, 0) >= 0, len(body) > 0 && !json.Valid(body):
			fail(http.StatusBadRequest, "passkey.badrequest")
			return
		}
		status, out, err := fn(w, r, body, lang)
		if err != nil {
			h.cfg.Log.ErrorContext(r.Context(), "passkey endpoint failed", "path", r.URL.Path, "err", err)
			if store.Unavailable(err) || errors.Is(err, auth.ErrBusy) {
				w.Header().Set("Retry-After", "5")
				fail(http.StatusServiceUnavailable, "unavailable")
				return
			}
			fail(http.StatusInternalServerError, "error")
			return
		}
		writeJSON(w, status, out)
	})
	return h.cop.Handler(inner)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	if raw, ok := v.(json.RawMessage); ok {
		_, _ = w.Write(raw)
		return
	}
	_ = json.NewEncoder(w).Encode(v)
}

// decodeBody reads a JSON object into v, refusing unknown fields; ok is
// false (and the answer made) for a body that does not fit.
func decodeBody(body []byte, v any, lang string) (int, any, bool) {
	if len(body) == 0 {
		body = []byte("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return http.StatusBadRequest, jsonAnswer{Error: messages.T(lang, "passkey.badrequest")}, false
	}
	return 0, nil, true
}

// fieldAnswer turns directory field errors into a 422 answer, translated
// where the catalogue knows the field and code; ok is false for other errors.
func fieldAnswer(err error, lang string) (int, any, bool) {
	var fe directory.FieldErrors
	if !errors.As(err, &fe) {
		return 0, nil, false
	}
	out := jsonAnswer{}
	for _, e := range fe {
		msg := e.Message
		if id := "err." + e.Field + "." + e.Code; lang != i18n.English && messages.Has(lang, id) {
			msg = messages.T(lang, id)
		}
		out.Errors = append(out.Errors, jsonFieldError{Field: e.Field, Code: e.Code, Message: msg})
		if out.Error == "" {
			out.Error = msg
		}
	}
	return http.StatusUnprocessableEntity, out, true
}

func (h *Handler) setPasskeyCookie(w http.ResponseWriter, token string) {
	http.SetCookie(w, &http.Cookie{Name: passkeyCookie, Value: token, Path: "/", MaxAge: int(auth.CeremonyTTL.Seconds()),
		HttpOnly: true, Secure: h.cfg.Secure, SameSite: http.SameSiteStrictMode})
}

func (h *Handler) clearPasskeyCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: passkeyCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: h.cfg.Secure, SameSite: http.SameSiteStrictMode})
}

func passkeyToken(r *http.Request) string {
	if c, err := r.Cookie(passkeyCookie); err == nil {
		return c.Value
	}
	return ""
}

// postLoginPasskeyBegin starts a discoverable sign-in: the options for
// navigator.credentials.get.
func (h *Handler) postLoginPasskeyBegin(w http.ResponseWriter, r *http.Request, body []byte, lang string) (int, any, error) {
	if !h.allowLogin(r) {
		return http.StatusTooManyRequests, jsonAnswer{Error: messages.T(lang, "login.ratelimited")}, nil
	}
	opts, token, err := h.cfg.Passkeys.BeginLogin(r.Context())
	if err != nil {
		return 0, nil, err
	}
	h.setPasskeyCookie(w, token)
	return http.StatusOK, json.RawMessage(opts), nil
}

// postLoginPasskeyFinish checks the authenticator's answer and signs in:
// the answer tells the page where to go (next, kept through the OIDC flow).
func (h *Handler) postLoginPasskeyFinish(w http.ResponseWriter, r *http.Request, body []byte, lang string) (int, any, error) {
	var in struct {
		Credential json.RawMessage `json:"credential"`
		Next       string          `json:"next"`
	}
	if status, out, ok := decodeBody(body, &in, lang); !ok {
		return status, out, nil
	}
	if !h.allowLogin(r) {
		return http.StatusTooManyRequests, jsonAnswer{Error: messages.T(lang, "login.ratelimited")}, nil
	}
	ctx := r.Context()
	token := passkeyToken(r)
	h.clearPasskeyCookie(w)
	old := sessionToken(r)
	sess, _, u, err := h.cfg.Passkeys.FinishLogin(ctx, token, in.Credential, source(r))
	if errors.Is(err, auth.ErrInvalidCredentials) {
		return http.StatusUnauthorized, jsonAnswer{Error: messages.T(lang, "passkey.failed")}, nil
	}
	if err != nil {
		return 0, nil, err
	}
	if old != "" {
		_ = h.cfg.Auth.SignOut(ctx, old, source(r))
	}
	h.setSession(w, sess)
	return http.StatusOK, jsonAnswer{Redirect: localPath(localPath(in.Next, ""), h.home(ctx, u.ID))}, nil
}

// postAccountPasskeyBegin starts registering a passkey on the account
// page. An account with a password must give it (current_password): like
// replacing the one-time codes, a session left open must not be enough to
// add a way in. The name is checked here already, before the
// authenticator asks anything.
func (h *Handler) postAccountPasskeyBegin(w http.ResponseWriter, r *http.Request, body []byte, lang string) (int, any, error) {
	var in struct {
		Name            string `json:"name"`
		CurrentPassword string `json:"current_password"`
	}
	if status, out, ok := decodeBody(body, &in, lang); !ok {
		return status, out, nil
	}
	ctx := r.Context()
	u, _, err := h.cfg.Auth.SignedIn(ctx, sessionToken(r))
	if errors.Is(err, auth.ErrNoSession) {
		return http.StatusUnauthorized, jsonAnswer{Error: messages.T(lang, "login.expired"), Redirect: "/login?next=/account"}, nil
	}
	if err != nil {
		return 0, nil, err
	}
	if status, out, ok := fieldAnswer(directory.ValidatePasskeyName(in.Name), lang); ok {
		return status, out, nil
	}
	has, err := h.cfg.Auth.HasPassword(ctx, u.ID)
	if err != nil {
		return 0, nil, err
	}
	if has {
		err := h.cfg.Auth.VerifyPassword(ctx, u, in.CurrentPassword, auth.Source{ActorID: u.ID, ActorName: u.Username, Address: source(r).Address})
		switch {
		case errors.Is(err, auth.ErrAccountDisabled), errors.Is(err, auth.ErrAccountLocked):
			h.clearSession(w)
			id := "account.disabled"
			if errors.Is(err, auth.ErrAccountLocked) {
				id = "account.locked"
			}
			return http.StatusForbidden, jsonAnswer{Error: messages.T(lang, id), Redirect: "/login"}, nil
		case err != nil:
			if status, out, ok := fieldAnswer(err, lang); ok {
				return status, out, nil
			}
			return 0, nil, err
		}
	}
	opts, token, err := h.cfg.Passkeys.BeginRegistration(ctx, u)
	if status, out, ok := fieldAnswer(err, lang); ok {
		return status, out, nil
	}
	if err != nil {
		return 0, nil, err
	}
	h.setPasskeyCookie(w, token)
	return http.StatusOK, json.RawMessage(opts), nil
}

// postAccountPasskeyFinish stores the new passkey.
func (h *Handler) postAccountPasskeyFinish(w http.ResponseWriter, r *http.Request, body []byte, lang string) (int, any, error) {
	var in struct {
		Name       string          `json:"name"`
		Credential json.RawMessage `json:"credential"`
	}
	if status, out, ok := decodeBody(body, &in, lang); !ok {
		return status, out, nil
	}
	ctx := r.Context()
	u, _, err := h.cfg.Auth.SignedIn(ctx, sessionToken(r))
	if errors.Is(err, auth.ErrNoSession) {
		return http.StatusUnauthorized, jsonAnswer{Error: messages.T(lang, "login.expired"), Redirect: "/login?next=/account"}, nil
	}
	if err != nil {
		return 0, nil, err
	}
	token := passkeyToken(r)
	h.clearPasskeyCookie(w)
	_, err = h.cfg.Passkeys.FinishRegistration(ctx, u, token, in.Name, in.Credential,
		auth.Source{ActorID: u.ID, ActorName: u.Username, Address: source(r).Address})
	switch {
	case errors.Is(err, auth.ErrCeremony):
		return http.StatusConflict, jsonAnswer{Error: messages.T(lang, "passkey.expired")}, nil
	case errors.Is(err, auth.ErrPasskeyRejected):
		h.cfg.Log.InfoContext(ctx, "passkey registration refused", "user", u.ID, "err", err)
		return http.StatusBadRequest, jsonAnswer{Error: messages.T(lang, "passkey.rejected")}, nil
	}
	if status, out, ok := fieldAnswer(err, lang); ok {
		return status, out, nil
	}
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, jsonAnswer{Redirect: "/account?done=passkey"}, nil
}

// postAccountPasskeyDelete removes one of the user's own passkeys (a
// form). A signed-in session is enough: removing a way in gains an
// intruder nothing, and the owner can always register again.
func (h *Handler) postAccountPasskeyDelete(w http.ResponseWriter, r *http.Request, v *view) error {
	u, ok, err := h.signedIn(w, r)
	if !ok {
		return err
	}
	if h.cfg.Passkeys == nil {
		http.NotFound(w, r)
		return nil
	}
	err = h.cfg.Passkeys.Remove(r.Context(), u, r.PathValue("pid"), auth.Source{ActorID: u.ID, ActorName: u.Username, Address: source(r).Address})
	if errors.Is(err, store.ErrNotFound) {
		v.Error = v.T("passkey.notfound")
		return h.showAccount(w, r, v, u, http.StatusNotFound)
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/account?done=passkey_removed", http.StatusSeeOther)
	return nil
}
