package httpapi_test

import (
	"net/http"
	"slices"
	"testing"

	"opsiam/internal/directory"
)

// effectiveNames lists the effective role names of user id, read as admin.
func (e *env) effectiveNames(id string) []string {
	e.t.Helper()
	var out []string
	for _, it := range e.must(200, "GET", "/users/"+id+"/effective-roles", nil).items() {
		out = append(out, it["name"].(string))
	}
	return out
}

// newUser creates a user holding roles (by name) and returns its id and a
// platform token for it.
func (e *env) newUser(name string, roles ...string) (string, string) {
	e.t.Helper()
	id := e.must(201, "POST", "/users", userBody(name, nil)).str("id")
	if len(roles) > 0 {
		var ids []string
		for _, r := range roles {
			ids = append(ids, e.roleID(r))
		}
		e.must(200, "POST", "/users/"+id+"/roles", map[string]any{"role_ids": ids})
	}
	return id, e.token(id)
}

// TestNoEscalation is rule 1 of issue 13 through the REST API on both
// databases: a System Administrator (user_admin, no token_admin) tries the
// six ways that gave it token_admin, and minting a token for admin; each
// is refused with 403 and it holds no more than before. What it holds it
// may still grant, customer_admin included (user.write covers it).
func TestNoEscalation(t *testing.T) {
	t.Parallel() // each test has its own database and server (issue 17, point 7)
	eachDB(t, bothDatabases, func(t *testing.T, e *env) {
		saID, sa := e.newUser("sysadmin", directory.RoleNameSystemAdmin)
		ssa, tokenAdmin := e.roleID(directory.RoleNameSystemSecurityAdmin), e.roleID(directory.RoleNameTokenAdmin)
		secGroup := e.must(201, "POST", "/groups", map[string]any{"name": "security"}).str("id")
		e.must(200, "POST", "/groups/"+secGroup+"/roles", map[string]any{"role_ids": []string{ssa}})

		as := func(method, path string, body any) resp {
			t.Helper()
			return e.do(req{method: method, path: path, token: sa, body: body})
		}
		ownGroup := as("POST", "/groups", map[string]any{"name": "mine"})
		custom := as("POST", "/roles", map[string]any{"name": "Mine"})
		if ownGroup.status != http.StatusCreated || custom.status != http.StatusCreated {
			t.Fatalf("a System Administrator may create groups and roles: %d %d", ownGroup.status, custom.status)
		}
		if r := as("POST", "/groups/"+ownGroup.str("id")+"/members", map[string]any{"user_ids": []string{saID}}); r.status != http.StatusOK {
			t.Fatalf("joining a group without roles: %d %s", r.status, r.raw)
		}
		for name, try := range map[string]func() resp{
			"System Security Administrator directly": func() resp {
				return as("POST", "/users/"+saID+"/roles", map[string]any{"role_ids": []string{ssa}})
			},
			"the token_admin primitive": func() resp {
				return as("POST", "/users/"+saID+"/roles", map[string]any{"role_ids": []string{tokenAdmin}})
			},
			"joining a group that holds SSA": func() resp {
				return as("POST", "/groups/"+secGroup+"/members", map[string]any{"user_ids": []string{saID}})
			},
			"a custom role containing token_admin": func() resp {
				return as("POST", "/roles/"+custom.str("id")+"/contains", map[string]any{"role_ids": []string{tokenAdmin}})
			},
			"a custom role containing SSA": func() resp {
				return as("POST", "/roles/"+custom.str("id")+"/contains", map[string]any{"role_ids": []string{ssa}})
			},
			"token_admin on its own group": func() resp {
				return as("POST", "/groups/"+ownGroup.str("id")+"/roles", map[string]any{"role_ids": []string{tokenAdmin}})
			},
			"a platform token for admin": func() resp {
				return as("POST", "/users/"+string(e.adm.ID)+"/token", nil)
			},
		} {
			if r := try(); r.status != http.StatusForbidden {
				t.Errorf("%s: %d, want 403: %s", name, r.status, r.raw)
			}
		}
		if got := e.effectiveNames(saID); slices.Contains(got, directory.RoleNameTokenAdmin) ||
			slices.Contains(got, directory.RoleNameSystemSecurityAdmin) {
			t.Fatalf("the System Administrator escalated: %v", got)
		}
		// admin, who holds token_admin, may still put it in a custom role
		// and grant it; the System Administrator may grant what it holds.
		e.must(200, "POST", "/roles/"+custom.str("id")+"/contains", map[string]any{"role_ids": []string{tokenAdmin}})
		otherID, _ := e.newUser("other")
		if r := as("POST", "/users/"+otherID+"/roles", map[string]any{"role_ids": []string{e.roleID(directory.RoleNameManager)}}); r.status != http.StatusOK {
			t.Fatalf("granting Manager: %d %s", r.status, r.raw)
		}
		cust := e.must(201, "POST", "/customers", map[string]any{"code": "acme", "name": "ACME"}).str("id")
		cm := e.must(201, "POST", "/users", userBody("cm", map[string]any{"customer_id": cust})).str("id")
		if r := as("POST", "/users/"+cm+"/roles", map[string]any{"role_ids": []string{e.roleID(directory.RoleNameCustomerManager)}}); r.status != http.StatusOK {
			t.Fatalf("making a customer manager: %d %s", r.status, r.raw)
		}
	})
}

// TestReservedAdminStaysWhole is rule 2 of issue 13: nothing removes a
// permission of System Security Administrator from admin, and admin cannot
// be disabled, whoever asks.
func TestReservedAdminStaysWhole(t *testing.T) {
	t.Parallel() // each test has its own database and server (issue 17, point 7)
	eachDB(t, bothDatabases, func(t *testing.T, e *env) {
		admin := string(e.adm.ID)
		ssa := e.roleID(directory.RoleNameSystemSecurityAdmin)
		if r := e.do(req{method: "DELETE", path: "/users/" + admin + "/roles/" + ssa, token: e.admin}); r.status != http.StatusUnprocessableEntity ||
			!slices.Contains(r.fieldErrors(), "role_id/reserved") {
			t.Fatalf("removing SSA from admin: %d %s", r.status, r.raw)
		}
		// Through a group: admin holds SSA there too, so the direct grant may
		// go, but then leaving the group may not.
		g := e.must(201, "POST", "/groups", map[string]any{"name": "admins"}).str("id")
		e.must(200, "POST", "/groups/"+g+"/roles", map[string]any{"role_ids": []string{ssa}})
		e.must(200, "POST", "/groups/"+g+"/members", map[string]any{"user_ids": []string{admin}})
		e.must(204, "DELETE", "/users/"+admin+"/roles/"+ssa, nil)
		if r := e.do(req{method: "DELETE", path: "/groups/" + g + "/members/" + admin, token: e.admin}); r.status != http.StatusUnprocessableEntity {
			t.Fatalf("removing admin from the group that grants it SSA: %d %s", r.status, r.raw)
		}
		if r := e.do(req{method: "DELETE", path: "/groups/" + g + "/roles/" + ssa, token: e.admin}); r.status != http.StatusUnprocessableEntity {
			t.Fatalf("removing SSA from admin's group: %d %s", r.status, r.raw)
		}
		if r := e.do(req{method: "DELETE", path: "/groups/" + g, token: e.admin}); r.status != http.StatusUnprocessableEntity {
			t.Fatalf("deleting admin's group: %d %s", r.status, r.raw)
		}
		if r := e.do(req{method: "PATCH", path: "/users/" + admin, token: e.admin, body: map[string]any{"enabled": false}}); r.status != http.StatusUnprocessableEntity {
			t.Fatalf("disabling admin: %d %s", r.status, r.raw)
		}
		bulk := e.must(200, "POST", "/users/bulk", map[string]any{"action": "disable", "ids": []string{admin}})
		if it := bulk.items()[0]; it["ok"] == true {
			t.Fatalf("bulk-disabling admin: %v", it)
		}
		if got := e.effectiveNames(admin); !slices.Contains(got, directory.RoleNameTokenAdmin) || !slices.Contains(got, directory.RoleNameUserAdmin) {
			t.Fatalf("admin lost permissions: %v", got)
		}
		if r := e.do(req{method: "GET", path: "/users", token: e.admin}); r.status != http.StatusOK {
			t.Fatalf("admin can no longer list users: %d", r.status)
		}
	})
}

// TestIdentifiersNeverCollide is rule 4 of issue 13: a user name that is
// another user's mail address, or a mail address that is another user's
// name, is refused with 422 naming the field, on create and on update.
func TestIdentifiersNeverCollide(t *testing.T) {
	t.Parallel() // each test has its own database and server (issue 17, point 7)
	eachDB(t, bothDatabases, func(t *testing.T, e *env) {
		e.must(201, "POST", "/users", userBody("bob", map[string]any{"email": "bob@example.com"}))
		e.must(201, "POST", "/users", userBody("dave@example.org", map[string]any{"email": "dave@example.net"}))
		check := func(name string, r resp, want string) {
			t.Helper()
			if r.status != http.StatusUnprocessableEntity || !slices.Contains(r.fieldErrors(), want) {
				t.Errorf("%s: %d %s, want 422 %s", name, r.status, r.raw, want)
			}
		}
		check("user name = bob's mail", e.do(req{method: "POST", path: "/users", token: e.admin,
			body: userBody("BOB@example.com", map[string]any{"email": "other@example.com"})}), "username/taken")
		check("mail = dave's user name", e.do(req{method: "POST", path: "/users", token: e.admin,
			body: userBody("erin", map[string]any{"email": "Dave@example.org"})}), "email/taken")
		erin := e.must(201, "POST", "/users", userBody("erin", map[string]any{"email": "erin@example.com"})).str("id")
		check("changing a mail to dave's user name", e.do(req{method: "PATCH", path: "/users/" + erin, token: e.admin,
			body: map[string]any{"email": "dave@example.org"}}), "email/taken")
	})
}

// TestDisableEndsTokenForGood is rule 3 of issue 13 through the REST API
// on both databases: a platform token does not come back when its user is
// enabled again.
func TestDisableEndsTokenForGood(t *testing.T) {
	t.Parallel() // each test has its own database and server (issue 17, point 7)
	eachDB(t, bothDatabases, func(t *testing.T, e *env) {
		id, tok := e.newUser("gone", directory.RoleNameManager)
		if r := e.do(req{method: "GET", path: "/users", token: tok}); r.status != http.StatusOK {
			t.Fatalf("before: %d", r.status)
		}
		e.must(200, "PATCH", "/users/"+id, map[string]any{"enabled": false})
		e.must(200, "PATCH", "/users/"+id, map[string]any{"enabled": true})
		if r := e.do(req{method: "GET", path: "/users", token: tok}); r.status != http.StatusUnauthorized {
			t.Fatalf("the old token after disable and enable: %d", r.status)
		}
	})
}

// TestCustomerManagerOnlyInsideItsCustomer is rule 6 of issue 13 through
// the REST API on both databases: a Customer Manager enables, disables and
// resets the users of its own customer, and nothing else.
func TestCustomerManagerOnlyInsideItsCustomer(t *testing.T) {
	t.Parallel() // each test has its own database and server (issue 17, point 7)
	eachDB(t, bothDatabases, func(t *testing.T, e *env) {
		acme := e.must(201, "POST", "/customers", map[string]any{"code": "ACME", "name": "Acme"}).str("id")
		other := e.must(201, "POST", "/customers", map[string]any{"code": "OTHER", "name": "Other"}).str("id")
		cmID := e.must(201, "POST", "/users", userBody("cm", map[string]any{"customer_id": acme})).str("id")
		e.must(200, "POST", "/users/"+cmID+"/roles", map[string]any{"role_ids": []string{e.roleID(directory.RoleNameCustomerManager)}})
		cm := e.token(cmID)
		mine := e.must(201, "POST", "/users", userBody("mine", map[string]any{"customer_id": acme})).str("id")
		theirs := e.must(201, "POST", "/users", userBody("theirs", map[string]any{"customer_id": other})).str("id")
		staff := e.must(201, "POST", "/users", userBody("staff", nil)).str("id")
		for _, tc := range []struct {
			method, path string
			body         any
			want         int
		}{
			{"PATCH", "/users/" + mine, map[string]any{"enabled": false}, 200},
			{"PATCH", "/users/" + mine, map[string]any{"enabled": true}, 200},
			{"POST", "/users/" + mine + "/password-reset", nil, 202},
			{"PATCH", "/users/" + mine, map[string]any{"note": "x"}, 403},
			{"DELETE", "/users/" + mine, nil, 403},
			{"POST", "/users/" + mine + "/roles", map[string]any{"role_ids": []string{e.roleID(directory.RoleNameCustomerUser)}}, 403},
			{"PATCH", "/users/" + theirs, map[string]any{"enabled": false}, 404},
			{"PATCH", "/users/" + staff, map[string]any{"enabled": false}, 404},
			{"POST", "/users/" + theirs + "/password-reset", nil, 404},
		} {
			if r := e.do(req{method: tc.method, path: tc.path, token: cm, body: tc.body}); r.status != tc.want {
				t.Errorf("%s %s %v: %d, want %d: %s", tc.method, tc.path, tc.body, r.status, tc.want, r.raw)
			}
		}
		bulk := e.do(req{method: "POST", path: "/users/bulk", token: cm, body: map[string]any{"action": "disable", "ids": []string{mine, theirs}}})
		if bulk.status != 200 || bulk.items()[0]["ok"] != true || bulk.items()[1]["status"] != float64(404) {
			t.Errorf("bulk by the customer manager: %d %s", bulk.status, bulk.raw)
		}
	})
}
