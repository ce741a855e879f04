package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"opsiam/internal/directory"
	"opsiam/internal/manage"
	"opsiam/internal/oidc"
	"opsiam/internal/provision"
	"opsiam/internal/provision/webhook"
	"opsiam/internal/store"
)

var placeholder = regexp.MustCompile(`\{[^}]+\}`)

// targets are fresh objects made for each request of the matrix, so that
// one caller's change never decides another caller's answer.
type targets struct {
	u, o, g, g2, r, r2, c, member, w, d, k, p, p2 string
	pk, opk                                       string // passkeys of u and o
}

func makeTargets(t *testing.T, e *env, acme directory.CustomerID, skilled directory.GroupID, n int) targets {
	t.Helper()
	ctx := context.Background()
	a := manage.SystemCaller("", "setup")
	mk := func(name string, customer directory.CustomerID) directory.User {
		u, err := e.svc.CreateUser(ctx, a, directory.User{Username: name, Email: name + "@example.com", FirstName: "F", LastName: "L",
			Enabled: true, CustomerID: customer})
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	u := mk(fmt.Sprintf("tu%d", n), acme)
	o := mk(fmt.Sprintf("to%d", n), "")
	g, _ := e.svc.CreateGroup(ctx, a, directory.Group{Name: fmt.Sprintf("tg%d", n)})
	g2, _ := e.svc.CreateGroup(ctx, a, directory.Group{Name: fmt.Sprintf("tg2-%d", n)})
	r, _ := e.svc.CreateRole(ctx, a, directory.Role{Name: fmt.Sprintf("tr%d", n)})
	r2, _ := e.svc.CreateRole(ctx, a, directory.Role{Name: fmt.Sprintf("tr2-%d", n)})
	c, err := e.svc.CreateCustomer(ctx, a, directory.Customer{Code: fmt.Sprintf("TC%d", n), Name: fmt.Sprintf("Customer %d", n)})
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(e.svc.AddMembers(ctx, a, g.ID, []directory.UserID{u.ID}))
	must(e.svc.AddMembers(ctx, a, skilled, []directory.UserID{u.ID}))
	must(e.svc.AssignGroupRoles(ctx, a, g.ID, []directory.RoleID{r.ID}))
	must(e.svc.AssignUserRoles(ctx, a, u.ID, []directory.RoleID{r.ID}))
	must(e.svc.AddContains(ctx, a, r.ID, []directory.RoleID{r2.ID}))
	must(e.svc.SetRelation(ctx, a, g.ID, g2.ID, directory.RelationManage))
	if _, _, err := e.svc.IssueToken(ctx, a, u.ID, time.Time{}); err != nil {
		t.Fatal(err)
	}
	wh, err := e.api.Webhooks.Create(ctx, provision.Actor{Source: "setup"}, webhook.Input{URL: "https://hooks.example/x", EventTypes: []string{"*"}, Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	k, _, err := e.api.Clients.Create(ctx, oidc.Actor{Source: "setup"}, oidc.ClientInput{ClientID: fmt.Sprintf("tk%d", n), Name: "App",
		RedirectURIs: []string{"https://app.example/cb"}})
	if err != nil {
		t.Fatal(err)
	}
	// Two identity providers of u's customer; u is linked to the first.
	prov := func(name string) directory.IdentityProvider {
		domains := []string{fmt.Sprintf("%s%d.example", name, n)}
		p, err := e.svc.CreateIdentityProvider(ctx, a, manage.ProviderPatch{Name: &name, Issuer: ptr("https://" + domains[0]),
			ClientID: ptr("opsiam"), ClientSecret: ptr("s"), CustomerID: &acme, Domains: &domains})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	p, p2 := prov("idp"), prov("idp-b")
	if _, err := e.svc.LinkIdentity(ctx, a, u.ID, p.ID, fmt.Sprintf("sub%d", n)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.FanOut(ctx, 100000, func(store.Event) []string { return []string{"test"} }, time.Now()); err != nil {
		t.Fatal(err)
	}
	ds, err := e.db.ListDeliveries(ctx, store.DeliveryQuery{Target: "test", Limit: 1})
	if err != nil || len(ds.Items) == 0 {
		t.Fatalf("no delivery: %v", err)
	}
	pk := func(u directory.UserID) string {
		p, err := e.db.CreatePasskey(ctx, store.Passkey{UserID: u, CredentialID: []byte(fmt.Sprintf("cred-%s", u)), PublicKey: []byte{1}, Name: "key"})
		if err != nil {
			t.Fatal(err)
		}
		return p.ID
	}
	return targets{pk: pk(u.ID), opk: pk(o.ID), w: wh.ID, k: k.ID, p: p.ID, p2: p2.ID, d: url.PathEscape(provision.DeliveryID(ds.Items[0].Key())),
		u: string(u.ID), o: string(o.ID), g: string(g.ID), g2: string(g2.ID), r: string(r.ID), r2: string(r2.ID), c: string(c.ID), member: string(u.ID)}
}

// drop deletes the roles of a used set of targets (a request may have
// deleted them already). Every use case loads the role graph, so roles
// left behind by hundreds of sets would make each later call slower
// (issue 17, point 7: the matrix took 16 core-seconds).
func (tg targets) drop(t *testing.T, e *env) {
	t.Helper()
	for _, id := range []string{tg.r, tg.r2} {
		if err := e.db.DeleteRole(context.Background(), directory.RoleID(id)); err != nil && !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("drop role %s: %v", id, err)
		}
	}
}

func (tg targets) fill(s string) string {
	return strings.NewReplacer("{pk}", tg.pk, "{opk}", tg.opk, "{w}", tg.w, "{k}", tg.k, "{d}", tg.d, "{u}", tg.u, "{o}", tg.o, "{g}", tg.g, "{g2}", tg.g2, "{r}", tg.r, "{r2}", tg.r2, "{c}", tg.c, "{p}", tg.p, "{p2}", tg.p2).Replace(s)
}

// TestPermissionMatrix is acceptance 3: every endpoint for the admin, a
// user manager (user_admin), a viewer (Manager: user_viewer), a customer
// manager of Acme, a customer user of Acme, no token, a revoked token and
// a disabled user's token. Codes: 2 = 2xx, 3 = 403, 4 = 404, c = 409
// (replaying a pending delivery), v = 422;
// the last three callers always get 401 (the OpenAPI document excepted).
func TestPermissionMatrix(t *testing.T) {
	t.Parallel() // each test has its own database and server (issue 17, point 7)
	skills := &directory.SkillConfig{Skills: []directory.Skill{{Name: "linux", Groups: []string{"skilled"}}}}
	for _, tc := range bothDatabases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel() // each database case has its own database and server
			permissionMatrix(t, newEnv(t, tc.dsn(t), skills))
		})
	}
}

func permissionMatrix(t *testing.T, e *env) {
	ctx := context.Background()
	a := manage.SystemCaller("", "setup")
	acme, err := e.svc.CreateCustomer(ctx, a, directory.Customer{Code: "ACME", Name: "Acme"})
	if err != nil {
		t.Fatal(err)
	}
	skilled, _ := e.svc.CreateGroup(ctx, a, directory.Group{Name: "skilled"})
	caller := func(name, role string, customer directory.CustomerID) (directory.User, string) {
		u, err := e.svc.CreateUser(ctx, a, directory.User{Username: name, Email: name + "@example.com", FirstName: "F", LastName: "L", Enabled: true, CustomerID: customer})
		if err != nil {
			t.Fatal(err)
		}
		if role != "" {
			if err := e.svc.AssignUserRoles(ctx, a, u.ID, []directory.RoleID{directory.RoleID(e.roleID(role))}); err != nil {
				t.Fatal(err)
			}
		}
		tok, _, err := e.svc.IssueToken(ctx, a, u.ID, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		return u, tok
	}
	_, mgr := caller("mgr", "System Administrator", "")
	_, viewer := caller("viewer", "Manager", "")
	_, cmgr := caller("cmgr", "Customer Manager", acme.ID)
	cuserU, cuser := caller("cuser", "Customer User", acme.ID)
	revokedU, revoked := caller("revoked", "System Security Administrator", "")
	if err := e.svc.RevokeToken(ctx, a, revokedU.ID); err != nil {
		t.Fatal(err)
	}
	disabledU, disabled := caller("disabled", "System Security Administrator", "")
	if _, err := e.svc.SetEnabled(ctx, a, directory.Scope{}, disabledU.ID, false); err != nil {
		t.Fatal(err)
	}
	callers := []struct{ name, token string }{
		{"admin", e.admin}, {"user manager", mgr}, {"viewer", viewer}, {"customer manager", cmgr}, {"customer user", cuser},
		{"no token", ""}, {"revoked token", revoked}, {"disabled user", disabled},
	}

	rows := []struct {
		method, path, body string
		want               string // admin, manager, viewer, customer manager, customer user
	}{
		{"GET", "/openapi.json", "", "22222"},
		{"GET", "/users", "", "22224"},
		{"POST", "/users", `{"username":"nu{n}","email":"nu{n}@example.com","first_name":"N","last_name":"U"}`, "22334"},
		{"POST", "/users/bulk", `{"action":"disable","ids":["{u}"]}`, "22324"},
		{"GET", "/users/{u}", "", "22224"},
		{"GET", "/users/{o}", "", "22244"},
		{"PUT", "/users/{u}", `{"note":"n"}`, "22334"},
		{"PATCH", "/users/{u}", `{"enabled":false}`, "22324"},
		{"PATCH", "/users/{o}", `{"enabled":false}`, "22344"},
		{"DELETE", "/users/{u}", "", "22334"},
		{"GET", "/users/{u}/groups", "", "22224"},
		{"GET", "/users/{u}/roles", "", "22224"},
		{"POST", "/users/{u}/roles", `{"role_ids":["{r2}"]}`, "22334"},
		{"DELETE", "/users/{u}/roles/{r}", "", "22334"},
		{"GET", "/users/{u}/effective-roles", "", "22224"},
		{"GET", "/users/{u}/roles/{r}/why", "", "22224"},
		{"GET", "/users/{u}/token", "", "23334"},
		{"POST", "/users/{u}/token", "", "23334"},
		{"DELETE", "/users/{u}/token", "", "23334"},
		{"POST", "/users/{u}/unlock", "", "22334"},
		{"GET", "/users/{u}/passkeys", "", "22224"},
		{"GET", "/users/{o}/passkeys", "", "22244"},
		{"DELETE", "/users/{u}/passkeys/{pk}", "", "22324"},
		{"DELETE", "/users/{o}/passkeys/{opk}", "", "22344"},
		{"POST", "/users/{u}/password-reset", "", "22324"},
		{"POST", "/users/{o}/password-reset", "", "22344"},
		{"GET", "/groups", "", "22244"},
		{"POST", "/groups", `{"name":"ng{n}"}`, "22344"},
		{"GET", "/groups/{g}", "", "22244"},
		{"PUT", "/groups/{g}", `{"description":"d"}`, "22344"},
		{"PATCH", "/groups/{g}", `{"description":"d"}`, "22344"},
		{"DELETE", "/groups/{g}", "", "22344"},
		{"GET", "/groups/{g}/members", "", "22244"},
		{"POST", "/groups/{g}/members", `{"user_ids":["{o}"]}`, "22344"},
		{"DELETE", "/groups/{g}/members/{u}", "", "22344"},
		{"GET", "/groups/{g}/roles", "", "22244"},
		{"POST", "/groups/{g}/roles", `{"role_ids":["{r2}"]}`, "22344"},
		{"DELETE", "/groups/{g}/roles/{r}", "", "22344"},
		{"GET", "/groups/{g}/relations", "", "22244"},
		{"POST", "/groups/{g}/relations", `{"group_id":"{g}","type":"manage"}`, "22344"},
		{"DELETE", "/groups/{g}/relations/{g2}", "", "22344"},
		{"GET", "/groups/{g}/effective-roles", "", "22244"},
		{"GET", "/groups/{g}/git-members", "", "22244"},
		{"GET", "/roles", "", "22244"},
		{"POST", "/roles", `{"name":"nr{n}"}`, "22344"},
		{"GET", "/roles/{r}", "", "22244"},
		{"PUT", "/roles/{r}", `{"description":"d"}`, "22344"},
		{"PATCH", "/roles/{r}", `{"description":"d"}`, "22344"},
		{"DELETE", "/roles/{r}", "", "22344"},
		{"GET", "/roles/{r}/contains", "", "22244"},
		{"POST", "/roles/{r}/contains", `{"role_ids":["` + e.roleID("itsm_user") + `"]}`, "22344"},
		{"DELETE", "/roles/{r}/contains/{r2}", "", "22344"},
		{"GET", "/roles/{r}/users", "", "22244"},
		{"GET", "/roles/{r}/groups", "", "22244"},
		{"GET", "/customers", "", "22244"},
		{"POST", "/customers", `{"code":"NC{n}","name":"New {n}"}`, "22344"},
		{"GET", "/customers/{c}", "", "22244"},
		{"PUT", "/customers/{c}", `{"city":"Osaka"}`, "22344"},
		{"PATCH", "/customers/{c}", `{"state":"invalid"}`, "22344"},
		{"GET", "/billing", "", "22244"},
		{"GET", "/billing/report?from=2026-01-01", "", "22244"},
		{"GET", "/audit", "", "22444"},
		{"GET", "/audit?format=csv", "", "22444"},
		{"GET", "/outbox?state=pending", "", "22444"},
		{"GET", "/outbox/{d}", "", "22444"},
		{"POST", "/outbox/{d}/replay", "", "cc444"},
		{"POST", "/outbox/{d}/discard", "", "cc444"},
		{"GET", "/clients", "", "22444"},
		{"POST", "/clients", `{"client_id":"nk{n}","name":"New","redirect_uris":["https://app.example/cb"]}`, "22444"},
		{"GET", "/clients/{k}", "", "22444"},
		{"PUT", "/clients/{k}", `{"name":"Renamed"}`, "22444"},
		{"PATCH", "/clients/{k}", `{"itsm":true}`, "22444"},
		{"DELETE", "/clients/{k}", "", "22444"},
		{"POST", "/clients/{k}/secret", "", "22444"},
		{"GET", "/identity-providers", "", "22444"},
		{"POST", "/identity-providers", `{"name":"P{n}","issuer":"https://login{n}.example","client_id":"c","domains":["new{n}.example"]}`, "22444"},
		{"GET", "/identity-providers/{p}", "", "22444"},
		{"PUT", "/identity-providers/{p}", `{"name":"Renamed"}`, "22444"},
		{"PATCH", "/identity-providers/{p}", `{"enabled":false}`, "22444"},
		{"DELETE", "/identity-providers/{p}", "", "22444"},
		{"GET", "/users/{u}/identities", "", "22224"},
		{"POST", "/users/{u}/identities", `{"provider_id":"{p2}","subject":"new{n}"}`, "22334"},
		{"DELETE", "/users/{u}/identities/{p}", "", "22334"},
		{"POST", "/users/{o}/identities", `{"provider_id":"{p2}","subject":"new{n}"}`, "vv344"},
		{"GET", "/webhooks", "", "22444"},
		{"POST", "/webhooks", `{"url":"https://hooks.example/{n}","event_types":["user.*"]}`, "22444"},
		{"GET", "/webhooks/{w}", "", "22444"},
		{"PUT", "/webhooks/{w}", `{"description":"d"}`, "22444"},
		{"PATCH", "/webhooks/{w}", `{"enabled":false}`, "22444"},
		{"DELETE", "/webhooks/{w}", "", "22444"},
		{"POST", "/webhooks/{w}/secret", "", "22444"},
		{"POST", "/access/check", `{"subject":"{u}","action":"act","resource":{"type":"workflow","requester_id":"{o}"}}`, "22233"},
		{"GET", "/access/scope?user_id={u}", "", "22233"},
		{"GET", "/access/resources?user_id={u}", "", "22233"},
		{"GET", "/access/skills", "", "22244"},
		{"POST", "/access/skills/check", `{"user_id":"{u}","skill":"linux"}`, "22233"},
	}
	// The escalation paths of issue 13 (rule 1), in the same matrix: the
	// user manager (a System Administrator, without token_admin) may not
	// grant what it does not hold; admin may.
	ssa, tokenAdmin := e.roleID(directory.RoleNameSystemSecurityAdmin), e.roleID(directory.RoleNameTokenAdmin)
	secGroup, err := e.svc.CreateGroup(ctx, a, directory.Group{Name: "security"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.AssignGroupRoles(ctx, a, secGroup.ID, []directory.RoleID{directory.RoleID(ssa)}); err != nil {
		t.Fatal(err)
	}
	rows = append(rows, []struct {
		method, path, body string
		want               string
	}{
		{"POST", "/users/{u}/roles", `{"role_ids":["` + ssa + `"]}`, "23334"},
		{"POST", "/users/{u}/roles", `{"role_ids":["` + tokenAdmin + `"]}`, "23334"},
		{"POST", "/groups/" + string(secGroup.ID) + "/members", `{"user_ids":["{o}"]}`, "23344"},
		{"POST", "/roles/{r}/contains", `{"role_ids":["` + tokenAdmin + `"]}`, "23344"},
		{"POST", "/roles/{r}/contains", `{"role_ids":["` + ssa + `"]}`, "23344"},
		{"POST", "/groups/{g}/roles", `{"role_ids":["` + tokenAdmin + `"]}`, "23344"},
	}...)
	covered := map[string]bool{}
	n := 0
	for _, row := range rows {
		path, _, _ := strings.Cut(row.path, "?")
		covered[row.method+" "+placeholder.ReplaceAllString(path, "{}")] = true
		t.Run(row.method+" "+row.path, func(t *testing.T) {
			parent := e.t
			e.t = t
			defer func() { e.t = parent }()
			var tg targets
			for i, c := range callers {
				// Fresh targets for every caller whose request may change
				// them; a read, and the callers answered 401 (the last
				// three), change nothing, so they share the row's first set.
				if i == 0 || (row.method != "GET" && i < 5) {
					if i > 0 {
						tg.drop(t, e)
					}
					n++
					tg = makeTargets(t, e, acme.ID, skilled.ID, n)
				}
				want := "1"
				switch {
				case i < 5:
					want = row.want[i : i+1]
				case row.path == "/openapi.json":
					want = "2"
				}
				var body any
				if row.body != "" {
					body = strings.ReplaceAll(tg.fill(row.body), "{n}", fmt.Sprint(n))
				}
				r := e.do(req{method: row.method, path: tg.fill(row.path), token: c.token, body: body})
				got := map[int]string{401: "1", 403: "3", 404: "4", 409: "c", 422: "v"}[r.status]
				if r.status >= 200 && r.status < 300 {
					got = "2"
				}
				if got != want {
					t.Errorf("%s: %d, want class %s: %s", c.name, r.status, want, r.raw)
				}
			}
			tg.drop(t, e)
		})
	}
	// The caller may read itself (documented decision) but nobody else.
	if r := e.do(req{method: "GET", path: "/users/" + string(cuserU.ID), token: cuser}); r.status != 200 {
		t.Errorf("customer user reading itself: %d", r.status)
	}
	if r := e.do(req{method: "GET", path: "/users/" + string(cuserU.ID) + "/effective-roles", token: cuser}); r.status != 200 {
		t.Errorf("customer user reading its roles: %d", r.status)
	}
	// X-OpsI-Token works like Bearer.
	if r := e.do(req{method: "GET", path: "/users", header: map[string]string{"X-OpsI-Token": mgr}}); r.status != 200 {
		t.Errorf("X-OpsI-Token: %d", r.status)
	}
	// Every route of the OpenAPI document is in the matrix.
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(e.do(req{method: "GET", path: "/openapi.json"}).raw, &doc); err != nil {
		t.Fatal(err)
	}
	var missing []string
	for p, ops := range doc.Paths {
		for m := range ops {
			key := strings.ToUpper(m) + " " + placeholder.ReplaceAllString(p, "{}")
			if !covered[key] {
				missing = append(missing, key)
			}
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("endpoints missing from the matrix: %v", missing)
	}
}
