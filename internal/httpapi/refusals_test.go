package httpapi_test

import (
	"context"
	"slices"
	"testing"

	"opsiam/internal/store"
)

// auditCount counts every audit record, the witness that a refused change
// wrote nothing (the audit record is in the change's transaction).
func (e *env) auditCount() int {
	e.t.Helper()
	n, cursor := 0, ""
	for {
		p, err := e.db.ListAudit(context.Background(), store.AuditQuery{Limit: 1000, Cursor: cursor})
		if err != nil {
			e.t.Fatal(err)
		}
		n += len(p.Items)
		if cursor = p.Next; cursor == "" {
			return n
		}
	}
}

// TestRefusals is acceptance 2: every refusal of SPEC §1 answers with a
// problem document naming the field or rule, and changes nothing.
func TestRefusals(t *testing.T) {
	t.Parallel() // each test has its own database and server (issue 17, point 7)
	eachDB(t, bothDatabases, func(t *testing.T, e *env) {
		global, _ := e.db.GetGroupByName(context.Background(), "global")
		gid := string(global.ID)
		admin := string(e.adm.ID)
		ops := e.must(201, "POST", "/groups", map[string]any{"name": "ops"})
		frank := e.must(201, "POST", "/users", userBody("Frank", nil))
		gina := e.must(201, "POST", "/users", userBody("gina", nil))
		x := e.must(201, "POST", "/roles", map[string]any{"name": "X"})
		y := e.must(201, "POST", "/roles", map[string]any{"name": "Y"})
		e.must(200, "POST", "/roles/"+x.str("id")+"/contains", map[string]any{"role_ids": []string{y.str("id")}})
		cu := e.must(201, "POST", "/groups", map[string]any{"name": "customers"})
		e.must(200, "POST", "/groups/"+cu.str("id")+"/roles", map[string]any{"role_ids": []string{e.roleID("Customer User")}})

		tests := []struct {
			name         string
			method, path string
			body         any
			status       int
			want         string // field/code in errors
		}{
			{"delete admin", "DELETE", "/users/" + admin, nil, 422, "username/reserved"},
			{"edit admin", "PATCH", "/users/" + admin, map[string]any{"first_name": "Eve"}, 422, "username/reserved"},
			{"disable admin", "PATCH", "/users/" + admin, map[string]any{"enabled": false}, 422, "username/reserved"},
			{"rename a user", "PATCH", "/users/" + frank.str("id"), map[string]any{"username": "frank2"}, 422, "username/immutable"},
			{"edit global", "PATCH", "/groups/" + gid, map[string]any{"description": "x"}, 422, "name/reserved"},
			{"rename global", "PUT", "/groups/" + gid, map[string]any{"name": "everyone"}, 422, "name/reserved"},
			{"delete global", "DELETE", "/groups/" + gid, nil, 422, "name/reserved"},
			{"relate to global", "POST", "/groups/" + ops.str("id") + "/relations", map[string]any{"group_id": gid, "type": "manage"}, 422, "group_id/reserved"},
			{"relate global", "POST", "/groups/" + gid + "/relations", map[string]any{"group_id": ops.str("id"), "type": "both"}, 422, "group_id/reserved"},
			{"leave global", "DELETE", "/groups/" + gid + "/members/" + frank.str("id"), nil, 422, "group_id/reserved"},
			{"create a group named global", "POST", "/groups", map[string]any{"name": "Global"}, 422, "name/reserved"},
			{"delete a pre-installed role", "DELETE", "/roles/" + e.roleID("Manager"), nil, 422, "name/predefined"},
			{"delete a primitive role", "DELETE", "/roles/" + e.roleID("user_admin"), nil, 422, "name/predefined"},
			{"create a primitive role", "POST", "/roles", map[string]any{"name": "new_prim", "type": "primitive"}, 422, "type/predefined"},
			{"rename a custom role", "PATCH", "/roles/" + x.str("id"), map[string]any{"name": "Z"}, 422, "name/immutable"},
			{"rename a predefined role", "PATCH", "/roles/" + e.roleID("Manager"), map[string]any{"name": "Boss"}, 422, "name/immutable"},
			{"edit a predefined role", "PATCH", "/roles/" + e.roleID("Manager"), map[string]any{"description": "x"}, 422, "description/predefined"},
			{"give a predefined role contents", "POST", "/roles/" + e.roleID("Manager") + "/contains", map[string]any{"role_ids": []string{x.str("id")}}, 422, "role_ids/predefined"},
			{"containment cycle", "POST", "/roles/" + y.str("id") + "/contains", map[string]any{"role_ids": []string{x.str("id")}}, 422, "role_ids/cycle"},
			{"self containment", "POST", "/roles/" + x.str("id") + "/contains", map[string]any{"role_ids": []string{x.str("id")}}, 422, "role_ids/cycle"},
			{"customer role without customer (direct)", "POST", "/users/" + frank.str("id") + "/roles", map[string]any{"role_ids": []string{e.roleID("Customer Manager")}}, 422, "customer_id/required"},
			{"customer role without customer (group)", "POST", "/groups/" + cu.str("id") + "/members", map[string]any{"user_ids": []string{frank.str("id")}}, 422, "customer_id/required"},
			{"customer primitive without customer", "POST", "/users/" + frank.str("id") + "/roles", map[string]any{"role_ids": []string{e.roleID("customer")}}, 422, "customer_id/required"},
			{"user name differing in case", "POST", "/users", userBody("FRANK", map[string]any{"email": "f2@example.com"}), 409, "username/taken"},
			{"mail differing in case", "POST", "/users", userBody("frank3", map[string]any{"email": "FRANK@EXAMPLE.COM"}), 409, "email/taken"},
			{"mail change to a taken one", "PATCH", "/users/" + gina.str("id"), map[string]any{"email": "Frank@Example.com"}, 409, "email/taken"},
			{"assign the implicit user role", "POST", "/users/" + frank.str("id") + "/roles", map[string]any{"role_ids": []string{e.roleID("user")}}, 422, "role_ids/not_allowed"},
			{"customer code null", "POST", "/customers", map[string]any{"code": "null", "name": "N"}, 422, "code/reserved"},
			{"every bad field at once", "POST", "/users", map[string]any{"username": "-bad", "email": "nope", "first_name": "", "last_name": "L", "timezone": "Mars/Base"}, 422, "timezone/invalid"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				parent := e.t
				e.t = t
				defer func() { e.t = parent }()
				before := e.auditCount()
				r := e.do(req{method: tc.method, path: tc.path, token: e.admin, body: tc.body})
				if r.status != tc.status || !slices.Contains(r.fieldErrors(), tc.want) {
					t.Fatalf("got %d %v, want %d with %s: %s", r.status, r.fieldErrors(), tc.status, tc.want, r.raw)
				}
				if r.str("title") == "" || r.body["status"].(float64) != float64(tc.status) || r.str("detail") == "" {
					t.Fatalf("not a complete problem document: %s", r.raw)
				}
				if after := e.auditCount(); after != before {
					t.Fatalf("refused change wrote %d audit records", after-before)
				}
			})
		}
		// Nothing changed: spot checks beyond the audit log.
		if u := e.must(200, "GET", "/users/"+admin, nil); u.str("first_name") != "System" || !u.body["enabled"].(bool) {
			t.Fatalf("admin changed: %s", u.raw)
		}
		if g := e.must(200, "GET", "/users/"+frank.str("id")+"/groups", nil); len(g.items()) != 1 {
			t.Fatalf("frank's groups changed: %s", g.raw)
		}
		if r := e.must(200, "GET", "/users/"+frank.str("id")+"/roles", nil); len(r.items()) != 0 {
			t.Fatalf("frank's roles changed: %s", r.raw)
		}
		if c := e.must(200, "GET", "/roles/"+y.str("id")+"/contains", nil); len(c.items()) != 0 {
			t.Fatalf("cycle half-written: %s", c.raw)
		}
	})
}
