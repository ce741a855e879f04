package manage_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"opsiam/internal/directory"
)

// TestTombstoneOnDelete: D1, and acceptance 4 (a user who was never a
// customer user and never signed in to the ITSM app leaves no tombstone).
func TestTombstoneOnDelete(t *testing.T) {
	t.Parallel() // each test has its own database (issue 17, point 7)
	withTombEnv(t, func(t *testing.T, e *tombEnv) {
		ctx := context.Background()
		plain := e.create(t, e.user("plain", "plain@example.com", false), directory.RoleNameItsmUser)
		if e.remove(t, plain) {
			t.Error("an operator who never opened the ITSM app left a tombstone")
		}
		noRole := e.create(t, e.user("norole", "norole@example.com", true))
		if e.remove(t, noRole) {
			t.Error("a user with a customer but no customer role (not a customer user, C2) left a tombstone")
		}
		if got := e.tombstones(t, nil, ""); got != "" {
			t.Fatalf("tombstones after deleting non-ITSM users: %s (acceptance 4)", got)
		}
		if n := e.audits(t)["tombstone.create"]; n != 0 {
			t.Fatalf("%d tombstone audit records for no tombstone", n)
		}

		agent := e.user("agent", "agent@example.com", false)
		agent.ITSMSignedIn = true
		agent = e.create(t, agent)
		cust := e.create(t, e.user("cust", "cust@example.com", true), directory.RoleNameCustomerUser)
		viaManager := e.create(t, e.user("mgr", "mgr@example.com", true), directory.RoleNameCustomerManager)
		for _, u := range []directory.User{agent, cust, viaManager} {
			if !e.remove(t, u) {
				t.Errorf("deleting %s left no tombstone", u.Username)
			}
		}
		links := map[string]string{string(agent.ID): "agent", string(cust.ID): "cust", string(viaManager.ID): "mgr"}
		if got, want := e.tombstones(t, links, ""), "agent=agent/agent@example.com; cust=cust/cust@example.com; mgr=mgr/mgr@example.com"; got != want {
			t.Fatalf("tombstones %s, want %s", got, want)
		}
		found, err := e.st.FindTombstones(ctx, "cust", "")
		if err != nil || len(found) != 1 || found[0].CustomerID != e.customer.ID || !found[0].DeletedAt.Equal(tombNow) {
			t.Fatalf("customer user's tombstone: %+v %v", found, err)
		}

		// A plain operator who took over a tombstone holds ITSM records too.
		heir, err := e.createUser(e.user("agent", "heir@example.com", false),
			[]directory.TombstoneResolution{{Action: directory.TombstoneTakeOver, TombstoneID: e.find(t, "agent")}})
		if err != nil {
			t.Fatal(err)
		}
		if !e.remove(t, heir) {
			t.Error("deleting a user who took over a tombstone left none")
		}
		if n := e.audits(t)["tombstone.create"]; n != 4 {
			t.Fatalf("%d tombstone.create audit records, want 4", n)
		}
	})
}

// TestTombstoneResolutions carries out every choice of every D2 case on both
// databases: the tombstones end up linked or renamed, and each take-over and
// rename is an outbox event for the ITSM app (acceptance 5) with its audit
// record, all in the user's transaction.
func TestTombstoneResolutions(t *testing.T) {
	t.Parallel() // each test has its own database (issue 17, point 7)
	take := func(name string) res { return res{action: directory.TombstoneTakeOver, name: name} }
	rename := func(name, username, email string) res {
		return res{action: directory.TombstoneRename, name: name, username: username, email: email}
	}
	tests := []struct {
		name       string
		user       func(e *tombEnv) directory.User
		res        []res
		tombstones string
		events     string
	}{
		{"A: operator takes over by user name", func(e *tombEnv) directory.User { return e.user("Bob", "new@example.com", false) },
			[]res{take("bob")},
			"bob=Bob/new@example.com*; carol=carol/carol@example.com; dave=dave/dave@example.com",
			"itsm.tombstone_taken_over bob Bob/new@example.com (was bob/bob@old.example) to Bob"},
		{"A: operator renames the tombstone's user name", func(e *tombEnv) directory.User { return e.user("bob", "new@example.com", false) },
			[]res{rename("bob", "bob.old", "")},
			"bob=bob.old/bob@old.example; carol=carol/carol@example.com; dave=dave/dave@example.com",
			"itsm.tombstone_renamed bob bob.old/bob@old.example (was bob/bob@old.example)"},
		{"B: customer user takes over by mail", func(e *tombEnv) directory.User { return e.user("zed", "carol@example.com", true) },
			[]res{take("carol")},
			"bob=bob/bob@old.example; carol=zed/carol@example.com*; dave=dave/dave@example.com",
			"itsm.tombstone_taken_over carol zed/carol@example.com (was carol/carol@example.com) to zed"},
		{"B: customer user renames the tombstone's mail", func(e *tombEnv) directory.User { return e.user("zed", "carol@example.com", true) },
			[]res{rename("carol", "", "carol.old@example.com")},
			"bob=bob/bob@old.example; carol=carol/carol.old@example.com; dave=dave/dave@example.com",
			"itsm.tombstone_renamed carol carol/carol.old@example.com (was carol/carol@example.com)"},
		{"C: take over name and mail", func(e *tombEnv) directory.User { return e.user("dave", "dave@example.com", true) },
			[]res{take("dave")},
			"bob=bob/bob@old.example; carol=carol/carol@example.com; dave=dave/dave@example.com*",
			"itsm.tombstone_taken_over dave dave/dave@example.com (was dave/dave@example.com) to dave"},
		{"C: rename both", func(e *tombEnv) directory.User { return e.user("dave", "dave@example.com", true) },
			[]res{rename("dave", "dave.old", "dave.old@example.com")},
			"bob=bob/bob@old.example; carol=carol/carol@example.com; dave=dave.old/dave.old@example.com",
			"itsm.tombstone_renamed dave dave.old/dave.old@example.com (was dave/dave@example.com)"},
		{"D: take over the name match, rename the other's mail", func(e *tombEnv) directory.User { return e.user("bob", "carol@example.com", true) },
			[]res{take("bob"), rename("carol", "", "carol.old@example.com")},
			"bob=bob/carol@example.com*; carol=carol/carol.old@example.com; dave=dave/dave@example.com",
			"itsm.tombstone_renamed carol carol/carol.old@example.com (was carol/carol@example.com); " +
				"itsm.tombstone_taken_over bob bob/carol@example.com (was bob/bob@old.example) to bob"},
		{"D: take over the mail match, rename the other", func(e *tombEnv) directory.User { return e.user("bob", "carol@example.com", true) },
			[]res{rename("bob", "bob.old", ""), take("carol")},
			"bob=bob.old/bob@old.example; carol=bob/carol@example.com*; dave=dave/dave@example.com",
			"itsm.tombstone_renamed bob bob.old/bob@old.example (was bob/bob@old.example); " +
				"itsm.tombstone_taken_over carol bob/carol@example.com (was carol/carol@example.com) to bob"},
		{"D: take over neither", func(e *tombEnv) directory.User { return e.user("bob", "carol@example.com", true) },
			[]res{rename("bob", "bob.old", ""), rename("carol", "", "carol.old@example.com")},
			"bob=bob.old/bob@old.example; carol=carol/carol.old@example.com; dave=dave/dave@example.com",
			"itsm.tombstone_renamed bob bob.old/bob@old.example (was bob/bob@old.example); " +
				"itsm.tombstone_renamed carol carol/carol.old@example.com (was carol/carol@example.com)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			withTombEnv(t, func(t *testing.T, e *tombEnv) {
				links := e.deletedUsers(t)
				u := tc.user(e)
				// First request: no choice, the conflict, nothing written.
				_, err := e.createUser(u, nil)
				var conflict directory.TombstoneConflict
				if !errors.As(err, &conflict) || len(conflict.Choices) != 2*len(tc.res) {
					t.Fatalf("without a resolution: %v, want a conflict with %d choices", err, 2*len(tc.res))
				}
				e.nothingWritten(t, links, u)
				// Second request: the choice.
				created, err := e.createUser(u, resolve(t, e, tc.res))
				if err != nil {
					t.Fatalf("with the resolution: %v", err)
				}
				if got := e.tombstones(t, links, created.ID); got != tc.tombstones {
					t.Errorf("tombstones\n got %s\nwant %s", got, tc.tombstones)
				}
				if got := e.events(t, links, created); got != tc.events {
					t.Errorf("events\n got %s\nwant %s", got, tc.events)
				}
				a := e.audits(t)
				if a["tombstone.take_over"]+a["tombstone.rename"] != len(tc.res) {
					t.Errorf("audit records %v for %d choices", a, len(tc.res))
				}
			})
		})
	}
}

// TestTombstoneResolutionRefused: choices that do not fit, and rename values
// that the store shows to be taken, are refused and nothing is written.
func TestTombstoneResolutionRefused(t *testing.T) {
	t.Parallel() // each test has its own database (issue 17, point 7)
	withTombEnv(t, func(t *testing.T, e *tombEnv) {
		links := e.deletedUsers(t)
		bob, carol := e.find(t, "bob"), e.find(t, "carol")
		tests := []struct {
			name string
			user directory.User
			res  []directory.TombstoneResolution
			want string // field/code
		}{
			{"rename to a live user's name", e.user("bob", "new@example.com", false),
				[]directory.TombstoneResolution{{Action: directory.TombstoneRename, TombstoneID: bob, Username: "KIM"}},
				"resolution[0].username/taken"},
			{"rename to another tombstone's name", e.user("bob", "new@example.com", false),
				[]directory.TombstoneResolution{{Action: directory.TombstoneRename, TombstoneID: bob, Username: "dave"}},
				"resolution[0].username/taken"},
			{"rename to a live user's mail", e.user("zed", "carol@example.com", true),
				[]directory.TombstoneResolution{{Action: directory.TombstoneRename, TombstoneID: carol, Email: "Kim@example.com"}},
				"resolution[0].email/taken"},
			{"rename to another tombstone's mail", e.user("zed", "carol@example.com", true),
				[]directory.TombstoneResolution{{Action: directory.TombstoneRename, TombstoneID: carol, Email: "dave@example.com"}},
				"resolution[0].email/taken"},
			{"operator takes over a mail-only tombstone", e.user("zed", "carol@example.com", false),
				[]directory.TombstoneResolution{{Action: directory.TombstoneTakeOver, TombstoneID: carol}},
				"resolution/not_allowed"},
			{"take over only one of two", e.user("bob", "carol@example.com", true),
				[]directory.TombstoneResolution{{Action: directory.TombstoneTakeOver, TombstoneID: bob}},
				"resolution/required"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				_, err := e.createUser(tc.user, tc.res)
				var fe directory.FieldErrors
				if !errors.As(err, &fe) {
					t.Fatalf("got %v, want field errors", err)
				}
				field, code, _ := strings.Cut(tc.want, "/")
				if !fe.Has(field, code) {
					t.Fatalf("got %v, want %s", fe, tc.want)
				}
				e.nothingWritten(t, links, tc.user)
			})
		}
	})
}

// TestTombstoneMailChange: an edit that gives a customer user a tombstone's
// mail meets the tombstone; the take-over is written with the edit.
func TestTombstoneMailChange(t *testing.T) {
	t.Parallel() // each test has its own database (issue 17, point 7)
	withTombEnv(t, func(t *testing.T, e *tombEnv) {
		links := e.deletedUsers(t)
		zed := e.create(t, e.user("zed", "zed@example.com", true), directory.RoleNameCustomerUser)
		toCarol := func(u *directory.User) { u.Email = "Carol@Example.com" }
		if _, err := e.editUser(zed, func(u *directory.User) { u.Note = "unrelated" }, nil); err != nil {
			t.Fatalf("edit without a mail change: %v", err)
		}
		zed, _ = e.st.GetUser(context.Background(), directory.Scope{}, zed.ID)
		var conflict directory.TombstoneConflict
		if _, err := e.editUser(zed, toCarol, nil); !errors.As(err, &conflict) || conflict.Case != directory.TombstoneCaseEmail {
			t.Fatalf("mail change without a choice: %v", err)
		}
		if got, _ := e.st.GetUser(context.Background(), directory.Scope{}, zed.ID); got.Email != "zed@example.com" {
			t.Fatalf("mail changed before the choice: %s", got.Email)
		}
		stored, err := e.editUser(zed, toCarol, []directory.TombstoneResolution{{Action: directory.TombstoneTakeOver, TombstoneID: e.find(t, "carol")}})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := e.tombstones(t, links, stored.ID), "bob=bob/bob@old.example; carol=zed/Carol@Example.com*; dave=dave/dave@example.com"; got != want {
			t.Fatalf("tombstones %s, want %s", got, want)
		}
		if got, want := e.events(t, links, stored), "itsm.tombstone_taken_over carol zed/Carol@Example.com (was carol/carol@example.com) to zed"; got != want {
			t.Fatalf("events %s, want %s", got, want)
		}
	})
}
