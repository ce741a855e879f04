package gitlab_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"opsiam/internal/auth"
	"opsiam/internal/directory"
	"opsiam/internal/manage"
	"opsiam/internal/provision"
	"opsiam/internal/store"
	"opsiam/internal/store/sqlstore"
	"opsiam/internal/store/sqlstore/sqltest"
)

func renamed(id, previous, name string) store.Event {
	return event(provision.TopicGroupUpdated, map[string]string{"group_id": id, "name": name, "previous_name": previous})
}

func TestRenameGroup(t *testing.T) {
	fake, target := setup(t)
	fake.AddUser("alice")
	deliver(t, target, created("Ops"), added("Ops", "alice"),
		renamed("g-Ops", "Ops", "Dev Team"), renamed("g-Ops", "Ops", "Dev Team"), // repeated: already renamed
	)
	want := "group_created ops ; member_added ops alice; group_renamed ops -> dev-team"
	if got := changes(fake); got != want {
		t.Fatalf("changes:\n got %s\nwant %s", got, want)
	}
	if names := fake.GroupNames(); fmt.Sprint(names) != "[Dev Team]" {
		t.Fatalf("groups: %v", names)
	}
	if m := fake.Members("dev-team"); m["alice"] != 30 || len(m) != 1 {
		t.Fatalf("members after the rename: %v", m)
	}
	// Members of the renamed group go to the new path.
	fake.AddUser("bob")
	deliver(t, target, event(provision.TopicMemberAdded, map[string]string{"group_id": "g-Ops", "group_name": "Dev Team", "username": "bob"}))
	if m := fake.Members("dev-team"); len(m) != 2 {
		t.Fatalf("members: %v", m)
	}
	if fake.Members("ops") != nil {
		t.Fatal("the old path still exists")
	}
}

func TestRenameGroupSamePath(t *testing.T) {
	fake, target := setup(t)
	deliver(t, target, created("ops team"), renamed("g-ops", "ops team", "Ops-Team"), renamed("g-ops", "ops team", "Ops-Team"))
	if got := changes(fake); got != "group_created ops-team ; group_renamed ops-team -> ops-team" {
		t.Fatalf("changes: %s", got)
	}
	if names := fake.GroupNames(); fmt.Sprint(names) != "[Ops-Team]" {
		t.Fatalf("groups: %v", names)
	}
}

func TestRenameWithoutNameChangeDoesNothing(t *testing.T) {
	fake, target := setup(t)
	deliver(t, target, created("ops"))
	before := fake.Requests()
	deliver(t, target, renamed("g-ops", "ops", "ops"),
		event(provision.TopicGroupUpdated, map[string]string{"group_id": "g-ops", "name": "ops"})) // written before previous_name existed
	if fake.Requests() != before {
		t.Fatalf("%d requests for updates that kept the name", fake.Requests()-before)
	}
}

func TestRenameMissingGroups(t *testing.T) {
	fake, target := setup(t)
	// Old group missing, new one exists (renamed by a delivery whose answer was lost).
	deliver(t, target, created("New Name"))
	deliver(t, target, renamed("g-x", "Old Name", "New Name"))
	if got := changes(fake); got != "group_created new-name " {
		t.Fatalf("changes: %s", got)
	}
	// Both missing: created under the new name.
	deliver(t, target, renamed("g-y", "Never Mirrored", "Now Mirrored"))
	if names := fake.GroupNames(); fmt.Sprint(names) != "[New Name Now Mirrored]" {
		t.Fatalf("groups: %v", names)
	}
	if fake.Duplicates() != 0 {
		t.Fatalf("%d duplicate requests", fake.Duplicates())
	}
}

func TestRenameOntoATakenPathIsPermanent(t *testing.T) {
	fake, target := setup(t)
	deliver(t, target, created("ops"), created("dev"))
	err := target.Deliver(context.Background(), renamed("g-ops", "ops", "Dev"))
	if !errors.Is(err, provision.ErrPermanent) {
		t.Fatalf("rename onto a taken path: %v, want a permanent error", err)
	}
	if names := fake.GroupNames(); fmt.Sprint(names) != "[dev ops]" {
		t.Fatalf("groups: %v", names)
	}
	// A retryable failure on the way stays retryable.
	fake.FailNext(1)
	err = target.Deliver(context.Background(), renamed("g-ops", "ops", "sre"))
	if err == nil || errors.Is(err, provision.ErrPermanent) {
		t.Fatalf("500: %v, want a retryable error", err)
	}
	deliver(t, target, renamed("g-ops", "ops", "sre"))
	if names := fake.GroupNames(); fmt.Sprint(names) != "[dev sre]" {
		t.Fatalf("groups: %v", names)
	}
}

// TestRenameThroughWorker renames a group through the manage use case
// (which writes previous_name) between member additions and checks, on
// both databases, that the worker delivers everything to GitLab in order:
// members before the rename land in the old path, the rename moves the
// group with them, members after it land in the new path.
func TestRenameThroughWorker(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db *sqlstore.DB, _ string) {
		ctx := context.Background()
		hasher := auth.Hasher{Params: auth.Params{Time: 1, MemoryKiB: 64, Threads: 1, KeyLen: 32, SaltLen: 16}}
		if _, err := manage.Bootstrap(ctx, db, hasher, "admin password 1"); err != nil {
			t.Fatal(err)
		}
		svc := &manage.Service{Store: db, Hasher: hasher, Now: time.Now}
		actor := manage.SystemCaller("tester", "cli")
		fake, target := setup(t)
		ids := map[string]directory.UserID{}
		for _, u := range []string{"alice", "bob", "carol", "dave"} {
			fake.AddUser(u)
			created, err := svc.CreateUser(ctx, actor, directory.User{Username: u, Email: u + "@example.com",
				FirstName: "F", LastName: "L", Enabled: true})
			if err != nil {
				t.Fatal(err)
			}
			ids[u] = created.ID
		}
		g, err := svc.CreateGroup(ctx, actor, directory.Group{Name: "Ops Team"})
		if err != nil {
			t.Fatal(err)
		}
		if err := svc.AddMembers(ctx, actor, g.ID, []directory.UserID{ids["alice"], ids["bob"]}); err != nil {
			t.Fatal(err)
		}
		name := "Platform (Tokyo)"
		if g, err = svc.UpdateGroup(ctx, actor, g.ID, 0, manage.GroupPatch{Name: &name}); err != nil {
			t.Fatal(err)
		}
		if err := svc.AddMembers(ctx, actor, g.ID, []directory.UserID{ids["carol"]}); err != nil {
			t.Fatal(err)
		}
		if err := svc.RemoveMember(ctx, actor, g.ID, ids["alice"]); err != nil {
			t.Fatal(err)
		}
		if err := svc.AddMembers(ctx, actor, g.ID, []directory.UserID{ids["dave"]}); err != nil {
			t.Fatal(err)
		}
		want := []string{"group_created ops-team ", "member_added ops-team alice", "member_added ops-team bob",
			"group_renamed ops-team -> platform-tokyo", "member_added platform-tokyo carol",
			"member_removed platform-tokyo alice", "member_added platform-tokyo dave"}

		fake.FailNext(6) // fail for a while, then recover
		w := provision.NewWorker(db, provision.Config{Poll: 5 * time.Millisecond, BackoffBase: 5 * time.Millisecond,
			BackoffMax: 20 * time.Millisecond, MaxAttempts: 50, Batch: 4}, nil, target)
		runCtx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- w.Run(runCtx) }()
		deadline := time.Now().Add(20 * time.Second)
		for {
			c, err := db.CountDeliveries(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if c[store.DeliveryDone] == len(want) && c[store.DeliveryPending] == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("not delivered in time: %v; %s", c, changes(fake))
			}
			time.Sleep(10 * time.Millisecond)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if got := changes(fake); got != strings.Join(want, "; ") {
			t.Fatalf("changes:\n got %s\nwant %s", got, strings.Join(want, "; "))
		}
		if names := fake.GroupNames(); fmt.Sprint(names) != "[Platform (Tokyo)]" {
			t.Fatalf("groups: %v", names)
		}
		if m := fake.Members("platform-tokyo"); len(m) != 3 || m["bob"] == 0 || m["carol"] == 0 || m["dave"] == 0 {
			t.Fatalf("members: %v", m)
		}
		if fake.Duplicates() != 0 {
			t.Fatalf("%d duplicate requests", fake.Duplicates())
		}
	})
}
