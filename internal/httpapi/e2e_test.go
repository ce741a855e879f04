package httpapi_test

import (
	"context"
	"slices"
	"strings"
	"testing"
)

func names(items []map[string]any, key string) []string {
	var out []string
	for _, it := range items {
		out = append(out, it[key].(string))
	}
	return out
}

// TestEndToEnd is acceptance 1 of issue 3, on both databases.
func TestEndToEnd(t *testing.T) {
	t.Parallel() // each test has its own database and server (issue 17, point 7)
	eachDB(t, bothDatabases, func(t *testing.T, e *env) {
		// Customers.
		acme := e.must(201, "POST", "/customers", map[string]any{"code": "ACME", "name": "Acme Corp", "url": "https://acme.example"})
		beta := e.must(201, "POST", "/customers", map[string]any{"code": "BETA", "name": "Beta Ltd"})
		if acme.str("state") != "valid" || acme.header.Get("ETag") != `"1"` {
			t.Fatalf("customer: %s %v", acme.raw, acme.header)
		}
		// Users: operators and customer users.
		op := e.must(201, "POST", "/users", userBody("operator1", map[string]any{"timezone": "Asia/Tokyo"}))
		ca := e.must(201, "POST", "/users", userBody("cust.a", map[string]any{"customer_id": acme.str("id")}))
		ca2 := e.must(201, "POST", "/users", userBody("cust.a2", map[string]any{"customer_id": acme.str("id")}))
		cb := e.must(201, "POST", "/users", userBody("cust.b", map[string]any{"customer_id": beta.str("id")}))
		if op.str("timezone") != "Asia/Tokyo" || ca.str("timezone") != "UTC" || !op.body["enabled"].(bool) {
			t.Fatalf("user defaults: %s / %s", op.raw, ca.raw)
		}
		// Groups and memberships.
		ops := e.must(201, "POST", "/groups", map[string]any{"name": "Ops Team", "description": "operators"})
		custA := e.must(201, "POST", "/groups", map[string]any{"name": "Acme users"})
		custB := e.must(201, "POST", "/groups", map[string]any{"name": "Beta users"})
		e.must(200, "POST", "/groups/"+ops.str("id")+"/members", map[string]any{"user_ids": []string{op.str("id")}})
		e.must(200, "POST", "/groups/"+custA.str("id")+"/members", map[string]any{"user_ids": []string{ca.str("id"), ca2.str("id")}})
		e.must(200, "POST", "/groups/"+custB.str("id")+"/members", map[string]any{"user_ids": []string{cb.str("id")}})
		// Custom role containing predefined ones, assigned to a group.
		agent := e.must(201, "POST", "/roles", map[string]any{"name": "Ops Agent", "description": "first line"})
		if agent.str("type") != "custom" {
			t.Fatalf("role: %s", agent.raw)
		}
		e.must(200, "POST", "/roles/"+agent.str("id")+"/contains", map[string]any{"role_ids": []string{e.roleID("Manager"), e.roleID("itsm_user")}})
		e.must(200, "POST", "/groups/"+ops.str("id")+"/roles", map[string]any{"role_ids": []string{agent.str("id")}})
		cuRole := e.roleID("Customer User")
		e.must(200, "POST", "/groups/"+custA.str("id")+"/roles", map[string]any{"role_ids": []string{cuRole}})
		e.must(200, "POST", "/groups/"+custB.str("id")+"/roles", map[string]any{"role_ids": []string{cuRole}})
		// Relation: Ops Team manages Acme users (G5).
		rel := e.must(201, "POST", "/groups/"+ops.str("id")+"/relations", map[string]any{"group_id": custA.str("id"), "type": "manage"})
		if it := rel.items(); len(it) != 1 || it[0]["type"] != "manage" {
			t.Fatalf("relations: %s", rel.raw)
		}
		if it := e.must(200, "GET", "/groups/"+custA.str("id")+"/relations", nil).items(); it[0]["type"] != "managed" || it[0]["group_id"] != ops.str("id") {
			t.Fatalf("relation seen from the other side: %v", it)
		}

		// Effective roles (R3) and grant paths (R6).
		eff := names(e.must(200, "GET", "/users/"+op.str("id")+"/effective-roles", nil).items(), "name")
		for _, want := range []string{"Ops Agent", "Manager", "user_viewer", "itsm_manager", "itsm_user", "user"} {
			if !slices.Contains(eff, want) {
				t.Errorf("operator lacks %s: %v", want, eff)
			}
		}
		if slices.Contains(eff, "user_admin") {
			t.Errorf("operator has user_admin: %v", eff)
		}
		why := e.must(200, "GET", "/users/"+op.str("id")+"/roles/"+e.roleID("user_viewer")+"/why", nil)
		paths := why.body["paths"].([]any)
		if !why.body["held"].(bool) || len(paths) != 1 ||
			paths[0].(map[string]any)["text"] != "group Ops Team → Ops Agent → Manager → user_viewer" {
			t.Fatalf("why: %s", why.raw)
		}
		if w := e.must(200, "GET", "/users/"+op.str("id")+"/roles/"+e.roleID("user_admin")+"/why", nil); w.body["held"].(bool) {
			t.Fatalf("why of a role not held: %s", w.raw)
		}
		if geff := names(e.must(200, "GET", "/groups/"+ops.str("id")+"/effective-roles", nil).items(), "name"); !slices.Contains(geff, "itsm_manager") || slices.Contains(geff, "user") {
			t.Fatalf("group effective roles: %v", geff)
		}

		// Billing counts move (B1): admin + 4 users billed.
		billing := func() (float64, float64) {
			b := e.must(200, "GET", "/billing", nil)
			return b.body["billed"].(float64), b.body["non_billed"].(float64)
		}
		if b, n := billing(); b != 5 || n != 0 {
			t.Fatalf("billing %v/%v, want 5/0", b, n)
		}
		e.must(200, "PATCH", "/users/"+ca2.str("id"), map[string]any{"enabled": false})
		if b, n := billing(); b != 4 || n != 1 {
			t.Fatalf("billing after disable %v/%v, want 4/1", b, n)
		}
		e.must(200, "POST", "/users/"+cb.str("id")+"/roles", map[string]any{"role_ids": []string{e.roleID("free_user")}})
		if b, n := billing(); b != 3 || n != 2 {
			t.Fatalf("billing after free_user %v/%v, want 3/2", b, n)
		}
		if u := e.must(200, "GET", "/users/"+cb.str("id"), nil); u.body["billed"].(bool) {
			t.Fatalf("free user billed: %s", u.raw)
		}
		if _, err := e.svc.SnapshotBilling(context.Background()); err != nil {
			t.Fatal(err)
		}
		if rep := e.must(200, "GET", "/billing/report", nil).items(); len(rep) != 1 || rep[0]["billed"].(float64) != 3 || rep[0]["non_billed"].(float64) != 2 {
			t.Fatalf("billing report: %v", rep)
		}
		e.must(422, "GET", "/billing/report?from=yesterday", nil)
		nonBilled := names(e.must(200, "GET", "/users?billing=non_billed", nil).items(), "username")
		if !slices.Equal(nonBilled, []string{"cust.a2", "cust.b"}) {
			t.Fatalf("non-billed list: %v", nonBilled)
		}

		// Access decisions: C3 workflows.
		check := func(subject, requester string) bool {
			r := e.must(200, "POST", "/access/check", map[string]any{"subject": subject, "action": "act",
				"resource": map[string]any{"type": "workflow", "requester_id": requester}})
			return r.body["allowed"].(bool)
		}
		e.must(200, "PATCH", "/users/"+ca2.str("id"), map[string]any{"enabled": true})
		if !check(ca.str("id"), ca2.str("id")) {
			t.Error("customer user refused a workflow of its own customer")
		}
		if check(ca.str("id"), cb.str("id")) {
			t.Error("customer user allowed a workflow of another customer")
		}
		if check(ca.str("id"), op.str("id")) {
			t.Error("customer user allowed an operator's workflow")
		}
		if !check(op.str("id"), cb.str("id")) || !check(op.str("id"), ca.str("id")) {
			t.Error("operator refused a workflow")
		}
		// C4 catalog items.
		cat := func(subject string, res map[string]any) bool {
			res["type"] = "catalog_item"
			return e.must(200, "POST", "/access/check", map[string]any{"subject": subject, "action": "view", "resource": res}).body["allowed"].(bool)
		}
		if !cat(ca.str("id"), map[string]any{}) || !cat(op.str("id"), map[string]any{}) {
			t.Error("unrestricted catalog item hidden")
		}
		if !cat(ca.str("id"), map[string]any{"customers": []string{acme.str("id")}}) || cat(cb.str("id"), map[string]any{"customers": []string{acme.str("id")}}) {
			t.Error("catalog item for Acme misjudged")
		}
		if !cat(op.str("id"), map[string]any{"groups": []string{ops.str("id")}}) {
			t.Error("catalog item for Ops Team hidden from its member")
		}
		// C5 scope.
		if s := e.must(200, "GET", "/access/scope?user_id="+ca.str("id"), nil); !s.body["restricted"].(bool) || s.str("customer_id") != acme.str("id") {
			t.Fatalf("scope of a customer user: %s", s.raw)
		}
		if s := e.must(200, "GET", "/access/scope?user_id="+op.str("id"), nil); s.body["restricted"].(bool) || s.body["customer_id"] != nil {
			t.Fatalf("scope of an operator: %s", s.raw)
		}
		// G6 resource list.
		res := e.must(200, "GET", "/access/resources?user_id="+op.str("id"), nil)
		if got := names(res.items(), "username"); !slices.Equal(got, []string{"cust.a", "cust.a2"}) {
			t.Fatalf("resource list: %v", got)
		}
		if got := e.must(200, "GET", "/access/resources?user_id="+ca.str("id"), nil).items(); len(got) != 0 {
			t.Fatalf("resource list of a managed-only user: %v", got)
		}

		// Search, sort and paging.
		p1 := e.must(200, "GET", "/users?q=cust&limit=2&sort=-username", nil)
		if got := names(p1.items(), "username"); !slices.Equal(got, []string{"cust.b", "cust.a2"}) || p1.str("next_cursor") == "" {
			t.Fatalf("page 1: %v %s", got, p1.raw)
		}
		p2 := e.must(200, "GET", "/users?q=cust&limit=2&sort=-username&cursor="+p1.str("next_cursor"), nil)
		if got := names(p2.items(), "username"); !slices.Equal(got, []string{"cust.a"}) || p2.str("next_cursor") != "" {
			t.Fatalf("page 2: %v", got)
		}
		// Audit of all this (O1).
		audit := e.must(200, "GET", "/audit?target_id="+ops.str("id"), nil)
		if acts := names(audit.items(), "action"); !slices.Contains(acts, "group.create") || !slices.Contains(acts, "group.relation_set") {
			t.Fatalf("audit: %v", acts)
		}
		if a := e.must(200, "GET", "/audit?action=user.create&limit=1", nil).items()[0]; a["actor_name"] != "admin" || !strings.Contains(a["source"].(string), "127.0.0.1") {
			t.Fatalf("audit record: %v", a)
		}
	})
}
