package console

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
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
	"strings"
	"time"

	"opsiam/internal/auth"
	"opsiam/internal/directory"
	"opsiam/internal/i18n"
	"opsiam/internal/manage"
	"opsiam/internal/oidc"
	"opsiam/internal/provision"
	"opsiam/internal/signin"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// Prefix is the path under which the console lives (SPEC §7 "Pages").
const Prefix = "/console/"

// csrfField is the name of the form token field.
const csrfField = "csrf"

// GitMember is one row of a group's Git members tab (G2, P2).
type GitMember struct {
	Username string
	Name     string
	Role     string // GitLab's name of the access level, "No Access" when none
}

// GitMembersFunc lists the Git members of the opsiam group named group whose
// opsiam members are usernames (P2). It is set only when a GitLab target is
// configured; the tab shows "not configured" otherwise.
type GitMembersFunc func(ctx context.Context, group string, usernames []string) ([]GitMember, error)

// Config is what the console needs.
type Config struct {
	Manage *manage.Service
	Auth   *auth.Service
	Log    *slog.Logger
	// Secure marks the language cookie Secure; set it when the issuer is https.
	Secure bool
	// Clients registers OpenID Connect clients (S1) for the Applications
	// area; nil hides it.
	Clients *oidc.ClientService
	// Outbox is the provisioning outbox service (P1) behind the Outbox
	// page; nil hides the page.
	Outbox *provision.Outbox
	// GitMembers lists Git members (P2); nil shows "not configured".
	GitMembers GitMembersFunc
	// PageSize is the number of rows of a list page (default 50).
	PageSize int
	// Templates holds templates/*.html; nil means the ones embedded in the
	// binary. A development flag may point it at the source tree.
	Templates fs.FS
	// BaseURL is the server's public URL, for the redirect URI an identity
	// provider's page shows (issue 18).
	BaseURL string
}

// Console serves the console pages. Build it with New.
type Console struct {
	cfg   Config
	tmpl  map[string]*template.Template
	cop   *http.CrossOriginProtection
	zones []string
}

// pageNames lists every page template; each is parsed with the partials.
func pageNames() []string {
	return []string{"users", "user_form", "user", "user_token", "confirm_pi", "bulk_result",
		"groups", "group_form", "group", "roles", "role_form", "role", "customers", "customer_form",
		"audit", "message", "apps", "app_form", "app_secret", "tomb_choice", "tomb_rename", "outbox", "billing", "idps", "idp_form"}
}

// partials are parsed with every page.
func partials() []string {
	return []string{"templates/layout.html", "templates/assign.html", "templates/roletable.html"}
}

// New parses every template (a broken one fails here, STYLE P11) and checks
// that the message catalogue is complete in both languages.
func New(cfg Config) (*Console, error) {
	if cfg.Manage == nil || cfg.Auth == nil {
		return nil, errors.New("console: Manage and Auth are required")
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.PageSize <= 0 {
		cfg.PageSize = 50
	}
	if err := messages.Check(); err != nil {
		return nil, err
	}
	files := cfg.Templates
	if files == nil {
		files = templateFiles
	}
	c := &Console{cfg: cfg, tmpl: map[string]*template.Template{}, cop: http.NewCrossOriginProtection()}
	// The partials are parsed once and each page gets a clone of them:
	// parsing them again for every page was most of the server's start.
	base, err := template.New("partials").Funcs(templateFuncs()).ParseFS(files, partials()...)
	if err != nil {
		return nil, err
	}
	for _, name := range pageNames() {
		t, err := base.Clone()
		if err == nil {
			t, err = t.ParseFS(files, "templates/"+name+".html")
		}
		if err != nil {
			return nil, err
		}
		if t.Lookup("content") == nil {
			return nil, errors.New("console: template " + name + " defines no content")
		}
		c.tmpl[name] = t
	}
	zones, err := loadZones()
	if err != nil {
		return nil, err
	}
	c.zones = zones
	return c, nil
}

// Mount registers the console's routes on mux.
func (c *Console) Mount(mux *http.ServeMux) {
	static, _ := fs.Sub(staticFiles, "static")
	mux.Handle("GET "+Prefix+"static/", http.StripPrefix(Prefix+"static/", http.FileServerFS(static)))
	mux.Handle("GET /console", http.RedirectHandler(Prefix, http.StatusSeeOther))
	mux.Handle("GET "+Prefix+"{$}", c.page(c.home))
	c.mountUsers(mux)
	c.mountGroups(mux)
	c.mountRoles(mux)
	c.mountCustomers(mux)
	c.mountApps(mux)
	c.mountIdPs(mux)
	c.mountPasskeys(mux)
	c.mountOutbox(mux)
	mux.Handle("GET "+Prefix+"audit", c.page(c.audit))
	mux.Handle("GET "+Prefix+"billing", c.page(c.billing))
	mux.Handle("GET "+Prefix+"pick/users", c.page(c.pickUsers))
	mux.Handle(Prefix, c.page(func(w http.ResponseWriter, r *http.Request, v *view) error { return errNotFound }))
}

// handlerFunc is a page handler that may fail (STYLE P5); its error is
// turned into a page in one place (page).
type handlerFunc func(w http.ResponseWriter, r *http.Request, v *view) error

// page wraps a handler: security headers, the language, the session (or a
// redirect to /login with a return path), the caller's effective roles,
// cross-origin protection and the form token on POST.
func (c *Console) page(fn handlerFunc) http.Handler {
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "same-origin")
		hd.Set("Cache-Control", "no-store")
		i18n.Remember(w, r, c.cfg.Secure)
		v := &view{Lang: i18n.FromRequest(r), Path: r.URL.Path, Query: r.URL.Query(), Fields: map[string]string{},
			outboxOn: c.cfg.Outbox != nil}
		token := ""
		if ck, err := r.Cookie(signin.SessionCookie); err == nil {
			token = ck.Value
		}
		u, _, err := c.cfg.Auth.SignedIn(r.Context(), token)
		if errors.Is(err, auth.ErrNoSession) || (err == nil && !u.Enabled) {
			next := r.URL.Path
			if r.Method != http.MethodGet {
				next = Prefix
			} else if r.URL.RawQuery != "" {
				next += "?" + r.URL.RawQuery
			}
			http.Redirect(w, r, "/login?next="+url.QueryEscape(next), http.StatusSeeOther)
			return
		}
		if err != nil {
			c.fail(w, r, v, err)
			return
		}
		roles, err := c.cfg.Manage.EffectiveRoles(r.Context(), u.ID)
		if err != nil {
			c.fail(w, r, v, err)
			return
		}
		v.Me = &principal{User: u, Roles: roles}
		v.CSRF = formToken(token)
		if r.Method == http.MethodPost {
			// The language switch of a page answering a post points at the
			// page the form was on.
			v.Path, v.Query = Prefix, url.Values{}
			if ref, err := url.Parse(r.Referer()); err == nil && ref.Host == r.Host && strings.HasPrefix(ref.Path, Prefix) {
				v.Path, v.Query = ref.Path, ref.Query()
			}
			r.Body = http.MaxBytesReader(w, r.Body, 256<<10)
			if err := r.ParseForm(); err != nil || !tokenOK(token, r.PostFormValue(csrfField)) {
				v.Error = v.T("err.csrf")
				c.render(w, http.StatusForbidden, "message", v)
				return
			}
		}
		if err := fn(w, r, v); err != nil {
			c.fail(w, r, v, err)
		}
	})
	return c.cop.Handler(inner)
}

// formToken is the form token of a session: an HMAC of a fixed label keyed
// with the session secret, so it is tied to the session, unguessable
// without the (HttpOnly) cookie, and needs no server-side state.
func formToken(session string) string {
	m := hmac.New(sha256.New, []byte(session))
	m.Write([]byte("opsiam console form token"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// tokenOK compares a posted form token with the session's in constant time.
func tokenOK(session, posted string) bool {
	if session == "" || posted == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(formToken(session)), []byte(posted)) == 1
}

// errNotFound is what a caller gets for a thing that does not exist or
// that it may not see (the API's 404 rule).
var errNotFound = errors.New("console: not found")

// errForbidden is what a caller gets who may see a thing but not change it.
var errForbidden = errors.New("console: forbidden")

// fail renders err as a page: 404 for what does not exist or may not be
// seen, 403, 409 for a stale version, and a logged 500 for anything else.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, v *view, err error) {
	status, key := classify(err)
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "5")
	}
	if status >= 500 {
		c.cfg.Log.ErrorContext(r.Context(), "console page failed", "path", r.URL.Path, "method", r.Method, "err", err)
	}
	v.Error = v.T(key)
	var ref *directory.Refusal
	var fe directory.FieldErrors
	switch {
	case errors.As(err, &ref):
		v.Error += " " + ref.Message
	case errors.As(err, &fe) && len(fe) > 0:
		v.Error += " " + fe[0].Message
	}
	c.render(w, status, "message", v)
}

func (c *Console) render(w http.ResponseWriter, status int, name string, v *view) {
	t := c.tmpl[name]
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := t.ExecuteTemplate(w, "layout", v); err != nil {
		c.cfg.Log.Error("console render", "template", name, "err", err)
	}
}

// redirect answers a successful post with 303 See Other (post/redirect/get).
func redirect(w http.ResponseWriter, r *http.Request, path string) error {
	http.Redirect(w, r, path, http.StatusSeeOther)
	return nil
}

// actor is the caller of the use cases: the signed-in user with its
// effective roles and customer, and the client address (issue 13).
func actor(r *http.Request, v *view) manage.Caller {
	a := v.Me.caller()
	a.Source = r.RemoteAddr
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		a.Source = host
	}
	return a
}

// home sends the caller to the first area it may see.
func (c *Console) home(w http.ResponseWriter, r *http.Request, v *view) error {
	if _, ok := v.Me.usersScope(); ok {
		return redirect(w, r, Prefix+"users")
	}
	c.render(w, http.StatusOK, "message", v)
	return nil
}

// formatTime renders t in the viewer's time zone.
func (v *view) formatTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	loc, err := time.LoadLocation(v.Me.User.Timezone)
	if err != nil {
		loc = time.UTC
	}
	return t.In(loc).Format("2006-01-02 15:04:05 MST")
}

// id helpers read path values.
func userID(r *http.Request) directory.UserID { return directory.UserID(r.PathValue("id")) }
func groupID(r *http.Request) directory.GroupID {
	return directory.GroupID(r.PathValue("id"))
}
func roleID(r *http.Request) directory.RoleID { return directory.RoleID(r.PathValue("id")) }
func customerID(r *http.Request) directory.CustomerID {
	return directory.CustomerID(r.PathValue("id"))
}
