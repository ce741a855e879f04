package manage_test

import (
	"context"
	"strings"
	"testing"

	"opsiam/internal/directory"
	"opsiam/internal/manage"
	"opsiam/internal/store"
)

// TestAuditShape is the audit part of issue 13: before and after carry the
// API's field names, and the actor is set.
func TestAuditShape(t *testing.T) {
	t.Parallel() // each test has its own database (issue 17, point 7)
	eachFixture(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		u, err := f.svc.CreateUser(ctx, f.actor, directory.User{Username: "kai", Email: "kai@example.test", FirstName: "Kai",
			LastName: "Mori", Enabled: true})
		if err != nil {
			t.Fatal(err)
		}
		name := "Kaito"
		if _, err := f.svc.UpdateUser(ctx, f.actor, directory.Scope{}, u.ID, 0, manage.UserPatch{FirstName: &name}); err != nil {
			t.Fatal(err)
		}
		page, err := f.st.ListAudit(ctx, store.AuditQuery{Action: "user.update"})
		if err != nil || len(page.Items) != 1 {
			t.Fatalf("audit: %+v %v", page, err)
		}
		rec := page.Items[0]
		for _, raw := range []string{string(rec.Before), string(rec.After)} {
			if !strings.Contains(raw, `"first_name":`) || strings.Contains(raw, "FirstName") {
				t.Fatalf("audit record uses other field names than the API: %s", raw)
			}
		}
		if rec.ActorID == "" || rec.ActorName != "tester" {
			t.Fatalf("actor not set: %+v", rec)
		}
	})
}
