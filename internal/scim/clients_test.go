package scim_test

import (
	"context"
	"net/url"
	"testing"

	"opsiam/internal/directory"
)

// The request sequences of the two provisioning clients most customers
// use, as their published documentation describes them: Okta's SCIM 2.0
// provisioning guide and Microsoft Entra ID's SCIM provisioning reference.

// TestOktaSequence: Okta looks a user up by userName before it creates
// one, deactivates with a value-only replace of active, and sends profile
// changes as PUT of the whole user.
func TestOktaSequence(t *testing.T) {
	t.Parallel() // each test has its own database (issue 17, point 7)
	eachDB(t, func(t *testing.T, e *env) {
		q := "/Users?filter=" + url.QueryEscape(`userName eq "jane.doe@example.com"`) + "&startIndex=1&count=100"
		r := must(t, e.call("GET", q, e.admin, nil), 200)
		if r.total() != 0 || len(r.resources()) != 0 || r.body["startIndex"].(float64) != 1 {
			t.Fatalf("lookup before create: %s", r.raw)
		}
		created := must(t, e.call("POST", "/Users", e.admin, map[string]any{
			"schemas":     []string{"urn:ietf:params:scim:schemas:core:2.0:User"},
			"userName":    "jane.doe@example.com",
			"name":        map[string]any{"givenName": "Jane", "familyName": "Doe"},
			"emails":      []any{map[string]any{"primary": true, "value": "jane.doe@example.com", "type": "work"}},
			"displayName": "Jane Doe",
			"locale":      "en-US",
			"externalId":  "00u1abcd",
			"groups":      []any{},
			"password":    "not kept",
			"active":      true,
		}), 201)
		id := created.str("id")
		r = must(t, e.call("GET", q, e.admin, nil), 200)
		if r.total() != 1 || r.resources()[0]["id"] != id {
			t.Fatalf("lookup after create: %s", r.raw)
		}
		// Deactivate: PATCH with a value-only replace.
		must(t, e.call("PATCH", "/Users/"+id, e.admin, map[string]any{
			"schemas":    []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
			"Operations": []any{map[string]any{"op": "replace", "value": map[string]any{"active": false}}},
		}), 200)
		u, _ := e.db.GetUser(context.Background(), directory.Scope{}, directory.UserID(id))
		if u.Enabled {
			t.Fatal("still enabled after Okta's deactivation")
		}
		// Profile change: PUT of the whole user (Okta sends the id and active too).
		put := created.body
		put["name"] = map[string]any{"givenName": "Janet", "familyName": "Doe"}
		put["active"] = true
		r = must(t, e.call("PUT", "/Users/"+id, e.admin, put), 200)
		u, _ = e.db.GetUser(context.Background(), directory.Scope{}, directory.UserID(id))
		if u.FirstName != "Janet" || !u.Enabled || r.str("name", "givenName") != "Janet" {
			t.Fatalf("after PUT: %+v", u)
		}
		// Okta removes a group member with a filtered path.
		g := must(t, e.call("POST", "/Groups", e.admin, map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"},
			"displayName": "Okta Group", "members": []any{map[string]any{"value": id, "display": "jane.doe@example.com"}}}), 201)
		must(t, e.call("PATCH", "/Groups/"+g.str("id"), e.admin, map[string]any{
			"schemas":    []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
			"Operations": []any{map[string]any{"op": "remove", "path": `members[value eq "` + id + `"]`}},
		}), 200)
		if gs, _ := e.db.UserGroups(context.Background(), u.ID); len(gs) != 1 { // global only
			t.Fatalf("groups after Okta's removal: %v", gs)
		}
	})
}

// TestEntraSequence: Entra ID filters by externalId, capitalises op names,
// sends booleans as strings, uses filtered paths for mails and phones, and
// adds and removes group members in batches.
func TestEntraSequence(t *testing.T) {
	t.Parallel() // each test has its own database (issue 17, point 7)
	eachDB(t, func(t *testing.T, e *env) {
		q := "/Users?filter=" + url.QueryEscape(`externalId eq "8a6d1f4c-1b2e-4e77-9c2f-2f7a1c9d0e11"`)
		if r := must(t, e.call("GET", q, e.admin, nil), 200); r.total() != 0 {
			t.Fatalf("lookup: %s", r.raw)
		}
		created := must(t, e.call("POST", "/Users", e.admin, map[string]any{
			"schemas":     []string{"urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"},
			"externalId":  "8a6d1f4c-1b2e-4e77-9c2f-2f7a1c9d0e11",
			"userName":    "kenji@contoso.example",
			"active":      "True",
			"displayName": "Kenji Sato",
			"emails":      []any{map[string]any{"primary": true, "type": "work", "value": "kenji@contoso.example"}},
			"meta":        map[string]any{"resourceType": "User"},
			"name":        map[string]any{"formatted": "Kenji Sato", "familyName": "Sato", "givenName": "Kenji"},
			"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": map[string]any{"department": "Network"},
		}), 201)
		id := created.str("id")
		if r := must(t, e.call("GET", q, e.admin, nil), 200); r.total() != 1 {
			t.Fatalf("lookup after create: %s", r.raw)
		}
		must(t, e.call("PATCH", "/Users/"+id, e.admin, map[string]any{
			"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
			"Operations": []any{
				map[string]any{"op": "Replace", "path": `emails[type eq "work"].value`, "value": "k.sato@contoso.example"},
				map[string]any{"op": "Replace", "path": "name.givenName", "value": "Kenji-san"},
				map[string]any{"op": "Add", "path": `phoneNumbers[type eq "mobile"].value`, "value": "+81 90 1111 2222"},
				map[string]any{"op": "Replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "value": "Security"},
				map[string]any{"op": "Replace", "path": "displayName", "value": "Kenji Sato (SOC)"},
				map[string]any{"op": "Replace", "path": "active", "value": "False"},
			}}), 200)
		u, _ := e.db.GetUser(context.Background(), directory.Scope{}, directory.UserID(id))
		if u.Email != "k.sato@contoso.example" || u.FirstName != "Kenji-san" || u.Phone2 != "+81 90 1111 2222" ||
			u.Department != "Security" || u.Enabled {
			t.Fatalf("after Entra's PATCH: %+v", u)
		}
		// A value-only Replace with dotted keys, as Entra sends some updates.
		must(t, e.call("PATCH", "/Users/"+id, e.admin, map[string]any{
			"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
			"Operations": []any{map[string]any{"op": "Replace", "value": map[string]any{
				"active": "True", "name.familyName": "Satō",
				"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department": "SOC"}}}}), 200)
		u, _ = e.db.GetUser(context.Background(), directory.Scope{}, directory.UserID(id))
		if !u.Enabled || u.LastName != "Satō" || u.Department != "SOC" {
			t.Fatalf("after the value-only Replace: %+v", u)
		}

		// Groups: created with an externalId, members added and removed in batches.
		var ids []string
		for _, n := range []string{"m1", "m2", "m3", "m4"} {
			ids = append(ids, string(e.user(n, "").ID))
		}
		g := must(t, e.call("POST", "/Groups", e.admin, map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"},
			"externalId": "b4c3a2d1", "displayName": "Contoso NOC"}), 201)
		gid := g.str("id")
		if r := must(t, e.call("GET", "/Groups?excludedAttributes=members&filter="+url.QueryEscape(`displayName eq "Contoso NOC"`), e.admin, nil), 200); r.total() != 1 || r.resources()[0]["members"] != nil {
			t.Fatalf("group lookup: %s", r.raw)
		}
		batch := func(op string, members ...string) {
			var vs []any
			for _, m := range members {
				vs = append(vs, map[string]any{"value": m})
			}
			must(t, e.call("PATCH", "/Groups/"+gid, e.admin, map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
				"Operations": []any{map[string]any{"op": op, "path": "members", "value": vs}}}), 200)
		}
		batch("Add", ids[0], ids[1], ids[2])
		batch("Add", ids[3])
		batch("Remove", ids[0], ids[2])
		ms, _ := e.db.ListMembers(context.Background(), directory.Scope{}, directory.GroupID(gid), storeAll)
		var names []string
		for _, m := range ms.Items {
			names = append(names, m.Username)
		}
		if len(names) != 2 || names[0] != "m2" || names[1] != "m4" {
			t.Fatalf("members = %v, want [m2 m4]", names)
		}
		r := must(t, e.call("GET", "/Groups/"+gid, e.admin, nil), 200)
		if r.str("externalId") != "b4c3a2d1" || len(r.body["members"].([]any)) != 2 {
			t.Fatalf("group = %s", r.raw)
		}
	})
}
