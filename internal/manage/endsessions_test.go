package manage_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"opsiam/internal/directory"
	"opsiam/internal/store"
)

// TestEndSessionsHook: disabling or deleting a user runs the EndSessions
// hook in the same transaction (U7, A5); enabling does not; and a failing
// hook undoes the change.
func TestEndSessionsHook(t *testing.T) {
	t.Parallel() // each test has its own database (issue 17, point 7)
	eachFixture(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		var ended []directory.UserID
		fail := false
		f.svc.EndSessions = func(ctx context.Context, tx store.Tx, id directory.UserID) error {
			if _, err := tx.GetUser(ctx, directory.Scope{}, id); err != nil {
				return err // runs before the delete, inside the transaction
			}
			if fail {
				return errors.New("hook failed")
			}
			ended = append(ended, id)
			return nil
		}
		u, err := f.svc.CreateUser(ctx, f.actor, person("erin"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.SetEnabled(ctx, f.actor, directory.Scope{}, u.ID, false); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.SetEnabled(ctx, f.actor, directory.Scope{}, u.ID, true); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(ended, []directory.UserID{u.ID}) {
			t.Fatalf("after disable and enable: hook ran for %v", ended)
		}
		fail = true
		if _, err := f.svc.SetEnabled(ctx, f.actor, directory.Scope{}, u.ID, false); err == nil {
			t.Fatal("disable succeeded although the hook failed")
		}
		if got, _ := f.st.GetUser(ctx, directory.Scope{}, u.ID); !got.Enabled {
			t.Fatal("a failed hook left the user disabled")
		}
		fail = false
		if err := f.svc.DeleteUser(ctx, f.actor, directory.Scope{}, u.ID, 0); err != nil {
			t.Fatal(err)
		}
		if len(ended) != 2 || ended[1] != u.ID {
			t.Fatalf("delete did not run the hook: %v", ended)
		}
	})
}
