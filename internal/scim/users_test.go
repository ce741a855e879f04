package scim_test

import (
	"context"
	"fmt"
	"net/url"
	"testing"

	"opsiam/internal/directory"
	"opsiam/internal/manage"
	"opsiam/internal/store"
)

func newUserBody(name string) map[string]any {
	return map[string]any{
		"schemas":  []string{"urn:ietf:params:scim:schemas:core:2.0:User"},
		"userName": name,
		"name":     map[string]any{"givenName": "Given " + name, "familyName": "Family"},
		"emails":   []any{map[string]any{"value": name + "@example.com", "type": "work", "primary": true}},
		"active":   true,
	}
}

// TestUserLifecycle: create, read, replace, patch and delete a user, each
// through the use cases (audit records, a SCIM delete is a delete).
func TestUserLifecycle(t *testing.T) {
	t.Parallel() // each test has its own database (issue 17, point 7)
	eachDB(t, func(t *testing.T, e *env) {
		acme := e.customer("acme")
		body := newUserBody("alice")
		body["externalId"] = "ext-Alice-1"
		body["urn:opsiam:params:scim:schemas:extension:customer:2.0:User"] = map[string]any{"customerCode": "acme"}
		body["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"] = map[string]any{"department": "Ops", "organization": "Acme"}
		body["phoneNumbers"] = []any{map[string]any{"value": "+81 3 1234", "type": "work"}, map[string]any{"value": "090 1234", "type": "mobile"}}
		created := must(t, e.call("POST", "/Users", e.admin, body), 201)
		id := created.str("id")
		if created.header.Get("Location") != e.srv.URL+"/scim/v2/Users/"+id || created.header.Get("ETag") != `W/"1"` ||
			created.str("meta", "version") != `W/"1"` || created.str("meta", "resourceType") != "User" {
			t.Fatalf("create: Location %q ETag %q meta %v", created.header.Get("Location"), created.header.Get("ETag"), created.body["meta"])
		}
		u, err := e.db.GetUser(context.Background(), directory.Scope{}, directory.UserID(id))
		if err != nil || u.Username != "alice" || u.CustomerID != acme.ID || u.ExternalID != "ext-Alice-1" ||
			u.Department != "Ops" || u.Company != "Acme" || u.Phone1 != "+81 3 1234" || u.Phone2 != "090 1234" || !u.Enabled {
			t.Fatalf("stored user = %+v, %v", u, err)
		}
		got := must(t, e.call("GET", "/Users/"+id, e.admin, nil), 200)
		if got.str("urn:opsiam:params:scim:schemas:extension:customer:2.0:User", "customerCode") != "acme" ||
			got.str("displayName") != "Given alice Family" || got.str("externalId") != "ext-Alice-1" {
			t.Fatalf("GET = %s", got.raw)
		}
		if gs, _ := got.body["groups"].([]any); len(gs) != 1 || gs[0].(map[string]any)["display"] != "global" {
			t.Errorf("groups = %v, want global", got.body["groups"])
		}

		// PUT replaces the profile; the customer stays when the extension is absent.
		put := newUserBody("alice")
		put["name"] = map[string]any{"givenName": "Alicia", "familyName": "Family"}
		put["active"] = false
		must(t, e.call("PUT", "/Users/"+id, e.admin, put), 200)
		u, _ = e.db.GetUser(context.Background(), directory.Scope{}, directory.UserID(id))
		if u.FirstName != "Alicia" || u.Enabled || u.CustomerID != acme.ID || u.Department != "" || u.Phone1 != "" || u.ExternalID != "ext-Alice-1" {
			t.Fatalf("after PUT: %+v", u)
		}

		// PATCH: RFC paths.
		patch := map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"}, "Operations": []any{
			map[string]any{"op": "replace", "path": "name.familyName", "value": "Smith"},
			map[string]any{"op": "replace", "path": `emails[type eq "work"].value`, "value": "alicia@example.com"},
			map[string]any{"op": "add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "value": "Sales"},
			map[string]any{"op": "replace", "path": "active", "value": true},
		}}
		p := must(t, e.call("PATCH", "/Users/"+id, e.admin, patch), 200)
		u, _ = e.db.GetUser(context.Background(), directory.Scope{}, directory.UserID(id))
		if u.LastName != "Smith" || u.Email != "alicia@example.com" || u.Department != "Sales" || !u.Enabled || p.header.Get("ETag") != fmt.Sprintf(`W/"%d"`, u.Version) {
			t.Fatalf("after PATCH: %+v (ETag %s)", u, p.header.Get("ETag"))
		}

		// Every change went through the use cases: audited.
		audit, err := e.db.ListAudit(context.Background(), store.AuditQuery{TargetID: id, Limit: 50})
		if err != nil || len(audit.Items) < 3 {
			t.Fatalf("audit of %s: %d records, %v", id, len(audit.Items), err)
		}

		// A customer user (role customer, C2): its deletion leaves a tombstone.
		r, _ := e.db.GetRoleByName(context.Background(), directory.RoleNameCustomer)
		if err := e.svc.AssignUserRoles(context.Background(), manage.SystemCaller("", "test"), u.ID, []directory.RoleID{r.ID}); err != nil {
			t.Fatal(err)
		}
		must(t, e.call("DELETE", "/Users/"+id, e.admin, nil), 204)
		must(t, e.call("GET", "/Users/"+id, e.admin, nil), 404)
		// alice was a customer user: a tombstone keeps her name, and a new
		// alice is not created silently over it (D1, D2).
		again := e.call("POST", "/Users", e.admin, newUserBody("alice"))
		if again.status != 409 || again.scimType() != "uniqueness" {
			t.Fatalf("create over a tombstone: %d %s", again.status, again.raw)
		}
	})
}

func TestUserFilters(t *testing.T) {
	t.Parallel() // each test has its own database (issue 17, point 7)
	eachDB(t, func(t *testing.T, e *env) {
		for i, n := range []string{"anna", "bert", "carla", "dora"} {
			b := newUserBody(n)
			b["externalId"] = fmt.Sprintf("X-%d", i)
			b["active"] = i%2 == 0
			must(t, e.call("POST", "/Users", e.admin, b), 201)
		}
		cases := []struct {
			filter string
			want   []string
		}{
			{`userName eq "Bert"`, []string{"bert"}}, // userName ignores case
			{`externalId eq "X-2"`, []string{"carla"}},
			{`externalId eq "x-2"`, nil}, // externalId is caseExact
			{`emails.value eq "dora@example.com"`, []string{"dora"}},
			{`emails[value eq "dora@example.com"]`, []string{"dora"}},
			{`userName sw "c"`, []string{"carla"}},
			{`userName co "r"`, []string{"bert", "carla", "dora"}},
			{`displayName co "anna"`, []string{"anna"}},
			{`active eq false`, []string{"bert", "dora"}},
			{`externalId pr and active eq true`, []string{"anna", "carla"}},
			{`userName eq "anna" or userName eq "dora"`, []string{"anna", "dora"}},
			{`not (userName eq "admin") and not (externalId pr)`, nil},
			{`name.familyName eq "family" and userName ew "a"`, []string{"anna", "carla", "dora"}},
			{`meta.created gt "2000-01-01T00:00:00Z" and userName sw "b"`, []string{"bert"}},
		}
		for _, c := range cases {
			r := must(t, e.call("GET", "/Users?sortBy=userName&filter="+url.QueryEscape(c.filter), e.admin, nil), 200)
			var got []string
			for _, res := range r.resources() {
				got = append(got, res["userName"].(string))
			}
			if fmt.Sprint(got) != fmt.Sprint(c.want) || r.total() != len(c.want) {
				t.Errorf("filter %s: %v (total %d), want %v", c.filter, got, r.total(), c.want)
			}
		}
		for _, bad := range []string{`userName eq`, `userName xx "a"`, `(userName eq "a"`, `active gt true`} {
			r := e.call("GET", "/Users?filter="+url.QueryEscape(bad), e.admin, nil)
			if r.status != 400 || r.scimType() != "invalidFilter" {
				t.Errorf("filter %s: %d %s, want 400 invalidFilter", bad, r.status, r.raw)
			}
		}
	})
}
