package manage_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"opsiam/internal/directory"
	"opsiam/internal/manage"
	"opsiam/internal/store"
	"opsiam/internal/store/sqlstore"
	"opsiam/internal/testenv"
)

// tombEnv is a migrated, bootstrapped database plus a second, plain
// connection that reads the outbox the way the provisioning worker will.
type tombEnv struct {
	st       *sqlstore.DB
	raw      *sql.DB
	m        manage.Tombstones
	customer directory.Customer
	who      store.AuditRecord
}

var tombNow = time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)

// withTombEnv runs fn on a fresh SQLite file and on a fresh PostgreSQL schema.
func withTombEnv(t *testing.T, fn func(t *testing.T, env *tombEnv)) {
	for _, tc := range []struct {
		name, driver string
		dsn          func(t *testing.T) string
	}{
		{"SQLite", "sqlite", func(t *testing.T) string { return filepath.Join(t.TempDir(), "db") }},
		{"Postgres", "pgx", func(t *testing.T) string { return testenv.PostgresSchema(t) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			dsn := tc.dsn(t)
			st, err := sqlstore.Open(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			if _, err := st.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := manage.Bootstrap(ctx, st, fastHasher, "admin password 1"); err != nil {
				t.Fatal(err)
			}
			raw, err := sql.Open(tc.driver, dsn)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { raw.Close() })
			c, err := st.CreateCustomer(ctx, directory.Customer{Code: "ACME", Name: "ACME", State: directory.CustomerValid})
			if err != nil {
				t.Fatal(err)
			}
			fn(t, &tombEnv{st: st, raw: raw, customer: c, m: manage.Tombstones{Now: func() time.Time { return tombNow }},
				who: store.AuditRecord{ActorID: "admin-id", ActorName: "admin", Source: "192.0.2.7"}})
		})
	}
}

func (e *tombEnv) user(name, mail string, customer bool) directory.User {
	u := directory.User{Username: name, Email: mail, FirstName: "F", LastName: "L", Enabled: true, Timezone: "UTC"}
	if customer {
		u.CustomerID = e.customer.ID
	}
	return u
}

// create stores u directly, with the given roles (test set-up, not a use case).
func (e *tombEnv) create(t *testing.T, u directory.User, roles ...string) directory.User {
	t.Helper()
	ctx := context.Background()
	out, err := e.st.CreateUser(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range roles {
		r, err := e.st.GetRoleByName(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.st.AssignUserRole(ctx, out.ID, r.ID); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// remove deletes u the way the user delete use case will: effective roles
// read first, tombstone and delete in one transaction.
func (e *tombEnv) remove(t *testing.T, u directory.User) bool {
	t.Helper()
	ctx := context.Background()
	var wrote bool
	err := e.st.InTx(ctx, func(tx store.Tx) error {
		g, err := manage.Load(ctx, tx)
		if err != nil {
			return err
		}
		grants, err := tx.UserGrants(ctx, u.ID)
		if err != nil {
			return err
		}
		_, wrote, err = e.m.OnUserDelete(ctx, tx, u, g.Effective(grants), e.who)
		if err != nil {
			return err
		}
		return tx.DeleteUser(ctx, u.ID)
	})
	if err != nil {
		t.Fatalf("delete %s: %v", u.Username, err)
	}
	return wrote
}

// createUser runs a user create the way the API will: plan, create, apply.
func (e *tombEnv) createUser(u directory.User, res []directory.TombstoneResolution) (directory.User, error) {
	ctx := context.Background()
	var created directory.User
	err := e.st.InTx(ctx, func(tx store.Tx) error {
		plan, err := e.m.PlanChange(ctx, tx, directory.TombstoneChange{User: u}, res)
		if err != nil {
			return err
		}
		if created, err = tx.CreateUser(ctx, u); err != nil {
			return err
		}
		return e.m.Apply(ctx, tx, plan, created, e.who)
	})
	return created, err
}

// editUser runs a user edit the way the API will.
func (e *tombEnv) editUser(old directory.User, change func(u *directory.User), res []directory.TombstoneResolution) (directory.User, error) {
	ctx := context.Background()
	updated := old
	change(&updated)
	var stored directory.User
	err := e.st.InTx(ctx, func(tx store.Tx) error {
		plan, err := e.m.PlanChange(ctx, tx, directory.TombstoneChange{User: updated, Previous: &old}, res)
		if err != nil {
			return err
		}
		if stored, err = tx.UpdateUser(ctx, updated); err != nil {
			return err
		}
		return e.m.Apply(ctx, tx, plan, stored, e.who)
	})
	return stored, err
}

// tombstones describes every tombstone as "original=username/email", with
// "*" when taken over by user; links name the deleted users in links.
func (e *tombEnv) tombstones(t *testing.T, links map[string]string, user directory.UserID) string {
	t.Helper()
	page, err := e.st.ListTombstones(context.Background(), store.TombstoneQuery{ListQuery: store.ListQuery{Sort: "deleted_at", Limit: 100}})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, ts := range page.Items {
		s := fmt.Sprintf("%s=%s/%s", links[ts.ITSMLink], ts.Username, ts.Email)
		switch {
		case ts.TakenOverBy == "":
		case ts.TakenOverBy == user && user != "":
			s += "*"
		default:
			s += "*" + string(ts.TakenOverBy)
		}
		out = append(out, s)
	}
	slices.Sort(out) // one fixed clock: deleted_at ties
	return strings.Join(out, "; ")
}

// events reads the outbox through the plain connection and describes the
// ITSM events with links and the user id replaced by names.
func (e *tombEnv) events(t *testing.T, links map[string]string, u directory.User) string {
	t.Helper()
	rows, err := e.raw.Query(`SELECT topic, aggregate, payload FROM outbox_events ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var topic, aggregate, payload string
		if err := rows.Scan(&topic, &aggregate, &payload); err != nil {
			t.Fatal(err)
		}
		var p map[string]string
		if err := json.Unmarshal([]byte(payload), &p); err != nil {
			t.Fatalf("payload %s: %v", payload, err)
		}
		if aggregate != "user:"+string(u.ID) {
			t.Errorf("event %s has aggregate %q, want user:%s", topic, aggregate, u.ID)
		}
		s := fmt.Sprintf("%s %s %s/%s (was %s/%s)", topic, links[p["itsm_link"]], p["username"], p["email"],
			p["previous_username"], p["previous_email"])
		if p["user_id"] != "" {
			s += " to " + map[bool]string{true: u.Username, false: p["user_id"]}[p["user_id"] == string(u.ID)]
		}
		if p["tombstone_id"] == "" {
			t.Errorf("event %s names no tombstone", topic)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(out, "; ")
}

// audits counts the audit records of each tombstone action.
func (e *tombEnv) audits(t *testing.T) map[string]int {
	t.Helper()
	page, err := e.st.ListAudit(context.Background(), store.AuditQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, r := range page.Items {
		if r.TargetType == "tombstone" {
			out[r.Action]++
			if r.ActorName != "admin" || r.Source != "192.0.2.7" || !r.At.Equal(tombNow) || len(r.After) == 0 {
				t.Errorf("audit record %+v", r)
			}
		}
	}
	return out
}

// TestTombstoneOnDelete: D1, and acceptance 4 (a user who was never a
// customer user and never signed in to the ITSM app leaves no tombstone).
func TestTombstoneOnDelete(t *testing.T) {
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

// find returns the id of the live tombstone with user name name.
func (e *tombEnv) find(t *testing.T, name string) directory.TombstoneID {
	t.Helper()
	found, err := e.st.FindTombstones(context.Background(), name, "")
	if err != nil || len(found) != 1 {
		t.Fatalf("tombstone %s: %v %v", name, found, err)
	}
	return found[0].ID
}

// deletedUsers creates and deletes bob (an agent who opened the ITSM app),
// carol and dave (customer users), leaving their tombstones, plus a live
// user kim. It returns the names of the ITSM links.
func (e *tombEnv) deletedUsers(t *testing.T) map[string]string {
	t.Helper()
	bob := e.user("bob", "bob@old.example", false)
	bob.ITSMSignedIn = true
	bob = e.create(t, bob)
	carol := e.create(t, e.user("carol", "carol@example.com", true), directory.RoleNameCustomerUser)
	dave := e.create(t, e.user("dave", "dave@example.com", true), directory.RoleNameCustomerUser)
	for _, u := range []directory.User{bob, carol, dave} {
		if !e.remove(t, u) {
			t.Fatalf("no tombstone for %s", u.Username)
		}
	}
	e.create(t, e.user("kim", "kim@example.com", false))
	return map[string]string{string(bob.ID): "bob", string(carol.ID): "carol", string(dave.ID): "dave"}
}

const untouched = "bob=bob/bob@old.example; carol=carol/carol@example.com; dave=dave/dave@example.com"

// TestTombstoneResolutions carries out every choice of every D2 case on both
// databases: the tombstones end up linked or renamed, and each take-over and
// rename is an outbox event for the ITSM app (acceptance 5) with its audit
// record, all in the user's transaction.
func TestTombstoneResolutions(t *testing.T) {
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

// res is a choice by the deleted user's name, resolved to an id per database.
type res struct {
	action          directory.TombstoneAction
	name            string
	username, email string
}

// resolve turns choices by name into a resolution with the ids of e.
func resolve(t *testing.T, e *tombEnv, rs []res) []directory.TombstoneResolution {
	out := make([]directory.TombstoneResolution, len(rs))
	for i, r := range rs {
		out[i] = directory.TombstoneResolution{Action: r.action, TombstoneID: e.find(t, r.name), Username: r.username, Email: r.email}
	}
	return out
}

// nothingWritten checks that a refused or unresolved request left no trace.
func (e *tombEnv) nothingWritten(t *testing.T, links map[string]string, u directory.User) {
	t.Helper()
	if got := e.tombstones(t, links, ""); got != untouched {
		t.Fatalf("tombstones changed before the choice: %s", got)
	}
	if got := e.events(t, links, u); got != "" {
		t.Fatalf("events before the choice: %s", got)
	}
	if _, err := e.st.GetUserByUsername(context.Background(), directory.Scope{}, u.Username); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("user %s was created before the choice: %v", u.Username, err)
	}
	a := e.audits(t)
	if a["tombstone.take_over"]+a["tombstone.rename"] != 0 {
		t.Fatalf("audit records before the choice: %v", a)
	}
}

// TestTombstoneResolutionRefused: choices that do not fit, and rename values
// that the store shows to be taken, are refused and nothing is written.
func TestTombstoneResolutionRefused(t *testing.T) {
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
