package scim_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"opsiam/internal/auth"
	"opsiam/internal/directory"
	"opsiam/internal/httpapi"
	"opsiam/internal/manage"
	"opsiam/internal/scim"
	"opsiam/internal/store"
	"opsiam/internal/store/sqlstore"
	"opsiam/internal/store/sqlstore/sqltest"
)

var fastHasher = auth.Hasher{Params: auth.Params{Time: 1, MemoryKiB: 64, Threads: 1, KeyLen: 32, SaltLen: 16}}

// env is a SCIM server on a fresh, bootstrapped database, built as serve
// builds it, with the admin's platform token.
type env struct {
	t     testing.TB
	db    *sqlstore.DB
	svc   *manage.Service
	srv   *httptest.Server
	admin string
	dsn   string
}

// eachDB runs fn on SQLite and on PostgreSQL (OPSIAM_TEST_POSTGRES_DSN).
func eachDB(t *testing.T, fn func(t *testing.T, e *env)) {
	t.Run("SQLite", func(t *testing.T) { fn(t, newEnv(t, sqltest.SQLiteDSN(t))) })
	t.Run("Postgres", func(t *testing.T) { fn(t, newEnv(t, sqltest.Postgres(t))) })
}

func newEnv(t testing.TB, dsn string) *env {
	t.Helper()
	ctx := context.Background()
	db := sqltest.Open(t, dsn)
	if _, err := manage.Bootstrap(ctx, db, fastHasher, "admin password 1"); err != nil {
		t.Fatal(err)
	}
	svc := &manage.Service{Store: db, Graphs: &manage.RoleGraphs{Store: db}, Hasher: fastHasher, Now: time.Now}
	api := &httpapi.API{Manage: svc, Now: time.Now,
		Credentials: []httpapi.Credential{httpapi.PlatformToken(auth.PlatformTokens{Store: db, Now: time.Now})}}
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	(&scim.Server{Manage: svc, BaseURL: srv.URL, Caller: func(r *http.Request) (manage.Caller, error) {
		c, err := api.PlatformCaller(r)
		if err == httpapi.ErrUnauthenticated {
			return c, scim.ErrUnauthenticated
		}
		return c, err
	}}).Mount(mux)
	e := &env{t: t, db: db, svc: svc, srv: srv, dsn: dsn}
	e.admin = e.token("admin")
	return e
}

// token issues a platform token for the user username.
func (e *env) token(username string) string {
	e.t.Helper()
	ctx := context.Background()
	u, err := e.db.GetUserByUsername(ctx, directory.Scope{}, username)
	if err != nil {
		e.t.Fatal(err)
	}
	tok, _, err := e.svc.IssueToken(ctx, manage.SystemCaller("", "test"), u.ID, time.Time{})
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

// user creates a user through the use cases, with roles by name.
func (e *env) user(username string, customer directory.CustomerID, roles ...string) directory.User {
	e.t.Helper()
	ctx := context.Background()
	u, err := e.svc.CreateUser(ctx, manage.SystemCaller("", "test"), directory.User{Username: username,
		Email: username + "@example.com", FirstName: "F" + username, LastName: "L" + username, Enabled: true, CustomerID: customer})
	if err != nil {
		e.t.Fatal(err)
	}
	var ids []directory.RoleID
	for _, name := range roles {
		r, err := e.db.GetRoleByName(ctx, name)
		if err != nil {
			e.t.Fatal(err)
		}
		ids = append(ids, r.ID)
	}
	if len(ids) > 0 {
		if err := e.svc.AssignUserRoles(ctx, manage.SystemCaller("", "test"), u.ID, ids); err != nil {
			e.t.Fatal(err)
		}
	}
	return u
}

func (e *env) customer(code string) directory.Customer {
	e.t.Helper()
	c, err := e.svc.CreateCustomer(context.Background(), manage.SystemCaller("", "test"), directory.Customer{Code: code, Name: "Customer " + code})
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// resp is one answer with its body decoded.
type resp struct {
	status int
	header http.Header
	raw    string
	body   map[string]any
}

func (r resp) str(path ...string) string {
	var v any = r.body
	for _, p := range path {
		m, _ := v.(map[string]any)
		v = m[p]
	}
	s, _ := v.(string)
	return s
}

func (r resp) resources() []map[string]any {
	var out []map[string]any
	list, _ := r.body["Resources"].([]any)
	for _, it := range list {
		out = append(out, it.(map[string]any))
	}
	return out
}

func (r resp) total() int { n, _ := r.body["totalResults"].(float64); return int(n) }

// scimType is the scimType of an error answer.
func (r resp) scimType() string { return r.str("scimType") }

// call sends a request to the SCIM server; body is JSON-encoded unless it
// is a string.
func (e *env) call(method, path, token string, body any, header ...string) resp {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.srv.URL+scim.Prefix+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := resp{status: res.StatusCode, header: res.Header, raw: string(raw)}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out.body); err != nil {
			e.t.Fatalf("%s %s: answer is not JSON: %s", method, path, raw)
		}
		if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/scim+json") {
			e.t.Errorf("%s %s: Content-Type %q", method, path, ct)
		}
	}
	if out.status >= 400 && out.status != 413 {
		if s, _ := out.body["schemas"].([]any); len(s) != 1 || s[0] != "urn:ietf:params:scim:api:messages:2.0:Error" || out.str("status") == "" {
			e.t.Errorf("%s %s: %d is not in the SCIM error schema: %s", method, path, out.status, raw)
		}
	}
	return out
}

// must fails the test unless r has status want.
func must(t testing.TB, r resp, want int) resp {
	t.Helper()
	if r.status != want {
		t.Fatalf("status %d, want %d: %s", r.status, want, r.raw)
	}
	return r
}

var storeAll = store.ListQuery{Limit: 1000}

type store_Tx = store.Tx

// events counts the outbox events of topic, read with SQL beside the store.
func (e *env) events(topic string) int {
	e.t.Helper()
	driver, dsn := "sqlite", e.dsn
	if strings.HasPrefix(dsn, "postgres") {
		driver = "pgx"
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		e.t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM outbox_events WHERE topic = $1`, topic).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

func sqltestDSN(t *testing.T) string { return sqltest.SQLiteDSN(t) }
