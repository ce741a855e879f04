package signin_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"opsiam/internal/auth"
	"opsiam/internal/directory"
	"opsiam/internal/mail"
	"opsiam/internal/signin"
	"opsiam/internal/store"
	"opsiam/internal/store/sqlstore"
	"opsiam/internal/store/sqlstore/sqltest"
)

var fastParams = auth.Params{Time: 1, MemoryKiB: 64, Threads: 1, KeyLen: 32, SaltLen: 16}

// server is the sign-in pages on a real store, served by httptest.
type server struct {
	*httptest.Server
	db   *sqlstore.DB
	auth *auth.Service
	box  *mail.DevMailbox
}

type option func(*signin.Config)

func openDB(t testing.TB, dsn string) *sqlstore.DB {
	t.Helper()
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return db
}

func sqliteDSN(t *testing.T) string { return filepath.Join(t.TempDir(), "s.db") }

// newServer serves the pages over db (a fresh one on SQLite when nil).
func newServer(t *testing.T, db *sqlstore.DB, opts ...option) *server {
	t.Helper()
	if db == nil {
		db = openDB(t, sqliteDSN(t))
	}
	svc, err := auth.New(db, auth.Hasher{Params: fastParams}, auth.DefaultPolicy(), nil)
	if err != nil {
		t.Fatal(err)
	}
	box := &mail.DevMailbox{}
	cfg := signin.Config{Auth: svc, DevMail: box, LoginPerMinute: 1000}
	for _, o := range opts {
		o(&cfg)
	}
	h, err := signin.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	h.Mount(mux)
	mux.HandleFunc("GET /api/whoami", func(w http.ResponseWriter, r *http.Request) {
		id, ok, err := h.SessionUser(r)
		if err != nil || !ok {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		io.WriteString(w, string(id))
	})
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	return &server{Server: ts, db: db, auth: svc, box: box}
}

// user creates an enabled user with a password.
func (s *server) user(t *testing.T, name, pw string, otpRequired bool) directory.User {
	t.Helper()
	return createUser(t, s.db, s.auth.Hasher, name, pw, otpRequired)
}

func createUser(t testing.TB, db *sqlstore.DB, h auth.Hasher, name, pw string, otpRequired bool) directory.User {
	t.Helper()
	ctx := context.Background()
	u, err := db.CreateUser(ctx, directory.User{Username: name, Email: name + "@example.test", FirstName: "Taro",
		LastName: "Yamada", Enabled: true, OTPRequired: otpRequired, Timezone: "Asia/Tokyo"})
	if err != nil {
		t.Fatal(err)
	}
	if pw != "" {
		hash, _ := h.Hash(pw)
		if err := db.SetPasswordHash(ctx, u.ID, hash); err != nil {
			t.Fatal(err)
		}
	}
	return u
}

// browser is an HTTP client with cookies that fills in the form token.
type browser struct {
	t    *testing.T
	c    *http.Client
	base string
	lang string
}

func newBrowser(t *testing.T, base string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, c: &http.Client{Jar: jar}, base: base, lang: "en"}
}

func (b *browser) do(req *http.Request) (int, string) {
	b.t.Helper()
	if b.lang != "" {
		req.Header.Set("Accept-Language", b.lang)
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func (b *browser) get(path string) (int, string) {
	b.t.Helper()
	req, _ := http.NewRequest("GET", b.base+path, nil)
	return b.do(req)
}

// post sends a form with the form token read from the cookie jar.
func (b *browser) post(path string, form url.Values) (int, string) {
	b.t.Helper()
	if form.Get("csrf") == "" {
		form.Set("csrf", b.cookie("opsiam_csrf"))
	}
	req, _ := http.NewRequest("POST", b.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

func (b *browser) cookie(name string) string {
	u, _ := url.Parse(b.base)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// signIn goes through the password step.
func (b *browser) signIn(login, pw string) (int, string) {
	b.t.Helper()
	b.get("/login")
	return b.post("/login", url.Values{"username": {login}, "password": {pw}})
}

var secretRE = regexp.MustCompile(`id="otp-secret">([A-Z2-7]+)<`)

func mustContain(t *testing.T, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Fatalf("page lacks %q:\n%s", w, body)
		}
	}
}

// databases runs fn on SQLite and PostgreSQL.
func databases(t *testing.T, fn func(t *testing.T, dsn string)) {
	t.Run("SQLite", func(t *testing.T) { fn(t, sqliteDSN(t)) })
	t.Run("Postgres", func(t *testing.T) { fn(t, sqltest.Postgres(t)) })
}

func storeAuditLock(u directory.UserID) store.AuditQuery {
	return store.AuditQuery{TargetID: string(u), Action: "user.lock"}
}
