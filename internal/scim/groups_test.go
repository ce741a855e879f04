package scim_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"opsiam/internal/directory"
)

// TestGroupLifecycle: a group created with members, replaced, patched and
// deleted; every change reaches the outbox (P1: GitLab and webhooks).
func TestGroupLifecycle(t *testing.T) {
	t.Parallel() // each test has its own database (issue 17, point 7)
	eachDB(t, func(t *testing.T, e *env) {
		a, b, c := e.user("ga", ""), e.user("gb", ""), e.user("gc", "")
		member := func(u directory.User) map[string]any { return map[string]any{"value": string(u.ID)} }
		created := must(t, e.call("POST", "/Groups", e.admin, map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"},
			"displayName": "Operators", "externalId": "ops-1", "members": []any{member(a), member(b)}}), 201)
		id := created.str("id")
		if len(created.body["members"].([]any)) != 2 || created.header.Get("Location") == "" {
			t.Fatalf("create: %s", created.raw)
		}
		if e.events("group.created") != 1 || e.events("group.member_added") != 2 {
			t.Fatalf("outbox after create: %d created, %d member_added", e.events("group.created"), e.events("group.member_added"))
		}
		// PUT replaces name and members: b stays, a goes, c comes.
		must(t, e.call("PUT", "/Groups/"+id, e.admin, map[string]any{"displayName": "Operators EU", "members": []any{member(b), member(c)}}), 200)
		g, _ := e.db.GetGroup(context.Background(), directory.GroupID(id))
		ms, _ := e.db.ListMembers(context.Background(), directory.Scope{}, g.ID, storeAll)
		if g.Name != "Operators EU" || g.ExternalID != "ops-1" || len(ms.Items) != 2 || ms.Items[0].Username != "gb" || ms.Items[1].Username != "gc" {
			t.Fatalf("after PUT: %+v %v", g, ms.Items)
		}
		if e.events("group.member_removed") != 1 || e.events("group.updated") != 1 {
			t.Fatalf("outbox after PUT: %d removed, %d updated", e.events("group.member_removed"), e.events("group.updated"))
		}
		// PATCH replace of all members, then a filter on members.
		must(t, e.call("PATCH", "/Groups/"+id, e.admin, map[string]any{"Operations": []any{
			map[string]any{"op": "replace", "path": "members", "value": []any{member(a)}}}}), 200)
		r := must(t, e.call("GET", "/Groups?filter="+url.QueryEscape(`displayName ne "global" and members[value eq "`+string(a.ID)+`"]`), e.admin, nil), 200)
		if r.total() != 1 || r.resources()[0]["id"] != id {
			t.Fatalf("members filter: %s", r.raw)
		}
		// A member id that is no user changes nothing.
		if r := e.call("PATCH", "/Groups/"+id, e.admin, map[string]any{"Operations": []any{
			map[string]any{"op": "add", "path": "members", "value": []any{member(b), map[string]any{"value": "nobody"}}}}}); r.status != 400 {
			t.Fatalf("unknown member: %d", r.status)
		}
		if ms, _ := e.db.ListMembers(context.Background(), directory.Scope{}, g.ID, storeAll); len(ms.Items) != 1 {
			t.Fatalf("members after a refused add: %v", ms.Items)
		}
		// The reserved group global cannot be renamed or deleted (G4).
		global, _ := e.db.GetGroupByName(context.Background(), "global")
		if r := e.call("DELETE", "/Groups/"+string(global.ID), e.admin, nil); r.status < 400 || r.status >= 500 {
			t.Fatalf("delete global: %d", r.status)
		}
		must(t, e.call("DELETE", "/Groups/"+id, e.admin, nil), 204)
		must(t, e.call("GET", "/Groups/"+id, e.admin, nil), 404)
		if e.events("group.deleted") != 1 {
			t.Fatalf("outbox after delete: %d deleted", e.events("group.deleted"))
		}
	})
}

// TestDiscovery: the discovery documents list what the server supports.
func TestDiscovery(t *testing.T) {
	t.Parallel() // each test has its own database (issue 17, point 7)
	e := newEnv(t, sqltestDSN(t))
	spc := must(t, e.call("GET", "/ServiceProviderConfig", e.admin, nil), 200)
	for _, f := range []string{"patch", "filter", "sort", "etag"} {
		if spc.body[f].(map[string]any)["supported"] != true {
			t.Errorf("%s not supported: %s", f, spc.raw)
		}
	}
	if spc.body["bulk"].(map[string]any)["supported"] != false {
		t.Error("bulk claimed")
	}
	rt := must(t, e.call("GET", "/ResourceTypes", e.admin, nil), 200)
	if rt.total() != 2 {
		t.Fatalf("resource types: %s", rt.raw)
	}
	must(t, e.call("GET", "/ResourceTypes/User", e.admin, nil), 200)
	sc := must(t, e.call("GET", "/Schemas", e.admin, nil), 200)
	ids := map[string]bool{}
	for _, s := range sc.resources() {
		ids[s["id"].(string)] = true
	}
	for _, id := range []string{"urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:core:2.0:Group",
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", "urn:opsiam:params:scim:schemas:extension:customer:2.0:User"} {
		if !ids[id] {
			t.Errorf("schema %s missing", id)
		}
		must(t, e.call("GET", "/Schemas/"+id, e.admin, nil), 200)
	}
	user := must(t, e.call("GET", "/Schemas/urn:ietf:params:scim:schemas:core:2.0:User", e.admin, nil), 200)
	if !strings.Contains(user.raw, `"userName"`) || !strings.Contains(user.raw, `"mutability":"immutable"`) {
		t.Errorf("user schema: %s", user.raw)
	}
	if r := e.call("GET", "/Schemas", "", nil); r.status != 401 {
		t.Errorf("schemas without a token: %d", r.status)
	}
}

// TestProjection: attributes and excludedAttributes, on one resource and
// on lists; id and schemas always come.
func TestProjection(t *testing.T) {
	t.Parallel() // each test has its own database (issue 17, point 7)
	e := newEnv(t, sqltestDSN(t))
	b := newUserBody("pia")
	b["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"] = map[string]any{"department": "QA"}
	id := must(t, e.call("POST", "/Users", e.admin, b), 201).str("id")
	r := must(t, e.call("GET", "/Users/"+id+"?attributes=name.familyName,urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", e.admin, nil), 200)
	if r.body["id"] != id || r.body["schemas"] == nil || r.body["userName"] != nil || r.str("name", "familyName") != "Family" ||
		r.body["name"].(map[string]any)["givenName"] != nil || r.str("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", "department") != "QA" {
		t.Fatalf("attributes: %s", r.raw)
	}
	r = must(t, e.call("GET", "/Users/"+id+"?excludedAttributes=emails,name.givenName,groups,id", e.admin, nil), 200)
	if r.body["emails"] != nil || r.body["groups"] != nil || r.body["id"] != id || r.str("name", "familyName") != "Family" || r.body["name"].(map[string]any)["givenName"] != nil {
		t.Fatalf("excludedAttributes: %s", r.raw)
	}
	r = must(t, e.call("GET", "/Users?filter="+url.QueryEscape(`userName eq "pia"`)+"&attributes=emails.value", e.admin, nil), 200)
	if em := r.resources()[0]["emails"].([]any); len(em) != 1 || em[0].(map[string]any)["type"] != nil || em[0].(map[string]any)["value"] != "pia@example.com" {
		t.Fatalf("list attributes: %s", r.raw)
	}
	r = must(t, e.call("GET", "/Users?attributes=groups&filter="+url.QueryEscape(`userName eq "pia"`), e.admin, nil), 200)
	if gs, _ := r.resources()[0]["groups"].([]any); len(gs) != 1 {
		t.Fatalf("groups on request: %s", r.raw)
	}
}
