package manage_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"opsiam/internal/directory"
	"opsiam/internal/manage"
	"opsiam/internal/store"
)

// raceRounds is how often each race of issue 13 rule 5 is run per database.
const raceRounds = 50

// slowStore is the real store whose transactions pause after reading the
// role graph, a group's roles and a user's grants, as a request over the
// network does between its reads and its writes: the window in which a
// parallel change can slip in is as wide as it is in production, not as
// narrow as a loop in one process makes it.
type slowStore struct{ store.Store }

func (s slowStore) InTx(ctx context.Context, fn func(tx store.Tx) error) error {
	return s.Store.InTx(ctx, func(tx store.Tx) error { return fn(slowTx{tx}) })
}

type slowTx struct{ store.Tx }

const readPause = 3 * time.Millisecond

func (t slowTx) RoleGraph(ctx context.Context) ([]directory.Role, []directory.Containment, int64, error) {
	r, e, rev, err := t.Tx.RoleGraph(ctx)
	time.Sleep(readPause)
	return r, e, rev, err
}

func (t slowTx) GroupRoles(ctx context.Context, g directory.GroupID) ([]directory.Role, error) {
	r, err := t.Tx.GroupRoles(ctx, g)
	time.Sleep(readPause)
	return r, err
}

func (t slowTx) UserGrants(ctx context.Context, u directory.UserID) (directory.Grants, error) {
	g, err := t.Tx.UserGrants(ctx, u)
	time.Sleep(readPause)
	return g, err
}

// slow is f's Service over slowStore.
func slow(f *fixture) *manage.Service {
	svc := *f.svc
	svc.Store = slowStore{f.st}
	return &svc
}

// both runs a and b at the same moment and returns their errors.
func both(a, b func() error) (error, error) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	var ea, eb error
	wg.Add(2)
	go func() { defer wg.Done(); <-start; ea = a() }()
	go func() { defer wg.Done(); <-start; eb = b() }()
	close(start)
	wg.Wait()
	return ea, eb
}

// refusedOrOK accepts success and a rule's refusal (field errors), nothing
// else.
func refusedOrOK(err error) bool {
	var fe directory.FieldErrors
	return err == nil || errors.As(err, &fe)
}

// TestRaceContainmentCycle: "A contains B" and "B contains A" at once never
// leave a cycle; one of them is refused (issue 13, rule 5).
func TestRaceContainmentCycle(t *testing.T) {
	t.Parallel() // each test has its own database (issue 17, point 7)
	eachFixture(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		for i := range raceRounds {
			a, err := f.svc.CreateRole(ctx, f.actor, directory.Role{Name: fmt.Sprintf("A%d", i)})
			if err != nil {
				t.Fatal(err)
			}
			b, err := f.svc.CreateRole(ctx, f.actor, directory.Role{Name: fmt.Sprintf("B%d", i)})
			if err != nil {
				t.Fatal(err)
			}
			svc := slow(f)
			ea, eb := both(
				func() error { return svc.AddContains(ctx, f.actor, a.ID, []directory.RoleID{b.ID}) },
				func() error { return svc.AddContains(ctx, f.actor, b.ID, []directory.RoleID{a.ID}) })
			if !refusedOrOK(ea) || !refusedOrOK(eb) {
				t.Fatalf("round %d: unexpected errors %v / %v", i, ea, eb)
			}
			g, err := manage.Load(ctx, f.st)
			if err != nil {
				t.Fatal(err)
			}
			if g.Expand(a.ID).Has(b.ID) && g.Expand(b.ID).Has(a.ID) {
				t.Fatalf("round %d: a containment cycle was created (%v, %v)", i, ea, eb)
			}
			if ea == nil && eb == nil {
				t.Fatalf("round %d: both containments accepted", i)
			}
		}
	})
}

// TestRaceCustomerRoleReachesCustomerlessUser: "give group G Customer
// User" and "add customer-less U to G" at once never leave U a customer
// user without a customer (C2; issue 13, rule 5).
func TestRaceCustomerRoleReachesCustomerlessUser(t *testing.T) {
	t.Parallel() // each test has its own database (issue 17, point 7)
	eachFixture(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		cu, err := f.st.GetRoleByName(ctx, directory.RoleNameCustomerUser)
		if err != nil {
			t.Fatal(err)
		}
		for i := range raceRounds {
			g, err := f.svc.CreateGroup(ctx, f.actor, directory.Group{Name: fmt.Sprintf("g%d", i)})
			if err != nil {
				t.Fatal(err)
			}
			u, err := f.svc.CreateUser(ctx, f.actor, directory.User{Username: fmt.Sprintf("u%d", i), Email: fmt.Sprintf("u%d@example.test", i),
				FirstName: "F", LastName: "L", Enabled: true})
			if err != nil {
				t.Fatal(err)
			}
			svc := slow(f)
			ea, eb := both(
				func() error { return svc.AssignGroupRoles(ctx, f.actor, g.ID, []directory.RoleID{cu.ID}) },
				func() error { return svc.AddMembers(ctx, f.actor, g.ID, []directory.UserID{u.ID}) })
			if !refusedOrOK(ea) || !refusedOrOK(eb) {
				t.Fatalf("round %d: unexpected errors %v / %v", i, ea, eb)
			}
			grants, err := f.st.UserGrants(ctx, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			graph, err := manage.Load(ctx, f.st)
			if err != nil {
				t.Fatal(err)
			}
			if err := directory.CheckCustomer(graph.Effective(grants), ""); err != nil {
				t.Fatalf("round %d: a customer role reached a user without a customer (%v, %v)", i, ea, eb)
			}
		}
	})
}

// TestRaceUpdatesWithoutIfMatch: parallel changes of one user without
// If-Match all succeed; none is refused as stale (issue 13, rule 5).
func TestRaceUpdatesWithoutIfMatch(t *testing.T) {
	t.Parallel() // each test has its own database (issue 17, point 7)
	eachFixture(t, func(t *testing.T, f *fixture) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		u, err := f.svc.CreateUser(ctx, f.actor, directory.User{Username: "busy", Email: "busy@example.test",
			FirstName: "F", LastName: "L", Enabled: true})
		if err != nil {
			t.Fatal(err)
		}
		const n = 60
		errs := make(chan error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				note := fmt.Sprintf("note %d", i)
				_, err := f.svc.UpdateUser(ctx, f.actor, directory.Scope{}, u.ID, 0, manage.UserPatch{Note: &note})
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if errors.Is(err, store.ErrStale) {
				t.Fatal("a change without If-Match was refused as stale")
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		got, err := f.st.GetUser(ctx, directory.Scope{}, u.ID)
		if err != nil || got.Version != u.Version+n {
			t.Fatalf("version %d after %d changes from %d (%v)", got.Version, n, u.Version, err)
		}
	})
}
