package directory

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

var tombstoneTime = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// The tombstones every D2 test meets: bob (name case), carol (mail case),
// dave (name and mail on one tombstone), erin (taken over: never met).
func testTombstones() []Tombstone {
	return []Tombstone{
		{ID: "t-bob", Username: "bob", Email: "bob@old.example", ITSMLink: "u-bob", DeletedAt: tombstoneTime},
		{ID: "t-carol", Username: "carol", Email: "carol@example.com", CustomerID: "c1", ITSMLink: "u-carol", DeletedAt: tombstoneTime.Add(time.Hour)},
		{ID: "t-dave", Username: "dave", Email: "dave@example.com", CustomerID: "c1", ITSMLink: "u-dave", DeletedAt: tombstoneTime.Add(2 * time.Hour)},
		{ID: "t-erin", Username: "erin", Email: "erin@example.com", ITSMLink: "u-erin", DeletedAt: tombstoneTime,
			TakenOverBy: "u-other", TakenOverAt: tombstoneTime.Add(time.Minute)},
	}
}

func operator(name, mail string) User {
	return User{Username: name, Email: mail, FirstName: "F", LastName: "L", Enabled: true, Timezone: "UTC"}
}

func customerUser(name, mail string) User {
	u := operator(name, mail)
	u.CustomerID = "c1"
	return u
}

func create(u User) TombstoneChange { return TombstoneChange{User: u} }

func edit(old User, change func(u *User)) TombstoneChange {
	updated := old
	change(&updated)
	return TombstoneChange{User: updated, Previous: &old}
}

func TestNeedsTombstone(t *testing.T) {
	tests := []struct {
		name     string
		signedIn bool
		customer bool
		want     bool
	}{
		{"operator who never opened the ITSM app (acceptance 4)", false, false, false},
		{"operator who signed in to the ITSM app", true, false, true},
		{"customer user", false, true, true},
		{"customer user who signed in", true, true, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u := operator("x", "x@example.com")
			u.ITSMSignedIn = tc.signedIn
			if got := NeedsTombstone(u, tc.customer); got != tc.want {
				t.Fatalf("NeedsTombstone = %v, want %v", got, tc.want)
			}
		})
	}
	u := customerUser("Kim", "kim@example.com")
	u.ID = "u-kim"
	ts := NewTombstone(u, tombstoneTime)
	if ts.Username != "Kim" || ts.Email != "kim@example.com" || ts.CustomerID != "c1" || ts.ITSMLink != "u-kim" ||
		!ts.DeletedAt.Equal(tombstoneTime) || !ts.Live() {
		t.Fatalf("NewTombstone = %+v", ts)
	}
}

func choicesString(cs []TombstoneChoice) string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = string(c.Action) + " " + string(c.TombstoneID)
		if len(c.Fields) > 0 {
			out[i] += " [" + strings.Join(c.Fields, ",") + "]"
		}
	}
	return strings.Join(out, "; ")
}

func TestClassifyTombstones(t *testing.T) {
	carolCustomer := customerUser("zed", "zed@example.com")
	tests := []struct {
		name     string
		change   TombstoneChange
		wantCase TombstoneCase
		want     string // the choices
	}{
		{"nothing matches", create(customerUser("zed", "zed@example.com")), TombstoneCaseNone, ""},
		// Case A: same user name, any user, mail same or not.
		{"A: operator, same user name ignoring case", create(operator("BOB", "new@example.com")),
			TombstoneCaseUsername, "take_over t-bob; rename t-bob [username]"},
		{"A: operator, same user name and same mail", create(operator("bob", "BOB@old.example")),
			TombstoneCaseUsername, "take_over t-bob; rename t-bob [username]"},
		{"A: customer user, same user name, other mail", create(customerUser("bob", "new@example.com")),
			TombstoneCaseUsername, "take_over t-bob; rename t-bob [username]"},
		// The mail cases are for customer users only.
		{"operator with a tombstone's mail only: no conflict", create(operator("zed", "carol@example.com")),
			TombstoneCaseNone, ""},
		{"operator, name of one tombstone, mail of another: name case only", create(operator("bob", "carol@example.com")),
			TombstoneCaseUsername, "take_over t-bob; rename t-bob [username]"},
		// Case B: customer user, same mail only.
		{"B: customer user, same mail ignoring case", create(customerUser("zed", "CAROL@Example.com")),
			TombstoneCaseEmail, "take_over t-carol; rename t-carol [email]"},
		// Case C: same user name and mail on ONE tombstone.
		{"C: customer user, one tombstone matches both", create(customerUser("Dave", "dave@example.com")),
			TombstoneCaseSame, "take_over t-dave; rename t-dave [username,email]"},
		{"C for an operator is case A", create(operator("dave", "dave@example.com")),
			TombstoneCaseUsername, "take_over t-dave; rename t-dave [username]"},
		// Case D: name on one tombstone, mail on another.
		{"D: customer user, name of bob and mail of carol", create(customerUser("bob", "carol@example.com")),
			TombstoneCaseSplit, "take_over t-bob; rename t-bob [username]; take_over t-carol; rename t-carol [email]"},
		{"taken-over tombstone is not met", create(customerUser("erin", "erin@example.com")), TombstoneCaseNone, ""},
		// Edits meet tombstones by mail only, for customer users.
		{"edit: customer user changes mail to a tombstone's", edit(carolCustomer, func(u *User) { u.Email = "carol@example.com" }),
			TombstoneCaseEmail, "take_over t-carol; rename t-carol [email]"},
		{"edit: setting a customer with a tombstone's mail", edit(operator("zed", "carol@example.com"), func(u *User) { u.CustomerID = "c1" }),
			TombstoneCaseEmail, "take_over t-carol; rename t-carol [email]"},
		{"edit: operator changes mail to a tombstone's", edit(operator("zed", "zed@example.com"), func(u *User) { u.Email = "carol@example.com" }),
			TombstoneCaseNone, ""},
		{"edit: mail unchanged but for case", edit(customerUser("zed", "carol@example.com"), func(u *User) { u.Email = "Carol@example.com" }),
			TombstoneCaseNone, ""},
		{"edit: other fields only", edit(customerUser("zed", "carol@example.com"), func(u *User) { u.Note = "x" }),
			TombstoneCaseNone, ""},
		{"edit: user name of a tombstone is never met", edit(customerUser("bob", "x@example.com"), func(u *User) { u.Email = "y@example.com" }),
			TombstoneCaseNone, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := ClassifyTombstones(tc.change, testTombstones())
			if c.Case != tc.wantCase {
				t.Errorf("case %q, want %q", c.Case, tc.wantCase)
			}
			if got := choicesString(c.Choices); got != tc.want {
				t.Errorf("choices %q, want %q", got, tc.want)
			}
			if c.Empty() != (tc.want == "") || len(c.Tombstones)*2 != len(c.Choices) {
				t.Errorf("tombstones %v do not fit the choices", c.Tombstones)
			}
		})
	}
}

func updatesString(p TombstonePlan) string {
	out := make([]string, len(p.Updates))
	for i, u := range p.Updates {
		out[i] = fmt.Sprintf("%s %s: %s/%s -> %s/%s", u.Action, u.Before.ID, u.Before.Username, u.Before.Email,
			u.After.Username, u.After.Email)
		if u.After.TakenOverBy != "" {
			out[i] += " by " + string(u.After.TakenOverBy)
		}
	}
	return strings.Join(out, "; ")
}

func eventsString(es []TombstoneEvent) string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = fmt.Sprintf("%s %s link=%s user=%s %s/%s (was %s/%s)", e.Action, e.TombstoneID, e.ITSMLink, e.UserID,
			e.Username, e.Email, e.PreviousUsername, e.PreviousEmail)
	}
	return strings.Join(out, "; ")
}

func takeOver(id TombstoneID) TombstoneResolution {
	return TombstoneResolution{Action: TombstoneTakeOver, TombstoneID: id}
}

func rename(id TombstoneID, username, email string) TombstoneResolution {
	return TombstoneResolution{Action: TombstoneRename, TombstoneID: id, Username: username, Email: email}
}

// TestPlanTombstones covers every allowed choice of every D2 case
// (acceptance 1): the tombstone linked to the user, the renamed ones and the
// events for the ITSM app.
func TestPlanTombstones(t *testing.T) {
	tests := []struct {
		name   string
		user   User
		res    []TombstoneResolution
		linked TombstoneID // the tombstone taken over; empty for none
		want   string      // the updates
		events string
	}{
		{"A: take over by user name, mail follows the new user's", operator("Bob", "new@example.com"),
			[]TombstoneResolution{takeOver("t-bob")}, "t-bob",
			"take_over t-bob: bob/bob@old.example -> Bob/new@example.com by u-new",
			"take_over t-bob link=u-bob user=u-new Bob/new@example.com (was bob/bob@old.example)"},
		{"A: rename the tombstone's user name", operator("bob", "new@example.com"),
			[]TombstoneResolution{rename("t-bob", " bob.old ", "")}, "",
			"rename t-bob: bob/bob@old.example -> bob.old/bob@old.example",
			"rename t-bob link=u-bob user= bob.old/bob@old.example (was bob/bob@old.example)"},
		{"A for a customer user: take over", customerUser("bob", "new@example.com"),
			[]TombstoneResolution{takeOver("t-bob")}, "t-bob",
			"take_over t-bob: bob/bob@old.example -> bob/new@example.com by u-new",
			"take_over t-bob link=u-bob user=u-new bob/new@example.com (was bob/bob@old.example)"},
		{"B: take over by mail, user name becomes the new one", customerUser("zed", "Carol@example.com"),
			[]TombstoneResolution{takeOver("t-carol")}, "t-carol",
			"take_over t-carol: carol/carol@example.com -> zed/Carol@example.com by u-new",
			"take_over t-carol link=u-carol user=u-new zed/Carol@example.com (was carol/carol@example.com)"},
		{"B: rename the tombstone's mail", customerUser("zed", "carol@example.com"),
			[]TombstoneResolution{rename("t-carol", "", "carol.old@example.com")}, "",
			"rename t-carol: carol/carol@example.com -> carol/carol.old@example.com",
			"rename t-carol link=u-carol user= carol/carol.old@example.com (was carol/carol@example.com)"},
		{"C: take over", customerUser("dave", "dave@example.com"),
			[]TombstoneResolution{takeOver("t-dave")}, "t-dave",
			"take_over t-dave: dave/dave@example.com -> dave/dave@example.com by u-new",
			"take_over t-dave link=u-dave user=u-new dave/dave@example.com (was dave/dave@example.com)"},
		{"C: rename both", customerUser("dave", "dave@example.com"),
			[]TombstoneResolution{rename("t-dave", "dave.old", "dave.old@example.com")}, "",
			"rename t-dave: dave/dave@example.com -> dave.old/dave.old@example.com",
			"rename t-dave link=u-dave user= dave.old/dave.old@example.com (was dave/dave@example.com)"},
		{"D: take over the name match, the other's mail is renamed", customerUser("bob", "carol@example.com"),
			[]TombstoneResolution{takeOver("t-bob"), rename("t-carol", "", "carol.old@example.com")}, "t-bob",
			"rename t-carol: carol/carol@example.com -> carol/carol.old@example.com; " +
				"take_over t-bob: bob/bob@old.example -> bob/carol@example.com by u-new",
			"rename t-carol link=u-carol user= carol/carol.old@example.com (was carol/carol@example.com); " +
				"take_over t-bob link=u-bob user=u-new bob/carol@example.com (was bob/bob@old.example)"},
		{"D: take over the mail match, the other is renamed", customerUser("bob", "carol@example.com"),
			[]TombstoneResolution{rename("t-bob", "bob.old", ""), takeOver("t-carol")}, "t-carol",
			"rename t-bob: bob/bob@old.example -> bob.old/bob@old.example; " +
				"take_over t-carol: carol/carol@example.com -> bob/carol@example.com by u-new",
			"rename t-bob link=u-bob user= bob.old/bob@old.example (was bob/bob@old.example); " +
				"take_over t-carol link=u-carol user=u-new bob/carol@example.com (was carol/carol@example.com)"},
		{"D: take over neither, both renamed", customerUser("bob", "carol@example.com"),
			[]TombstoneResolution{rename("t-carol", "", "carol.old@example.com"), rename("t-bob", "bob.old", "")}, "",
			"rename t-carol: carol/carol@example.com -> carol/carol.old@example.com; " +
				"rename t-bob: bob/bob@old.example -> bob.old/bob@old.example",
			"rename t-carol link=u-carol user= carol/carol.old@example.com (was carol/carol@example.com); " +
				"rename t-bob link=u-bob user= bob.old/bob@old.example (was bob/bob@old.example)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := ClassifyTombstones(create(tc.user), testTombstones())
			plan, err := PlanTombstones(c, tc.user, tc.res, TakenKeys{})
			if err != nil {
				t.Fatalf("plan refused: %v", err)
			}
			plan = plan.Bind("u-new", tombstoneTime.Add(24*time.Hour))
			if got := updatesString(plan); got != tc.want {
				t.Errorf("updates\n got %s\nwant %s", got, tc.want)
			}
			if got := eventsString(plan.Events()); got != tc.events {
				t.Errorf("events\n got %s\nwant %s", got, tc.events)
			}
			to, ok := plan.TakeOver()
			if ok != (tc.linked != "") || to.Before.ID != tc.linked {
				t.Errorf("linked tombstone %q (%v), want %q", to.Before.ID, ok, tc.linked)
			}
			if ok && (!to.After.TakenOverAt.Equal(tombstoneTime.Add(24*time.Hour)) || to.After.ITSMLink != to.Before.ITSMLink) {
				t.Errorf("take-over not bound or link changed: %+v", to.After)
			}
			if len(plan.Renames()) != len(plan.Updates)-btoi(ok) {
				t.Errorf("renames %d of %d updates", len(plan.Renames()), len(plan.Updates))
			}
		})
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestPlanTombstonesRefused checks that a choice that does not fit the case,
// or a rename value that breaks a rule, is refused with field errors.
func TestPlanTombstonesRefused(t *testing.T) {
	bobOp := operator("bob", "new@example.com")
	split := customerUser("bob", "carol@example.com")
	tests := []struct {
		name  string
		user  User
		res   []TombstoneResolution
		taken TakenKeys
		want  []string
	}{
		{"resolution without a conflict", operator("zed", "zed@example.com"),
			[]TombstoneResolution{takeOver("t-bob")}, TakenKeys{}, []string{"resolution/not_allowed"}},
		{"unknown tombstone", bobOp, []TombstoneResolution{takeOver("t-nope")}, TakenKeys{},
			[]string{"resolution/invalid", "resolution/required"}},
		{"no tombstone id", bobOp, []TombstoneResolution{{Action: TombstoneTakeOver}}, TakenKeys{},
			[]string{"resolution/required", "resolution/required"}},
		{"unknown action", bobOp, []TombstoneResolution{{Action: "merge", TombstoneID: "t-bob"}}, TakenKeys{},
			[]string{"resolution/invalid"}},
		{"no action", bobOp, []TombstoneResolution{{TombstoneID: "t-bob"}}, TakenKeys{},
			[]string{"resolution/required"}},
		{"one tombstone chosen twice", bobOp, []TombstoneResolution{takeOver("t-bob"), rename("t-bob", "bob.old", "")}, TakenKeys{},
			[]string{"resolution/invalid"}},
		{"operator takes over a mail-only tombstone", operator("bob", "carol@example.com"),
			[]TombstoneResolution{takeOver("t-carol")}, TakenKeys{},
			[]string{"resolution/invalid", "resolution/required"}},
		{"take-over with new values", bobOp, []TombstoneResolution{{Action: TombstoneTakeOver, TombstoneID: "t-bob", Username: "x", Email: "x@example.com"}},
			TakenKeys{}, []string{"resolution[0].username/not_allowed", "resolution[0].email/not_allowed"}},
		{"A: rename without a user name", bobOp, []TombstoneResolution{rename("t-bob", "", "")}, TakenKeys{},
			[]string{"resolution[0].username/required"}},
		{"A: rename of the mail too", bobOp, []TombstoneResolution{rename("t-bob", "bob.old", "b@example.com")}, TakenKeys{},
			[]string{"resolution[0].email/not_allowed"}},
		{"A: rename to a bad user name", bobOp, []TombstoneResolution{rename("t-bob", "bob old!", "")}, TakenKeys{},
			[]string{"resolution[0].username/invalid"}},
		{"A: rename to the new user's name", bobOp, []TombstoneResolution{rename("t-bob", "BOB", "")}, TakenKeys{},
			[]string{"resolution[0].username/taken"}},
		{"A: rename to a name another user holds", bobOp, []TombstoneResolution{rename("t-bob", "Kim", "")},
			TakenKeys{Usernames: map[string]bool{"kim": true}}, []string{"resolution[0].username/taken"}},
		{"B: rename without a mail", customerUser("zed", "carol@example.com"), []TombstoneResolution{rename("t-carol", "", "")},
			TakenKeys{}, []string{"resolution[0].email/required"}},
		{"B: rename to a bad mail", customerUser("zed", "carol@example.com"), []TombstoneResolution{rename("t-carol", "", "Carol <c@example.com>")},
			TakenKeys{}, []string{"resolution[0].email/invalid"}},
		{"B: rename of the user name", customerUser("zed", "carol@example.com"), []TombstoneResolution{rename("t-carol", "carol2", "c2@example.com")},
			TakenKeys{}, []string{"resolution[0].username/not_allowed"}},
		{"B: rename to a mail another tombstone holds", customerUser("zed", "carol@example.com"),
			[]TombstoneResolution{rename("t-carol", "", "OLD@example.com")},
			TakenKeys{Emails: map[string]bool{"old@example.com": true}}, []string{"resolution[0].email/taken"}},
		{"C: rename of the user name only", customerUser("dave", "dave@example.com"), []TombstoneResolution{rename("t-dave", "dave.old", "")},
			TakenKeys{}, []string{"resolution[0].email/required"}},
		{"C: rename to the new user's mail", customerUser("dave", "dave@example.com"), []TombstoneResolution{rename("t-dave", "dave.old", "Dave@example.com")},
			TakenKeys{}, []string{"resolution[0].email/taken"}},
		{"D: two take-overs", split, []TombstoneResolution{takeOver("t-bob"), takeOver("t-carol")}, TakenKeys{},
			[]string{"resolution/not_allowed"}},
		{"D: take-over without renaming the other", split, []TombstoneResolution{takeOver("t-bob")}, TakenKeys{},
			[]string{"resolution/required"}},
		{"D: rename one to the other's user name", split,
			[]TombstoneResolution{rename("t-bob", "carol", ""), rename("t-carol", "", "c.old@example.com")}, TakenKeys{},
			[]string{"resolution[0].username/taken"}},
		{"D: rename with the wrong fields", split,
			[]TombstoneResolution{rename("t-bob", "", "b.old@example.com"), rename("t-carol", "carol.old", "")}, TakenKeys{},
			[]string{"resolution[0].username/required", "resolution[0].email/not_allowed",
				"resolution[1].username/not_allowed", "resolution[1].email/required"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := ClassifyTombstones(create(tc.user), testTombstones())
			plan, err := PlanTombstones(c, tc.user, tc.res, tc.taken)
			if err == nil {
				t.Fatalf("accepted: %s", updatesString(plan))
			}
			wantErrors(t, fieldErrorsOf(t, err), tc.want...)
		})
	}
}

func TestPlanTombstonesConflictAndNothing(t *testing.T) {
	u := customerUser("bob", "carol@example.com")
	c := ClassifyTombstones(create(u), testTombstones())
	_, err := PlanTombstones(c, u, nil, TakenKeys{})
	var got TombstoneConflict
	if !errors.As(err, &got) || got.Case != TombstoneCaseSplit || len(got.Tombstones) != 2 {
		t.Fatalf("no resolution: got %v, want the conflict", err)
	}
	if !strings.Contains(err.Error(), "t-bob") {
		t.Fatalf("conflict message %q names no tombstone", err)
	}
	free := operator("zed", "zed@example.com")
	plan, err := PlanTombstones(ClassifyTombstones(create(free), testTombstones()), free, nil, TakenKeys{})
	if err != nil || len(plan.Updates) != 0 || len(plan.Events()) != 0 {
		t.Fatalf("no conflict: plan %+v, %v", plan, err)
	}
}
