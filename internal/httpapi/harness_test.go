package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
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
	"opsiam/internal/oidc"
	"opsiam/internal/provision"
	"opsiam/internal/provision/gitlab"
	"opsiam/internal/provision/gitlab/gitlabfake"
	"opsiam/internal/provision/webhook"
	"opsiam/internal/seal"
	"opsiam/internal/store/sqlstore"
	"opsiam/internal/store/sqlstore/sqltest"
)

var fastHasher = auth.Hasher{Params: auth.Params{Time: 1, MemoryKiB: 64, Threads: 1, KeyLen: 32, SaltLen: 16}}

// env is a running API on a fresh, bootstrapped database, with the admin's
// platform token.
type env struct {
	t      testing.TB
	db     *sqlstore.DB
	svc    *manage.Service
	srv    *httptest.Server
	admin  string // admin's token
	adm    directory.User
	doc    *oaDoc
	api    *httpapi.API
	gitlab *gitlabfake.Fake
}

type dbCase struct {
	name string
	dsn  func(t *testing.T) string
}

var sqliteOnly = []dbCase{{"SQLite", func(t *testing.T) string { return sqltest.SQLiteDSN(t) }}}

var bothDatabases = append(sqliteOnly, dbCase{"Postgres", func(t *testing.T) string { return sqltest.Postgres(t) }})

func eachDB(t *testing.T, dbs []dbCase, fn func(t *testing.T, e *env)) {
	for _, tc := range dbs {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel() // each database case has its own database and server
			fn(t, newEnv(t, tc.dsn(t), nil))
		})
	}
}

func newEnv(t testing.TB, dsn string, skills *directory.SkillConfig) *env {
	t.Helper()
	ctx := context.Background()
	db := sqltest.Open(t, dsn)
	if _, err := manage.Bootstrap(ctx, db, fastHasher, "admin password 1"); err != nil {
		t.Fatal(err)
	}
	idpBox, err := seal.New([32]byte{9}, "test identity provider secrets")
	if err != nil {
		t.Fatal(err)
	}
	svc := &manage.Service{Store: db, Graphs: &manage.RoleGraphs{Store: db}, Hasher: fastHasher, Now: time.Now, IdPSecrets: idpBox}
	api := &httpapi.API{Manage: svc, Skills: skills, Now: time.Now,
		Outbox:      &provision.Outbox{Store: db, Now: time.Now},
		Webhooks:    &webhook.Service{Store: db, Now: time.Now},
		Clients:     &oidc.ClientService{Store: db, Now: time.Now},
		Credentials: []httpapi.Credential{httpapi.PlatformToken(auth.PlatformTokens{Store: db, Now: time.Now})}}
	fake := gitlabfake.New("glpat-test")
	gl := httptest.NewServer(fake)
	t.Cleanup(gl.Close)
	if api.GitLab, err = gitlab.New(gitlab.Config{URL: gl.URL, Token: "glpat-test"}); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	api.Mount(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	adm, err := db.GetUserByUsername(ctx, directory.Scope{}, "admin")
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := svc.IssueToken(ctx, manage.SystemCaller("", "test"), adm.ID, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, db: db, svc: svc, srv: srv, admin: tok, adm: adm, api: api, gitlab: fake}
}

// resp is one answer: status, headers and the body decoded into a map
// (or a list under key "_").
type resp struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

func (r resp) str(k string) string { s, _ := r.body[k].(string); return s }

func (r resp) items() []map[string]any {
	var out []map[string]any
	for _, it := range r.body["items"].([]any) {
		out = append(out, it.(map[string]any))
	}
	return out
}

// fieldErrors lists field/code of a problem document.
func (r resp) fieldErrors() []string {
	var out []string
	errs, _ := r.body["errors"].([]any)
	for _, e := range errs {
		m := e.(map[string]any)
		out = append(out, m["field"].(string)+"/"+m["code"].(string))
	}
	return out
}

type req struct {
	method, path, token string
	body                any // string is sent as is
	header              map[string]string
}

func (e *env) do(r req) resp {
	e.t.Helper()
	var body io.Reader
	switch b := r.body.(type) {
	case nil:
	case string:
		body = strings.NewReader(b)
	case []byte:
		body = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		body = bytes.NewReader(j)
	}
	hr, err := http.NewRequest(r.method, e.srv.URL+"/api/v1"+r.path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if r.token != "" {
		hr.Header.Set("Authorization", "Bearer "+r.token)
	}
	if body != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	for k, v := range r.header {
		hr.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(hr)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := resp{status: res.StatusCode, header: res.Header, raw: raw}
	if e.doc == nil {
		e.doc = loadDoc(e.t)
	}
	if err := e.doc.checkResponse(r.method, hr.URL.Path, out.status, res.Header.Get("Content-Type"), raw); err != nil {
		e.t.Fatalf("%s %s: answer does not match openapi.json: %v\n%.500s", r.method, r.path, err, raw)
	}
	if len(raw) > 0 && !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") {
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			e.t.Fatalf("%s %s: answer is not JSON: %q", r.method, r.path, raw)
		}
		if m, ok := v.(map[string]any); ok {
			out.body = m
		}
	}
	if out.status >= 400 && res.Header.Get("Content-Type") != "application/problem+json" {
		e.t.Fatalf("%s %s: error %d without a problem document (%s)", r.method, r.path, out.status, res.Header.Get("Content-Type"))
	}
	return out
}

// must does r as admin and fails unless the status is want.
func (e *env) must(want int, method, path string, body any) resp {
	e.t.Helper()
	r := e.do(req{method: method, path: path, token: e.admin, body: body})
	if r.status != want {
		e.t.Fatalf("%s %s = %d, want %d: %s", method, path, r.status, want, r.raw)
	}
	return r
}

// userBody is a valid user creation body.
func userBody(name string, extra map[string]any) map[string]any {
	b := map[string]any{"username": name, "email": name + "@example.com", "first_name": "First", "last_name": "Last"}
	for k, v := range extra {
		b[k] = v
	}
	return b
}

// roleID finds a role by name through the API.
func (e *env) roleID(name string) string {
	e.t.Helper()
	r, err := e.db.GetRoleByName(context.Background(), name)
	if err != nil {
		e.t.Fatalf("role %s: %v", name, err)
	}
	return string(r.ID)
}

// token issues a platform token for user id through the API.
func (e *env) token(id string) string {
	e.t.Helper()
	return e.must(201, "POST", "/users/"+id+"/token", nil).str("token")
}

var errBadSession = fmt.Errorf("session: %w", httpapi.ErrBadCredential)

func httpapiCookie(a httpapi.Authenticator) httpapi.Credential {
	return httpapi.Credential{Name: "session", Authenticate: a, Cookie: true}
}
