package oidc

import (
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"opsiam/internal/auth"
	"opsiam/internal/directory"
	"opsiam/internal/manage"
	"opsiam/internal/oidc/oidctest"
	"opsiam/internal/store"
	"opsiam/internal/store/sqlstore"
	"opsiam/internal/store/sqlstore/sqltest"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// testEnv is a provider on a real database behind a real HTTP server, with
// a minimal test-only sign-in page (/login: a form posting username and
// password, then a signed session cookie). The acceptance tests in
// cmd/opsiam go through the product's real sign-in page instead.
type testEnv struct {
	t        testing.TB
	db       *sqlstore.DB
	prov     *Provider
	srv      *httptest.Server
	issuer   string
	clients  *ClientService
	clock    *clock
	hasher   auth.Hasher
	logins   atomic.Int32 // GET /login: password prompts shown
	sessKey  []byte
	loggedIn atomic.Int32
	reauths  atomic.Int32 // GET /login?reauth=1: new sign-ins asked for
	// signedInAt holds each session cookie's sign-in time (Config.AuthTime).
	signedInAt sync.Map
	// loginSkew is added to the sign-in times recorded: the sign-in page's
	// replica has a clock that is off.
	loginSkew time.Duration
	replicas  int // providers sharing the database; requests alternate
	// mfa names the users whose sign-in includes a one-time code.
	mfa sync.Map
	// ended holds the sids of platform sessions ended (PlatformSessions.End).
	ended     sync.Map
	endCalls  atomic.Int32
	sessionTo time.Duration // a session's absolute end after sign-in; default 10h
}

// platform is the test's PlatformSessions over the test sessions.
type platform struct{ e *testEnv }

func (p platform) Live(_ context.Context, _, sid string) (bool, error) {
	_, ended := p.e.ended.Load(sid)
	return !ended, nil
}

func (p platform) End(_ context.Context, _, sid, _ string) error {
	p.e.endCalls.Add(1)
	p.e.ended.Store(sid, true)
	return nil
}

type envOption func(*Config)

func openDB(t testing.TB, postgres bool) *sqlstore.DB {
	t.Helper()
	dsn := filepath.Join(t.TempDir(), "opsiam.db")
	if postgres {
		dsn = sqltest.Postgres(t)
	}
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

func newEnv(t testing.TB, opts ...envOption) *testEnv {
	return newEnvOn(t, openDB(t, false), 1, opts...)
}

func newEnvOn(t testing.TB, db *sqlstore.DB, replicas int, opts ...envOption) *testEnv {
	t.Helper()
	ctx := context.Background()
	e := &testEnv{t: t, db: db, replicas: replicas, clock: &clock{t: time.Now().UTC().Truncate(time.Second)},
		hasher:  auth.Hasher{Params: auth.Params{Time: 1, MemoryKiB: 64, Threads: 1, KeyLen: 32, SaltLen: 16}},
		sessKey: []byte("test session key")}
	if _, err := manage.Bootstrap(ctx, db, e.hasher, "an admin password 1"); err != nil {
		t.Fatal(err)
	}
	// Requests alternate between the replicas, like a load balancer.
	var muxes []*http.ServeMux
	var next atomic.Uint32
	e.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		muxes[int(next.Add(1))%len(muxes)].ServeHTTP(w, r)
	}))
	e.issuer = "http://" + e.srv.Listener.Addr().String()
	cfg := Config{Issuer: e.issuer, KEK: [32]byte{1, 2, 3}, Store: db, Graphs: &manage.RoleGraphs{Store: db},
		Sessions: e.session, Now: e.clock.Now, SessionKey: func(r *http.Request) string {
			if ck, err := r.Cookie("test_session"); err == nil {
				return ck.Value
			}
			return ""
		}, LoginURL: func(ret string) string { return "/login?return=" + url.QueryEscape(ret) },
		ReauthURL: func(ret string) string { return "/login?reauth=1&return=" + url.QueryEscape(ret) },
		SessionInfo: func(r *http.Request) SessionInfo {
			var in SessionInfo
			if ck, err := r.Cookie("test_session"); err == nil {
				if t, ok := e.signedInAt.Load(ck.Value); ok {
					in.AuthTime = t.(time.Time)
					in.End = in.AuthTime.Add(cmp.Or(e.sessionTo, 10*time.Hour))
				}
				id, _, _ := strings.Cut(ck.Value, ":")
				_, mfa := e.mfa.Load(id)
				in.AMR = AMROf(mfa, "")
			}
			return in
		},
		PlatformSessions: platform{e},
		EndSession: func(w http.ResponseWriter, r *http.Request) error {
			http.SetCookie(w, &http.Cookie{Name: "test_session", Value: "", Path: "/", MaxAge: -1})
			return nil
		}}
	for _, o := range opts {
		o(&cfg)
	}
	for i := 0; i < max(e.replicas, 1); i++ {
		p, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Maintain(ctx); err != nil {
			t.Fatal(err)
		}
		mux := http.NewServeMux()
		p.Mount(mux)
		mux.HandleFunc("/login", e.login)
		muxes = append(muxes, mux)
		if e.prov == nil {
			e.prov = p
		}
	}
	e.srv.Start()
	t.Cleanup(e.srv.Close)
	e.clients = &ClientService{Store: db, Now: e.clock.Now}
	return e
}

func (e *testEnv) sign(v string) string {
	m := hmac.New(sha256.New, e.sessKey)
	m.Write([]byte(v))
	return v + "." + hex.EncodeToString(m.Sum(nil))
}

// session is the test's SessionReader: a cookie holding a signed user id
// and a random value.
func (e *testEnv) session(r *http.Request) (directory.UserID, bool, error) {
	ck, err := r.Cookie("test_session")
	if err != nil {
		return "", false, nil
	}
	v, _, ok := strings.Cut(ck.Value, ".")
	if !ok || !hmac.Equal([]byte(e.sign(v)), []byte(ck.Value)) {
		return "", false, nil
	}
	if _, ended := e.ended.Load(SID(ck.Value)); ended {
		return "", false, nil
	}
	id, _, _ := strings.Cut(v, ":")
	return directory.UserID(id), true, nil
}

var loginForm = `<form method="post" action="/login"><input type="hidden" name="return" value="%s">
<input name="username"><input type="password" name="password"></form>`

func (e *testEnv) login(w http.ResponseWriter, r *http.Request) {
	ret := r.FormValue("return")
	if !strings.HasPrefix(ret, "/") || strings.HasPrefix(ret, "//") {
		http.Error(w, "bad return", http.StatusBadRequest)
		return
	}
	if r.Method == http.MethodGet {
		e.logins.Add(1)
		if r.FormValue("reauth") == "1" {
			e.reauths.Add(1)
		}
		fmt.Fprintf(w, loginForm, html.EscapeString(ret))
		return
	}
	ctx := r.Context()
	u, err := e.db.GetUserByLogin(ctx, r.FormValue("username"))
	if err == nil {
		var hash string
		if hash, err = e.db.PasswordHash(ctx, u.ID); err == nil {
			var ok bool
			if ok, _, err = e.hasher.Verify(hash, r.FormValue("password")); err == nil && !ok {
				err = fmt.Errorf("wrong password")
			}
		}
	}
	if err != nil {
		http.Error(w, "sign-in failed", http.StatusUnauthorized)
		return
	}
	e.loggedIn.Add(1)
	// a new random value per sign-in, as the real session cookie
	value := e.sign(string(u.ID) + ":" + randomToken())
	e.signedInAt.Store(value, e.clock.Now().Add(e.loginSkew))
	http.SetCookie(w, &http.Cookie{Name: "test_session", Value: value, Path: "/", HttpOnly: true})
	http.Redirect(w, r, ret, http.StatusFound)
}

// user creates an enabled user with a password, member of global, holding
// the named roles, optionally in a new customer.
func (e *testEnv) user(name string, customer string, roles ...string) directory.User {
	e.t.Helper()
	ctx := context.Background()
	var u directory.User
	err := e.db.InTx(ctx, func(tx store.Tx) error {
		in := directory.User{Username: name, Email: name + "@example.com", FirstName: "First" + name,
			LastName: "Last" + name, Enabled: true, EmailVerified: true, Timezone: "Asia/Tokyo"}
		if customer != "" {
			c, err := tx.CreateCustomer(ctx, directory.Customer{Code: customer, Name: "Customer " + customer, State: directory.CustomerValid})
			if err != nil {
				return err
			}
			in.CustomerID = c.ID
		}
		var err error
		if u, err = tx.CreateUser(ctx, in); err != nil {
			return err
		}
		g, err := tx.GetGroupByName(ctx, directory.GlobalGroupName)
		if err != nil {
			return err
		}
		if err := tx.AddMember(ctx, g.ID, u.ID); err != nil {
			return err
		}
		for _, rn := range roles {
			r, err := tx.GetRoleByName(ctx, rn)
			if err != nil {
				return fmt.Errorf("role %s: %w", rn, err)
			}
			if err := tx.AssignUserRole(ctx, u.ID, r.ID); err != nil {
				return err
			}
		}
		h, err := e.hasher.Hash("password of " + name)
		if err != nil {
			return err
		}
		return tx.SetPasswordHash(ctx, u.ID, h)
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

// client registers a confidential client whose redirect URI is on a
// fake RP host (never contacted: the browser stops at the redirect).
func (e *testEnv) client(id string, itsm bool, grants ...string) (store.OIDCClient, string) {
	e.t.Helper()
	c, secret, err := e.clients.Create(context.Background(), Actor{Name: "test"}, ClientInput{
		ClientID: id, Name: "App " + id, RedirectURIs: []string{oidctest.RedirectURI(id)},
		PostLogoutRedirectURIs: []string{oidctest.PostLogoutURI(id)}, GrantTypes: grants, ITSM: itsm,
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return c, secret
}
