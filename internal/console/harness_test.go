package console_test

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
	"time"

	"opsiam/internal/auth"
	"opsiam/internal/console"
	"opsiam/internal/directory"
	"opsiam/internal/manage"
	"opsiam/internal/oidc"
	"opsiam/internal/provision"
	"opsiam/internal/seal"
	"opsiam/internal/signin"
	"opsiam/internal/store/sqlstore"
	"opsiam/internal/store/sqlstore/sqltest"
)

var fastParams = auth.Params{Time: 1, MemoryKiB: 64, Threads: 1, KeyLen: 32, SaltLen: 16}

const adminPassword = "console admin password 1"

// server is the real sign-in pages and console over a fresh SQLite store.
type server struct {
	*httptest.Server
	db  *sqlstore.DB
	svc *manage.Service
}

func openStore(tb testing.TB) *sqlstore.DB {
	tb.Helper()
	return openDSN(tb, filepath.Join(tb.TempDir(), "console.db"))
}

// openDSN opens, migrates and bootstraps the database at dsn.
func openDSN(tb testing.TB, dsn string) *sqlstore.DB {
	tb.Helper()
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, dsn)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		tb.Fatal(err)
	}
	if _, err := manage.Bootstrap(ctx, db, auth.Hasher{Params: fastParams}, adminPassword); err != nil {
		tb.Fatal(err)
	}
	return db
}

// handler builds the mux of `opsiam serve` for the pages: sign-in and console.
func handler(tb testing.TB, db *sqlstore.DB, git console.GitMembersFunc, opts ...func(*console.Config)) (http.Handler, *manage.Service) {
	tb.Helper()
	hasher := auth.Hasher{Params: fastParams}
	box, berr := seal.New([32]byte{3}, "test identity provider secrets")
	if berr != nil {
		tb.Fatal(berr)
	}
	svc := &manage.Service{Store: db, Graphs: &manage.RoleGraphs{Store: db}, Hasher: hasher, Timezone: "Asia/Tokyo", IdPSecrets: box}
	as := authService(tb, db)
	si, err := signin.New(signin.Config{Auth: as, LoginPerMinute: 10000})
	if err != nil {
		tb.Fatal(err)
	}
	cfg := console.Config{Manage: svc, Auth: as, GitMembers: git, Clients: &oidc.ClientService{Store: db},
		Outbox: &provision.Outbox{Store: db, Now: time.Now}}
	for _, o := range opts {
		o(&cfg)
	}
	c, err := console.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	mux := http.NewServeMux()
	si.Mount(mux)
	c.Mount(mux)
	return mux, svc
}

func newServer(t *testing.T) *server {
	t.Helper()
	return newServerOn(t, openStore(t))
}

// newServerOn serves the pages over db.
func newServerOn(t *testing.T, db *sqlstore.DB) *server {
	t.Helper()
	h, svc := handler(t, db, nil)
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return &server{Server: ts, db: db, svc: svc}
}

// newServerPaged serves the pages with pageSize rows per list page.
func newServerPaged(t *testing.T, pageSize int) *server {
	t.Helper()
	db := openStore(t)
	h, svc := handler(t, db, nil, func(c *console.Config) { c.PageSize = pageSize })
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return &server{Server: ts, db: db, svc: svc}
}

var sys = manage.SystemCaller("test", "test")

// user creates an enabled user with a password through the manage layer.
func (s *server) user(t *testing.T, name string, roles ...string) directory.User {
	t.Helper()
	ctx := context.Background()
	u, err := s.svc.CreateUser(ctx, sys, directory.User{Username: name, Email: name + "@example.test", FirstName: "Taro",
		LastName: "Yamada", Enabled: true, Timezone: "Asia/Tokyo"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.svc.SetPassword(ctx, sys, name, name+" password 1"); err != nil {
		t.Fatal(err)
	}
	var ids []directory.RoleID
	for _, rn := range roles {
		r, err := s.db.GetRoleByName(ctx, rn)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.ID)
	}
	if len(ids) > 0 {
		if err := s.svc.AssignUserRoles(ctx, sys, u.ID, ids); err != nil {
			t.Fatal(err)
		}
	}
	return u
}

// client is an HTTP client with cookies that signs in through /login.
type client struct {
	t    *testing.T
	c    *http.Client
	base string
}

func (s *server) signIn(t *testing.T, name, pw string) *client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	cl := &client{t: t, c: &http.Client{Jar: jar}, base: s.URL}
	cl.get("/login")
	form := url.Values{"username": {name}, "password": {pw}, "csrf": {cl.cookie("opsiam_csrf")}}
	req, _ := http.NewRequest("POST", s.URL+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := cl.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if cl.cookie(signin.SessionCookie) == "" {
		t.Fatalf("sign-in of %s failed: status %d", name, resp.StatusCode)
	}
	return cl
}

func (cl *client) cookie(name string) string {
	u, _ := url.Parse(cl.base)
	for _, c := range cl.c.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

func (cl *client) do(req *http.Request) (int, string) {
	cl.t.Helper()
	req.Header.Set("Accept-Language", "en")
	resp, err := cl.c.Do(req)
	if err != nil {
		cl.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (cl *client) get(path string) (int, string) {
	cl.t.Helper()
	req, _ := http.NewRequest("GET", cl.base+path, nil)
	return cl.do(req)
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// post sends a form with the form token of the console page at from.
func (cl *client) post(from, path string, form url.Values) (int, string) {
	cl.t.Helper()
	if form.Get("csrf") == "" {
		_, page := cl.get(from)
		m := csrfRE.FindStringSubmatch(page)
		if m == nil {
			cl.t.Fatalf("no form token on %s", from)
		}
		form.Set("csrf", m[1])
	}
	req, _ := http.NewRequest("POST", cl.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return cl.do(req)
}

func mustContain(t *testing.T, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Fatalf("page lacks %q:\n%s", w, body)
		}
	}
}

// managePatchCustomer is a patch that sets only the customer.
func managePatchCustomer(id directory.CustomerID) manage.UserPatch {
	return manage.UserPatch{CustomerID: &id}
}

func authService(tb testing.TB, db *sqlstore.DB) *auth.Service {
	tb.Helper()
	as, err := auth.New(db, auth.Hasher{Params: fastParams}, auth.DefaultPolicy(), nil)
	if err != nil {
		tb.Fatal(err)
	}
	return as
}

// databases runs fn on SQLite and on PostgreSQL (skipped without it
// outside CI).
func databases(t *testing.T, fn func(t *testing.T, s *server)) {
	t.Run("SQLite", func(t *testing.T) { t.Parallel(); fn(t, newServer(t)) })
	t.Run("Postgres", func(t *testing.T) { t.Parallel(); fn(t, newServerOn(t, openDSN(t, sqltest.Postgres(t)))) })
}
