package directory

import (
	"errors"
	"testing"
)

// FuzzPlanTombstones feeds arbitrary users and two-choice resolutions to the
// D2 rules. Refusing is fine; a panic, an incomplete field error or a plan
// that breaks the rules of D2 is not.
func FuzzPlanTombstones(f *testing.F) {
	f.Add("bob", "carol@example.com", true, "take_over", "t-bob", "", "", "rename", "t-carol", "", "c.old@example.com")
	f.Add("bob", "new@example.com", false, "rename", "t-bob", "bob.old", "", "", "", "", "")
	f.Add("dave", "dave@example.com", true, "rename", "t-dave", "DAVE", "dave@example.com", "take_over", "t-dave", "", "")
	f.Fuzz(func(t *testing.T, name, mail string, customer bool, a1, id1, u1, e1, a2, id2, u2, e2 string) {
		u := operator(name, mail)
		if customer {
			u.CustomerID = "c1"
		}
		c := ClassifyTombstones(create(u), testTombstones())
		var res []TombstoneResolution
		for _, r := range []TombstoneResolution{
			{Action: TombstoneAction(a1), TombstoneID: TombstoneID(id1), Username: u1, Email: e1},
			{Action: TombstoneAction(a2), TombstoneID: TombstoneID(id2), Username: u2, Email: e2},
		} {
			if r != (TombstoneResolution{}) {
				res = append(res, r)
			}
		}
		plan, err := PlanTombstones(c, u, res, TakenKeys{})
		var conflict TombstoneConflict
		var fe FieldErrors
		switch {
		case errors.As(err, &conflict):
			if len(res) > 0 || conflict.Empty() {
				t.Fatalf("conflict returned for %d choices: %v", len(res), err)
			}
			return
		case errors.As(err, &fe):
			for _, e := range fe {
				if e.Field == "" || e.Code == "" || e.Message == "" {
					t.Fatalf("incomplete field error %+v", e)
				}
			}
			return
		case err != nil:
			t.Fatalf("unexpected error %v", err)
		}
		if len(plan.Updates) != len(c.Tombstones) {
			t.Fatalf("%d updates for %d tombstones", len(plan.Updates), len(c.Tombstones))
		}
		takeOvers := 0
		seen := map[TombstoneID]bool{}
		for _, up := range plan.Updates {
			if seen[up.Before.ID] {
				t.Fatalf("tombstone %s updated twice", up.Before.ID)
			}
			seen[up.Before.ID] = true
			if up.Action == TombstoneTakeOver {
				takeOvers++
				continue
			}
			for _, f := range up.Fields {
				if (f == TombstoneFieldUsername && Key(up.After.Username) == Key(u.Username)) ||
					(f == TombstoneFieldEmail && Key(up.After.Email) == Key(u.Email)) {
					t.Fatalf("rename keeps the new user's %s: %+v", f, up.After)
				}
			}
		}
		if takeOvers > 1 {
			t.Fatalf("%d take-overs", takeOvers)
		}
	})
}
