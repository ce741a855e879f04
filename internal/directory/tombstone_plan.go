package directory

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// CodeTaken marks a rename value that the new user, another user or another
// tombstone already holds (D2).
const CodeTaken = "taken"

// TombstoneResolution is one chosen action of a D3 "resolution" (SPEC §7):
// {"action":"take_over","tombstone_id":…} or {"action":"rename",
// "tombstone_id":…,"username":…,"email":…} carrying the new values of the
// fields the matching choice lists.
type TombstoneResolution struct {
	Action      TombstoneAction `json:"action"`
	TombstoneID TombstoneID     `json:"tombstone_id"`
	Username    string          `json:"username,omitempty"`
	Email       string          `json:"email,omitempty"`
}

// TakenKeys holds the keys (Key) of user names and mail addresses that live
// users or live tombstones hold, which a renamed tombstone may not take. The
// caller looks up exactly the rename values of a resolution.
type TakenKeys struct {
	Usernames map[string]bool
	Emails    map[string]bool
}

// TombstoneUpdate is one tombstone change of a plan.
type TombstoneUpdate struct {
	Action TombstoneAction
	Before Tombstone
	After  Tombstone
	Fields []string // the renamed fields; nil for a take-over
}

// TombstonePlan is what a valid resolution does (D2), as a value: which
// tombstones are renamed to what, then which one is taken over by the user.
// The zero plan changes nothing.
type TombstonePlan struct {
	Case    TombstoneCase
	Updates []TombstoneUpdate // renames in the order chosen, then the take-over
}

// TakeOver returns the plan's take-over, if it has one.
func (p TombstonePlan) TakeOver() (TombstoneUpdate, bool) {
	for _, u := range p.Updates {
		if u.Action == TombstoneTakeOver {
			return u, true
		}
	}
	return TombstoneUpdate{}, false
}

// Renames returns the plan's renames.
func (p TombstonePlan) Renames() []TombstoneUpdate {
	var out []TombstoneUpdate
	for _, u := range p.Updates {
		if u.Action == TombstoneRename {
			out = append(out, u)
		}
	}
	return out
}

// Bind returns p with its take-over linked to the user with id at time at:
// the ITSM link of the taken-over tombstone moves to that user. Call it once
// a new user has its id.
func (p TombstonePlan) Bind(id UserID, at time.Time) TombstonePlan {
	out := TombstonePlan{Case: p.Case, Updates: slices.Clone(p.Updates)}
	for i := range out.Updates {
		if out.Updates[i].Action == TombstoneTakeOver {
			out.Updates[i].After.TakenOverBy = id
			out.Updates[i].After.TakenOverAt = at
		}
	}
	return out
}

// TombstoneEvent is what the ITSM app must hear about one update of a plan
// (D2, P3) so that its records follow: a rename rewrites the records of
// ITSMLink to the new user name and mail; a take-over moves them to UserID.
// Its JSON form is the payload of the itsm.tombstone_* outbox events.
type TombstoneEvent struct {
	Action           TombstoneAction `json:"-"`
	TombstoneID      TombstoneID     `json:"tombstone_id"`
	ITSMLink         string          `json:"itsm_link"`
	UserID           UserID          `json:"user_id,omitempty"` // take-over only: the new owner
	Username         string          `json:"username"`
	Email            string          `json:"email"`
	PreviousUsername string          `json:"previous_username"`
	PreviousEmail    string          `json:"previous_email"`
}

// Events returns the events of p, one per update and in its order. Call it
// on a bound plan (Bind) so that the take-over names its user.
func (p TombstonePlan) Events() []TombstoneEvent {
	out := make([]TombstoneEvent, 0, len(p.Updates))
	for _, u := range p.Updates {
		e := TombstoneEvent{
			Action: u.Action, TombstoneID: u.After.ID, ITSMLink: u.After.ITSMLink,
			Username: u.After.Username, Email: u.After.Email,
			PreviousUsername: u.Before.Username, PreviousEmail: u.Before.Email,
		}
		if u.Action == TombstoneTakeOver {
			e.UserID = u.After.TakenOverBy
		}
		out = append(out, e)
	}
	return out
}

// PlanTombstones checks a resolution against a conflict for user u (the user
// as it will be stored) and returns its plan (D2, D3).
//
// Without a conflict the plan is empty, and a resolution is refused: there is
// nothing to choose. With a conflict and no resolution, the conflict itself
// is returned as the error (the API's 409). Otherwise every tombstone of the
// conflict must get exactly one action, at most one of them take_over; a
// rename must give new values for exactly the fields its choice lists, valid
// by the rules of §8 and held by nobody: not u, not another tombstone of the
// conflict, not another rename of the same resolution, and no key in taken.
// All refusals come back at once as FieldErrors on "resolution" (the
// choice) or "resolution[i].username" / "resolution[i].email" (a value).
//
// A take-over gives the tombstone u's user name and mail (by user name: its
// mail follows u's; by mail: its user name becomes u's).
func PlanTombstones(c TombstoneConflict, u User, res []TombstoneResolution, taken TakenKeys) (TombstonePlan, error) {
	if c.Empty() {
		if len(res) > 0 {
			return TombstonePlan{}, fieldErr("resolution", CodeNotAllowed,
				"No deleted user has this user name or mail address; there is nothing to choose, so send no resolution.")
		}
		return TombstonePlan{}, nil
	}
	if len(res) == 0 {
		return TombstonePlan{}, c
	}
	p := planner{c: c, u: u, taken: taken, chosen: map[TombstoneID]bool{},
		names: map[string]bool{}, mails: map[string]bool{}}
	for i, r := range res {
		p.choose(i, r)
	}
	for _, t := range c.Tombstones {
		if !p.chosen[t.ID] {
			p.errs.add("resolution", CodeRequired,
				"Deleted user %q (%s) needs a choice: take it over or rename its %s.",
				t.Username, t.Email, fieldList(c.renameFields(t.ID)))
		}
	}
	if len(p.errs) > 0 {
		return TombstonePlan{}, p.errs
	}
	plan := TombstonePlan{Case: c.Case, Updates: p.renames}
	if p.takeOver != nil {
		plan.Updates = append(plan.Updates, *p.takeOver)
	}
	return plan, nil
}

// planner collects the checked choices of one resolution.
type planner struct {
	c           TombstoneConflict
	u           User
	taken       TakenKeys
	errs        FieldErrors
	chosen      map[TombstoneID]bool
	names       map[string]bool // new user names given so far
	mails       map[string]bool // new mail addresses given so far
	renames     []TombstoneUpdate
	takeOver    *TombstoneUpdate
	takeOverErr bool
}

// choose checks the i-th choice r and records its update.
func (p *planner) choose(i int, r TombstoneResolution) {
	n := i + 1
	t, ok := p.c.tombstone(r.TombstoneID)
	switch {
	case r.TombstoneID == "":
		p.errs.add("resolution", CodeRequired, "Choice %d names no tombstone_id.", n)
		return
	case !ok:
		p.errs.add("resolution", CodeInvalid,
			"Choice %d: %q is not one of the deleted users this user name or mail address meets.", n, string(r.TombstoneID))
		return
	case p.chosen[t.ID]:
		p.errs.add("resolution", CodeInvalid,
			"Choice %d: deleted user %q is chosen more than once; choose one action for each.", n, t.Username)
		return
	}
	p.chosen[t.ID] = true
	prefix := fmt.Sprintf("resolution[%d]", i)
	switch r.Action {
	case TombstoneTakeOver:
		if p.takeOver != nil {
			if !p.takeOverErr {
				p.errs.add("resolution", CodeNotAllowed,
					"Only one deleted user can be taken over; rename the others.")
				p.takeOverErr = true
			}
			return
		}
		if r.Username != "" {
			p.errs.add(prefix+".username", CodeNotAllowed, "A take-over takes no new user name; leave it out.")
		}
		if r.Email != "" {
			p.errs.add(prefix+".email", CodeNotAllowed, "A take-over takes no new mail address; leave it out.")
		}
		after := t
		after.Username, after.Email = p.u.Username, p.u.Email
		p.takeOver = &TombstoneUpdate{Action: TombstoneTakeOver, Before: t, After: after}
	case TombstoneRename:
		p.rename(prefix, t, r)
	case "":
		p.errs.add("resolution", CodeRequired, "Choice %d names no action; use take_over or rename.", n)
	default:
		p.errs.add("resolution", CodeInvalid, "Choice %d: action %q is unknown; use take_over or rename.", n, string(r.Action))
	}
}

// rename checks the new values of a rename of t and records it.
func (p *planner) rename(prefix string, t Tombstone, r TombstoneResolution) {
	fields := p.c.renameFields(t.ID)
	after := t
	if slices.Contains(fields, TombstoneFieldUsername) {
		v := strings.TrimSpace(r.Username)
		if usernameRule(prefix+".username", "New user name of the deleted user").check(&p.errs, v) {
			p.unique(prefix+".username", "user name", v, p.u.Username, p.names, p.taken.Usernames,
				func(o Tombstone) string { return o.Username })
		}
		after.Username = v
	} else if r.Username != "" {
		p.errs.add(prefix+".username", CodeNotAllowed,
			"Only the %s of deleted user %q is renamed; leave the user name out.", fieldList(fields), t.Username)
	}
	if slices.Contains(fields, TombstoneFieldEmail) {
		v := strings.TrimSpace(r.Email)
		before := len(p.errs)
		if checkEmail(&p.errs, prefix+".email", "New mail address of the deleted user", v, true); len(p.errs) == before {
			p.unique(prefix+".email", "mail address", v, p.u.Email, p.mails, p.taken.Emails,
				func(o Tombstone) string { return o.Email })
		}
		after.Email = v
	} else if r.Email != "" {
		p.errs.add(prefix+".email", CodeNotAllowed,
			"Only the %s of deleted user %q is renamed; leave the mail address out.", fieldList(fields), t.Username)
	}
	p.renames = append(p.renames, TombstoneUpdate{Action: TombstoneRename, Before: t, After: after, Fields: fields})
}

// unique refuses a new value v that the new user (own), an earlier rename of
// this resolution (given), another user or tombstone (taken) or a tombstone
// of the conflict already holds.
func (p *planner) unique(field, label, v, own string, given, taken map[string]bool, of func(Tombstone) string) {
	k := Key(v)
	held := k == Key(own) || given[k] || taken[k]
	for _, o := range p.c.Tombstones {
		held = held || Key(of(o)) == k
	}
	given[k] = true
	if held {
		p.errs.add(field, CodeTaken,
			"The %s %q is already used by the new user, another user or another deleted user; choose another one.", label, v)
	}
}

// fieldList renders rename fields for messages: "user name and mail address".
func fieldList(fields []string) string {
	words := make([]string, len(fields))
	for i, f := range fields {
		words[i] = map[string]string{TombstoneFieldUsername: "user name", TombstoneFieldEmail: "mail address"}[f]
	}
	return strings.Join(words, " and ")
}
