package signin

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"opsiam/internal/auth"
	"opsiam/internal/directory"
	"opsiam/internal/i18n"
	"opsiam/internal/mail"
	"opsiam/internal/store"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// Cookie names.
const (
	SessionCookie = "opsiam_session"
	csrfCookie    = "opsiam_csrf"
	csrfField     = "csrf"
)

// Config is what the pages need.
type Config struct {
	Auth *auth.Service
	Log  *slog.Logger
	// Secure marks cookies Secure; set it when the issuer is https.
	Secure bool
	// DevMail, when set, serves /dev/mail (embedded default only).
	DevMail *mail.DevMailbox
	// LoginPerMinute limits POST /login per client address (default 30).
	LoginPerMinute int
	// Console tells whether a signed-in user may use the admin console:
	// a sign-in without a target then lands there instead of on /account,
	// and /account links to it. Nil: never.
	Console func(ctx context.Context, u directory.User) bool
	// Upstream, when set, sends mail addresses of a customer's identity
	// provider there (issue 18) and serves /login/idp/{id}/callback.
	Upstream *Upstream
	// Passkeys, when set, offers passkey sign-in on /login and passkey
	// registration on /account (SPEC §9).
	Passkeys *auth.Passkeys
}

// Handler serves the pages. Build it with New.
type Handler struct {
	cfg  Config
	tmpl *template.Template
	cop  *http.CrossOriginProtection

	mu       sync.Mutex
	limiters map[string]*limiterEntry
}

type limiterEntry struct {
	lim  *rate.Limiter
	seen time.Time
}

// New parses every template (a broken one fails here, STYLE P11) and
// checks the message catalogue.
func New(cfg Config) (*Handler, error) {
	if cfg.Auth == nil {
		return nil, errors.New("signin: Auth is required")
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.LoginPerMinute <= 0 {
		cfg.LoginPerMinute = 30
	}
	if err := messages.Check(); err != nil {
		return nil, err
	}
	t, err := template.ParseFS(templateFiles, "templates/*.html")
	if err != nil {
		return nil, err
	}
	for _, name := range []string{"login", "otp", "enrol", "logout", "account", "password", "verify", "message", "devmail"} {
		if t.Lookup(name) == nil {
			return nil, errors.New("signin: template " + name + " missing")
		}
	}
	return &Handler{cfg: cfg, tmpl: t, cop: http.NewCrossOriginProtection(), limiters: map[string]*limiterEntry{}}, nil
}

// Mount adds the pages to mux.
func (h *Handler) Mount(mux *http.ServeMux) {
	mux.Handle("GET /login", h.page(h.getLogin))
	mux.Handle("POST /login", h.page(h.postLogin))
	if h.cfg.Upstream != nil {
		mux.Handle("GET /login/idp/{id}/callback", h.page(h.getUpstreamCallback))
	}
	mux.Handle("GET /logout", h.page(h.getLogout))
	mux.Handle("POST /logout", h.page(h.postLogout))
	mux.Handle("GET /account", h.page(h.getAccount))
	mux.Handle("POST /account/password", h.page(h.postAccountPassword))
	mux.Handle("POST /account/otp", h.page(h.postAccountOTP))
	mux.Handle("POST /account/otp/confirm", h.page(h.postAccountOTPConfirm))
	mux.Handle("POST /account/timezone", h.page(h.postAccountTimezone))
	mux.Handle("POST /account/passkeys/begin", h.api(h.postAccountPasskeyBegin))
	mux.Handle("POST /account/passkeys/finish", h.api(h.postAccountPasskeyFinish))
	mux.Handle("POST /account/passkeys/{pid}/delete", h.page(h.postAccountPasskeyDelete))
	mux.Handle("POST /login/passkey/begin", h.api(h.postLoginPasskeyBegin))
	mux.Handle("POST /login/passkey/finish", h.api(h.postLoginPasskeyFinish))
	mux.Handle("GET /password/setup", h.page(h.getPasswordLink))
	mux.Handle("POST /password/setup", h.page(h.postPasswordLink))
	mux.Handle("GET /password/reset", h.page(h.getPasswordLink))
	mux.Handle("POST /password/reset", h.page(h.postPasswordLink))
	mux.Handle("GET /email/verify", h.page(h.getVerify))
	mux.Handle("POST /email/verify", h.page(h.postVerify))
	if h.cfg.DevMail != nil {
		mux.Handle("GET /dev/mail", h.page(h.getDevMail))
	}
	static, _ := fs.Sub(staticFiles, "static")
	mux.Handle("GET /auth/static/", http.StripPrefix("/auth/static/", http.FileServerFS(static)))
}

// SessionUser reads the session cookie of r and returns its signed-in
// user, for the REST API (which must then protect itself against CSRF, as
// a cookie is sent by browsers on their own). ok is false without a valid,
// fully signed-in session; err only for a failing database.
func (h *Handler) SessionUser(r *http.Request) (directory.UserID, bool, error) {
	c, err := r.Cookie(SessionCookie)
	if err != nil || c.Value == "" {
		return "", false, nil
	}
	u, _, err := h.cfg.Auth.SignedIn(r.Context(), c.Value)
	if errors.Is(err, auth.ErrNoSession) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return u.ID, true, nil
}

// signInCSP is the Content-Security-Policy of the sign-in pages; connect-src
// lets static/passkey.js reach the passkey endpoints of the same origin.
const signInCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'"

// handlerFunc is a page handler that may fail (STYLE P5).
type handlerFunc func(w http.ResponseWriter, r *http.Request, v *view) error

// page wraps a handler: security headers, cross-origin protection, the
// form token on POST, the language, and one place for unknown errors.
func (h *Handler) page(fn handlerFunc) http.Handler {
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		// No form-action: Chromium applies it to every redirect after a
		// form's POST, and signing in ends in a redirect to the
		// application's origin (/login → /oidc/continue → the client's
		// redirect URI), which form-action 'self' blocks (issue 12, defect 1).
		hd.Set("Content-Security-Policy", signInCSP)
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("Cache-Control", "no-store")
		i18n.Remember(w, r, h.cfg.Secure)
		v := &view{Lang: i18n.FromRequest(r), Path: r.URL.Path, query: r.URL.Query(), CSRF: h.csrfToken(w, r), Fields: map[string]string{},
			PasskeysOn: h.cfg.Passkeys != nil}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
			if err := r.ParseForm(); err != nil || !h.csrfOK(r) {
				v.Error = v.T("csrf")
				h.render(w, http.StatusForbidden, "message", v)
				return
			}
		}
		if err := fn(w, r, v); err != nil {
			// A full hash queue is load shed as designed, not a failure:
			// logging each refusal would add work when there is most.
			if !errors.Is(err, auth.ErrBusy) {
				h.cfg.Log.ErrorContext(r.Context(), "page failed", "path", r.URL.Path, "err", err)
			}
			if store.Unavailable(err) || errors.Is(err, auth.ErrBusy) {
				w.Header().Set("Retry-After", "5")
				v.Error = v.T("unavailable")
				if errors.Is(err, auth.ErrBusy) {
					v.Error = v.T("busy")
				}
				h.render(w, http.StatusServiceUnavailable, "message", v)
				return
			}
			v.Error = v.T("error")
			h.render(w, http.StatusInternalServerError, "message", v)
		}
	})
	return h.cop.Handler(inner)
}

func (h *Handler) render(w http.ResponseWriter, status int, name string, v *view) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := h.tmpl.ExecuteTemplate(w, name, v); err != nil {
		h.cfg.Log.Error("render", "template", name, "err", err)
	}
}

// csrfToken returns the form token, setting its cookie on first use.
func (h *Handler) csrfToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(csrfCookie); err == nil && len(c.Value) >= 32 {
		return c.Value
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	tok := base64.RawURLEncoding.EncodeToString(b)
	http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: tok, Path: "/", HttpOnly: true, Secure: h.cfg.Secure, SameSite: http.SameSiteLaxMode})
	r.AddCookie(&http.Cookie{Name: csrfCookie, Value: tok})
	return tok
}

// csrfOK compares the form token with its cookie in constant time.
func (h *Handler) csrfOK(r *http.Request) bool {
	c, err := r.Cookie(csrfCookie)
	if err != nil || len(c.Value) < 32 {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(c.Value), []byte(r.PostFormValue(csrfField))) == 1
}

func (h *Handler) setSession(w http.ResponseWriter, token string) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: token, Path: "/", HttpOnly: true,
		Secure: h.cfg.Secure, SameSite: http.SameSiteLaxMode})
}

func (h *Handler) clearSession(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: h.cfg.Secure, SameSite: http.SameSiteLaxMode})
}

func sessionToken(r *http.Request) string {
	if c, err := r.Cookie(SessionCookie); err == nil {
		return c.Value
	}
	return ""
}

// clientKey is the rate-limit key of a client address: the address, or
// for IPv6 its /64, which one subscriber usually holds whole.
func clientKey(remoteAddr string) string {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	ip := net.ParseIP(host)
	if ip == nil || ip.To4() != nil {
		return host
	}
	return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
}

// allowLogin applies the per-address limit of POST /login.
func (h *Handler) allowLogin(r *http.Request) bool {
	host := clientKey(r.RemoteAddr)
	now := time.Now()
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.limiters) > 10000 {
		for k, e := range h.limiters {
			if now.Sub(e.seen) > 2*time.Minute {
				delete(h.limiters, k)
			}
		}
	}
	e, ok := h.limiters[host]
	if !ok {
		n := h.cfg.LoginPerMinute
		e = &limiterEntry{lim: rate.NewLimiter(rate.Every(time.Minute/time.Duration(n)), n)}
		h.limiters[host] = e
	}
	e.seen = now
	return e.lim.AllowN(now, 1)
}

func source(r *http.Request) auth.Source {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return auth.Source{Address: host}
}

// localPath accepts only a path on this server as a redirect target and
// returns it as the Location header will carry it. The decision is made on
// the final, resolved form (issue 12, defect 13): dot segments are removed
// first, as http.Redirect and browsers do, and a backslash or control
// character anywhere refuses the value, since browsers read "/\\" as "//".
func localPath(next, def string) string {
	if next == "" || len(next) > 2048 || strings.IndexFunc(next, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '\\' }) >= 0 {
		return def
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.Opaque != "" || u.User != nil ||
		!strings.HasPrefix(u.EscapedPath(), "/") || strings.ContainsAny(u.Path, "\\\x00") {
		return def
	}
	escaped := u.EscapedPath()
	clean := path.Clean(escaped)
	if strings.HasSuffix(escaped, "/") && clean != "/" {
		clean += "/"
	}
	if !strings.HasPrefix(clean, "/") || strings.HasPrefix(clean, "//") {
		return def
	}
	if u.RawQuery != "" {
		clean += "?" + u.RawQuery
	}
	return clean
}

// view is the data of every page.
type view struct {
	Lang   string
	Path   string
	query  url.Values // of a GET, kept by the language switch (a link's token)
	CSRF   string
	Error  string
	Notice string
	Fields map[string]string // field → message
	Next   string

	User     directory.User
	Enrol    auth.Enrolment
	Account  bool // enrolment from the account page
	HasOTP   bool
	Token    string
	Purpose  string
	Mails    []mail.Stored
	Timezone string
	Console  bool // the user may use the admin console (a link on /account)

	// PasskeysOn offers passkeys; Passkeys are the user's own (/account),
	// HasPassword whether registering one asks for the password.
	PasskeysOn  bool
	Passkeys    []store.Passkey
	HasPassword bool
}

// QR is the enrolment QR code as a URL the template may put into src.
// html/template refuses data: URLs by default; this one is built by
// package auth from PNG bytes, so it is safe, and nothing else is let
// through.
func (v *view) QR() template.URL {
	if !strings.HasPrefix(v.Enrol.QRDataURL, "data:image/png;base64,") ||
		strings.ContainsAny(v.Enrol.QRDataURL, "\"'<> ") {
		return ""
	}
	return template.URL(v.Enrol.QRDataURL)
}

// When is t in the user's time zone (UTC when it has none), to the minute.
func (v *view) When(t time.Time) string {
	loc, err := time.LoadLocation(v.User.Timezone)
	if err != nil || v.User.Timezone == "" {
		loc = time.UTC
	}
	return t.In(loc).Format("2006-01-02 15:04 MST")
}

// T looks a text up in the page's language.
func (v *view) T(id string, args ...any) string { return messages.T(v.Lang, id, args...) }

// Name is a person's name in the page's language order (i18n.PersonName).
func (v *view) Name(first, last string) string { return i18n.PersonName(v.Lang, first, last) }

// LangURL is the current page in language l, keeping its query (so a
// mail link's token survives the switch).
func (v *view) LangURL(l string) string {
	q := url.Values{}
	for k, vals := range v.query {
		q[k] = vals
	}
	q.Set("lang", l)
	return v.Path + "?" + q.Encode()
}

// Langs lists the language switch.
func (v *view) Langs() []string { return i18n.Languages }

// fieldErrors puts directory field errors on the view, translated where
// the catalogue knows the field and code.
func (v *view) fieldErrors(err error) bool {
	var fe directory.FieldErrors
	if !errors.As(err, &fe) {
		return false
	}
	for _, e := range fe {
		msg := e.Message
		if id := "err." + e.Field + "." + e.Code; messages.Has(v.Lang, id) {
			msg = messages.T(v.Lang, id)
			if v.Lang == i18n.English && e.Message != "" {
				msg = e.Message
			}
		}
		if _, dup := v.Fields[e.Field]; !dup {
			v.Fields[e.Field] = msg
		}
	}
	return true
}
