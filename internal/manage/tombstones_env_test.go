package manage_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"opsiam/internal/directory"
	"opsiam/internal/manage"
	"opsiam/internal/store"
	"opsiam/internal/store/sqlstore"
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
	eachBootstrapped(t, func(t *testing.T, st *sqlstore.DB, raw *sql.DB) {
		c, err := st.CreateCustomer(context.Background(), directory.Customer{Code: "ACME", Name: "ACME", State: directory.CustomerValid})
		if err != nil {
			t.Fatal(err)
		}
		fn(t, &tombEnv{st: st, raw: raw, customer: c, m: manage.Tombstones{Now: func() time.Time { return tombNow }},
			who: store.AuditRecord{ActorID: "admin-id", ActorName: "admin", Source: "192.0.2.7"}})
	})
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
