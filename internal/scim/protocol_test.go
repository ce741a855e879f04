package scim_test

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"

	"opsiam/internal/directory"
)

// TestPagination pages through 1,000 users (plus admin) with startIndex
// and count, sorted by userName both ways, and checks every user comes
// exactly once in order.
func TestPagination(t *testing.T) {
	t.Parallel() // each test has its own database (issue 17, point 7)
	eachDB(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		want := []string{"admin"}
		err := e.db.InTx(ctx, func(tx store_Tx) error {
			for i := range 1000 {
				name := fmt.Sprintf("user%04d", (i*7919)%1000) // created out of order
				if _, err := tx.CreateUser(ctx, directory.User{Username: name, Email: name + "@example.com",
					FirstName: "F", LastName: "L", Enabled: true, Timezone: "UTC"}); err != nil {
					return err
				}
				want = append(want, name)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		sort.Strings(want)
		for _, order := range []string{"ascending", "descending"} {
			var got []string
			for start := 1; ; start += 100 {
				r := must(t, e.call("GET", fmt.Sprintf("/Users?sortBy=userName&sortOrder=%s&startIndex=%d&count=100&attributes=userName", order, start), e.admin, nil), 200)
				if r.total() != 1001 || int(r.body["startIndex"].(float64)) != start {
					t.Fatalf("page at %d: totalResults %d startIndex %v", start, r.total(), r.body["startIndex"])
				}
				res := r.resources()
				for _, u := range res {
					if u["emails"] != nil || u["id"] == nil {
						t.Fatalf("attributes=userName returned %v", u)
					}
					got = append(got, u["userName"].(string))
				}
				if len(res) < 100 {
					break
				}
			}
			w := append([]string(nil), want...)
			if order == "descending" {
				sort.Sort(sort.Reverse(sort.StringSlice(w)))
			}
			if fmt.Sprint(got) != fmt.Sprint(w) {
				t.Fatalf("%s: %d users, first %v", order, len(got), got[:min(5, len(got))])
			}
		}
		// count=0 answers the total only; count above the maximum is cut to it.
		if r := must(t, e.call("GET", "/Users?count=0", e.admin, nil), 200); r.total() != 1001 || len(r.resources()) != 0 {
			t.Fatalf("count=0: %d, %d resources", r.total(), len(r.resources()))
		}
		if r := must(t, e.call("GET", "/Users?count=5000&excludedAttributes=groups,emails", e.admin, nil), 200); len(r.resources()) != 1000 || r.resources()[0]["emails"] != nil {
			t.Fatalf("count=5000: %d resources", len(r.resources()))
		}
	})
}

// TestETags: meta.version and ETag change with every update; a stale
// If-Match answers 412 and changes nothing; If-None-Match answers 304.
func TestETags(t *testing.T) {
	t.Parallel() // each test has its own database (issue 17, point 7)
	eachDB(t, func(t *testing.T, e *env) {
		c := must(t, e.call("POST", "/Users", e.admin, newUserBody("erin")), 201)
		id, v1 := c.str("id"), c.header.Get("ETag")
		patch := func(family, ifMatch string) resp {
			return e.call("PATCH", "/Users/"+id, e.admin, map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
				"Operations": []any{map[string]any{"op": "replace", "path": "name.familyName", "value": family}}}, "If-Match", ifMatch)
		}
		p := must(t, patch("Two", v1), 200)
		v2 := p.header.Get("ETag")
		if v2 == v1 || p.str("meta", "version") != v2 {
			t.Fatalf("ETag %s after %s, meta.version %s", v2, v1, p.str("meta", "version"))
		}
		if r := patch("Three", v1); r.status != 412 {
			t.Fatalf("stale If-Match: %d %s", r.status, r.raw)
		}
		if r := e.call("PUT", "/Users/"+id, e.admin, newUserBody("erin"), "If-Match", v1); r.status != 412 {
			t.Fatalf("stale If-Match on PUT: %d", r.status)
		}
		if r := e.call("DELETE", "/Users/"+id, e.admin, nil, "If-Match", v1); r.status != 412 {
			t.Fatalf("stale If-Match on DELETE: %d", r.status)
		}
		if r := e.call("PATCH", "/Users/"+id, e.admin, map[string]any{"Operations": []any{map[string]any{"op": "replace", "path": "active", "value": false}}}, "If-Match", `W/"junk"`); r.status != 412 {
			t.Fatalf("junk If-Match: %d", r.status)
		}
		u, _ := e.db.GetUser(context.Background(), directory.Scope{}, directory.UserID(id))
		if u.LastName != "Two" || !u.Enabled {
			t.Fatalf("a refused request changed the user: %+v", u)
		}
		if r := e.call("GET", "/Users/"+id, e.admin, nil, "If-None-Match", v2); r.status != 304 {
			t.Fatalf("If-None-Match current: %d", r.status)
		}
		must(t, e.call("DELETE", "/Users/"+id, e.admin, nil, "If-Match", v2), 204)

		g := must(t, e.call("POST", "/Groups", e.admin, map[string]any{"displayName": "Tagged"}), 201)
		gv := g.header.Get("ETag")
		must(t, e.call("PATCH", "/Groups/"+g.str("id"), e.admin, map[string]any{"Operations": []any{
			map[string]any{"op": "replace", "path": "displayName", "value": "Tagged 2"}}}, "If-Match", gv), 200)
		if r := e.call("PUT", "/Groups/"+g.str("id"), e.admin, map[string]any{"displayName": "Tagged 3"}, "If-Match", gv); r.status != 412 {
			t.Fatalf("stale group If-Match: %d", r.status)
		}
	})
}

// TestErrors: every error type answers in the SCIM error schema with its
// status and scimType, and changes nothing.
func TestErrors(t *testing.T) {
	t.Parallel() // each test has its own database (issue 17, point 7)
	eachDB(t, func(t *testing.T, e *env) {
		bob := must(t, e.call("POST", "/Users", e.admin, newUserBody("bob")), 201).str("id")
		dup := newUserBody("BOB")
		dup["emails"] = []any{map[string]any{"value": "other@example.com"}}
		mail := newUserBody("robert")
		mail["emails"] = []any{map[string]any{"value": "bob@example.com"}}
		badMail := newUserBody("carl")
		badMail["emails"] = []any{map[string]any{"value": "not a mail"}}
		noName := newUserBody("dan")
		delete(noName, "name")
		op := func(ops ...any) map[string]any {
			return map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"}, "Operations": ops}
		}
		cases := []struct {
			name, method, path string
			body               any
			status             int
			scimType           string
		}{
			{"duplicate userName", "POST", "/Users", dup, 409, "uniqueness"},
			{"duplicate mail", "POST", "/Users", mail, 409, "uniqueness"},
			{"bad mail", "POST", "/Users", badMail, 400, "invalidValue"},
			{"no name", "POST", "/Users", noName, 400, "invalidValue"},
			{"active not a boolean", "POST", "/Users", map[string]any{"userName": "x", "active": "maybe"}, 400, "invalidValue"},
			{"name not an object", "POST", "/Users", map[string]any{"userName": "x", "name": "X"}, 400, "invalidValue"},
			{"unknown customer", "POST", "/Users", map[string]any{"userName": "x", "urn:opsiam:params:scim:schemas:extension:customer:2.0:User": map[string]any{"customerCode": "nope"}}, 400, "invalidValue"},
			{"not JSON", "POST", "/Users", "{", 400, "invalidSyntax"},
			{"JSON list", "POST", "/Users", "[]", 400, "invalidSyntax"},
			{"NUL in a value", "POST", "/Users", `{"userName":"a\u0000b"}`, 400, "invalidValue"},
			{"invalid UTF-8", "POST", "/Users", "{\"userName\":\"a\xff\"}", 400, "invalidValue"},
			{"userName change", "PUT", "/Users/" + bob, newUserBody("robert"), 400, "mutability"},
			{"patch id", "PATCH", "/Users/" + bob, op(map[string]any{"op": "replace", "path": "id", "value": "x"}), 400, "mutability"},
			{"patch groups", "PATCH", "/Users/" + bob, op(map[string]any{"op": "add", "path": "groups", "value": []any{}}), 400, "mutability"},
			{"bad path", "PATCH", "/Users/" + bob, op(map[string]any{"op": "replace", "path": "emails[type eq", "value": "x"}), 400, "invalidPath"},
			{"remove without path", "PATCH", "/Users/" + bob, op(map[string]any{"op": "remove"}), 400, "noTarget"},
			{"no match", "PATCH", "/Users/" + bob, op(map[string]any{"op": "replace", "path": `emails[type co "home"].value`, "value": "x@example.com"}), 400, "noTarget"},
			{"unknown op", "PATCH", "/Users/" + bob, op(map[string]any{"op": "move", "path": "active"}), 400, "invalidSyntax"},
			{"no operations", "PATCH", "/Users/" + bob, map[string]any{"Operations": []any{}}, 400, "invalidSyntax"},
			{"unknown member", "POST", "/Groups", map[string]any{"displayName": "G", "members": []any{map[string]any{"value": "nobody"}}}, 400, "invalidValue"},
			{"bad group name", "POST", "/Groups", map[string]any{"displayName": "!bad"}, 400, "invalidValue"},
			{"bad startIndex", "GET", "/Users?startIndex=x", nil, 400, "invalidValue"},
			{"bad sortOrder", "GET", "/Users?sortOrder=up", nil, 400, "invalidValue"},
			{"unknown user", "GET", "/Users/nobody", nil, 404, ""},
			{"unknown group", "PATCH", "/Groups/nobody", op(map[string]any{"op": "replace", "path": "displayName", "value": "x"}), 404, ""},
			{"unknown endpoint", "GET", "/Bulk", nil, 404, ""},
		}
		for _, c := range cases {
			r := e.call(c.method, c.path, e.admin, c.body)
			if r.status != c.status || r.scimType() != c.scimType || r.str("status") != fmt.Sprint(c.status) {
				t.Errorf("%s: %d %q, want %d %q: %s", c.name, r.status, r.scimType(), c.status, c.scimType, r.raw)
			}
		}
		if r := e.call("POST", "/Users", e.admin, `{"userName":"`+strings.Repeat("x", 2<<20)+`"}`); r.status != 413 {
			t.Errorf("2 MiB body: %d", r.status)
		}
		if r := e.call("GET", "/Users?filter="+url.QueryEscape(strings.Repeat(`(userName eq "a") or `, 400)+`userName eq "b"`), e.admin, nil); r.status != 400 || r.scimType() != "invalidFilter" {
			t.Errorf("8 KiB filter: %d %s", r.status, r.raw)
		}
		if r := e.call("GET", "/Users", "", nil); r.status != 401 || r.header.Get("WWW-Authenticate") == "" {
			t.Errorf("no token: %d", r.status)
		}
		if r := e.call("GET", "/Users", "not-a-token", nil); r.status != 401 {
			t.Errorf("bad token: %d", r.status)
		}
		// Nothing of the refused requests was written.
		all := must(t, e.call("GET", "/Users?attributes=userName", e.admin, nil), 200)
		if all.total() != 2 {
			t.Errorf("users after the refusals: %s", all.raw)
		}
		if gs := must(t, e.call("GET", "/Groups?excludedAttributes=members", e.admin, nil), 200); gs.total() != 1 {
			t.Errorf("groups after the refusals: %s", gs.raw)
		}
		u, _ := e.db.GetUser(context.Background(), directory.Scope{}, directory.UserID(bob))
		if u.Username != "bob" || u.Email != "bob@example.com" || u.Version != 1 {
			t.Errorf("bob changed: %+v", u)
		}
	})
}

// TestLeastTrusted: what a SCIM client can do is what its token's user
// may do through the use cases.
func TestLeastTrusted(t *testing.T) {
	t.Parallel() // each test has its own database (issue 17, point 7)
	eachDB(t, func(t *testing.T, e *env) {
		acme, other := e.customer("acme"), e.customer("other")
		e.user("acme-admin", acme.ID, directory.RoleNameCustomer, directory.RoleNameCustomerAdmin)
		e.user("acme-user", acme.ID, directory.RoleNameCustomer)
		theirs := e.user("other-user", other.ID, directory.RoleNameCustomer)
		e.user("viewer", "", directory.RoleNameUserViewer)
		e.user("nobody", "")
		ca, viewer, nobody := e.token("acme-admin"), e.token("viewer"), e.token("nobody")

		// A customer administrator sees its own customer's users only.
		r := must(t, e.call("GET", "/Users?attributes=userName&sortBy=userName", ca, nil), 200)
		var names []string
		for _, u := range r.resources() {
			names = append(names, u["userName"].(string))
		}
		if fmt.Sprint(names) != "[acme-admin acme-user]" {
			t.Fatalf("customer admin lists %v", names)
		}
		for _, probe := range []struct{ method, path string }{{"GET", "/Users/" + string(theirs.ID)}, {"DELETE", "/Users/" + string(theirs.ID)}} {
			if r := e.call(probe.method, probe.path, ca, nil); r.status != 404 {
				t.Errorf("customer admin %s another customer's user: %d", probe.method, r.status)
			}
		}
		deact := map[string]any{"Operations": []any{map[string]any{"op": "replace", "value": map[string]any{"active": false}}}}
		if r := e.call("PATCH", "/Users/"+string(theirs.ID), ca, deact); r.status != 404 {
			t.Errorf("customer admin deactivates another customer's user: %d", r.status)
		}
		// It may not create users, nor move a user into its customer.
		b := newUserBody("intruder")
		b["urn:opsiam:params:scim:schemas:extension:customer:2.0:User"] = map[string]any{"customerCode": "other"}
		if r := e.call("POST", "/Users", ca, b); r.status != 403 {
			t.Errorf("customer admin creates a user: %d %s", r.status, r.raw)
		}
		// Reading is not writing; no roles, no access.
		if r := e.call("POST", "/Users", viewer, newUserBody("x1")); r.status != 403 {
			t.Errorf("viewer creates a user: %d", r.status)
		}
		if r := e.call("POST", "/Groups", viewer, map[string]any{"displayName": "V"}); r.status != 403 {
			t.Errorf("viewer creates a group: %d", r.status)
		}
		if r := e.call("GET", "/Users", nobody, nil); r.status != 404 {
			t.Errorf("a user without roles lists users: %d", r.status)
		}
		// admin cannot be deactivated or deleted through SCIM either (U10).
		adm, _ := e.db.GetUserByUsername(context.Background(), directory.Scope{}, "admin")
		if r := e.call("PATCH", "/Users/"+string(adm.ID), e.admin, deact); r.status != 400 && r.status != 403 {
			t.Errorf("deactivate admin: %d %s", r.status, r.raw)
		}
		if r := e.call("DELETE", "/Users/"+string(adm.ID), e.admin, nil); r.status != 400 && r.status != 403 {
			t.Errorf("delete admin: %d", r.status)
		}
		if u, _ := e.db.GetUser(context.Background(), directory.Scope{}, adm.ID); !u.Enabled {
			t.Fatal("admin was deactivated")
		}
		// The token's user cannot grant itself roles: SCIM has no role attribute,
		// and one sent is ignored.
		must(t, e.call("PATCH", "/Users/"+string(theirs.ID), e.admin, map[string]any{"Operations": []any{
			map[string]any{"op": "add", "path": "roles", "value": []any{map[string]any{"value": "System Security Administrator"}}}}}), 200)
		if roles, _ := e.svc.EffectiveRoles(context.Background(), theirs.ID); roles.Has(mustRole(t, e, directory.RoleNameUserAdmin)) {
			t.Fatal("a SCIM PATCH granted a role")
		}
	})
}

func mustRole(t *testing.T, e *env, name string) directory.RoleID {
	r, err := e.db.GetRoleByName(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return r.ID
}

// TestConcurrentPatches: two clients patch one user with the same If-Match
// at once; exactly one wins, the other gets 412 (both databases).
func TestConcurrentPatches(t *testing.T) {
	t.Parallel() // each test has its own database (issue 17, point 7)
	eachDB(t, func(t *testing.T, e *env) {
		id := must(t, e.call("POST", "/Users", e.admin, newUserBody("race")), 201).str("id")
		for round := range 10 {
			cur := must(t, e.call("GET", "/Users/"+id, e.admin, nil), 200).header.Get("ETag")
			var wg sync.WaitGroup
			codes := make([]int, 2)
			for i := range 2 {
				wg.Go(func() {
					codes[i] = e.call("PATCH", "/Users/"+id, e.admin, map[string]any{"Operations": []any{
						map[string]any{"op": "replace", "path": "name.familyName", "value": fmt.Sprintf("R%d-%d", round, i)}}}, "If-Match", cur).status
				})
			}
			wg.Wait()
			sort.Ints(codes)
			if codes[0] != 200 || codes[1] != 412 {
				t.Fatalf("round %d: %v, want one 200 and one 412", round, codes)
			}
		}
		// Without If-Match both land, one after the other.
		var wg sync.WaitGroup
		for i := range 4 {
			wg.Go(func() {
				must(t, e.call("PATCH", "/Users/"+id, e.admin, map[string]any{"Operations": []any{
					map[string]any{"op": "replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "value": fmt.Sprint("D", i)}}}), 200)
			})
		}
		wg.Wait()
	})
}
