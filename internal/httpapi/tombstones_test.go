package httpapi_test

import (
	"context"
	"testing"

	"opsiam/internal/directory"
	"opsiam/internal/store"
)

// TestTombstoneChoice: deleting a customer user leaves a tombstone (D1); a
// new user with its name gets 409 with tombstones and choices and nothing
// written (D3); repeating the request with a resolution creates the user
// and takes the tombstone over (D2). On both databases.
func TestTombstoneChoice(t *testing.T) {
	t.Parallel() // each test has its own database and server (issue 17, point 7)
	eachDB(t, bothDatabases, func(t *testing.T, e *env) {
		ctx := context.Background()
		acme := e.must(201, "POST", "/customers", map[string]any{"code": "ACME", "name": "Acme"})
		old := e.must(201, "POST", "/users", userBody("kim", map[string]any{"customer_id": acme.str("id")}))
		e.must(200, "POST", "/users/"+old.str("id")+"/roles", map[string]any{"role_ids": []string{e.roleID("Customer User")}})
		e.must(204, "DELETE", "/users/"+old.str("id"), nil)
		ts, err := e.db.ListTombstones(ctx, store.TombstoneQuery{})
		if err != nil || len(ts.Items) != 1 || ts.Items[0].Username != "kim" {
			t.Fatalf("tombstone after delete: %+v %v", ts.Items, err)
		}
		before := e.auditCount()
		body := userBody("kim", map[string]any{"email": "kim.new@example.com"})
		c := e.must(409, "POST", "/users", body)
		tombs, _ := c.body["tombstones"].([]any)
		choices, _ := c.body["choices"].([]any)
		if len(tombs) != 1 || len(choices) < 2 || tombs[0].(map[string]any)["username"] != "kim" {
			t.Fatalf("conflict answer: %s", c.raw)
		}
		if e.auditCount() != before {
			t.Fatal("the 409 wrote")
		}
		tid := tombs[0].(map[string]any)["id"].(string)
		body["resolution"] = []map[string]any{{"action": "take_over", "tombstone_id": tid}}
		u := e.must(201, "POST", "/users", body)
		after, _ := e.db.ListTombstones(ctx, store.TombstoneQuery{TakenOverBy: directory.UserID(u.str("id"))})
		if len(after.Items) != 1 || after.Items[0].ID != directory.TombstoneID(tid) {
			t.Fatalf("not taken over: %+v", after.Items)
		}
		// A resolution when nothing is to be resolved is refused.
		body = userBody("lee", map[string]any{"resolution": []map[string]any{{"action": "take_over", "tombstone_id": tid}}})
		e.must(422, "POST", "/users", body)
	})
}
