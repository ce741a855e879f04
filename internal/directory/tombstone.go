package directory

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// TombstoneID identifies a tombstone; opaque like every id (SPEC §7).
type TombstoneID string

// Tombstone is what remains of a deleted user who lives on in the ITSM app
// (D1): its user name, mail address and customer, and the key by which the
// ITSM app links its records (tickets the user created, …) to the person.
//
// A tombstone is live until a new user takes it over (D2); then TakenOverBy
// names that user and the tombstone no longer blocks its user name or mail.
// A taken-over tombstone is kept as history.
type Tombstone struct {
	ID         TombstoneID
	Username   string // renamed by a D2 "rename" choice
	Email      string // renamed by a D2 "rename" choice; follows the new user's on take-over
	CustomerID CustomerID
	// ITSMLink is the key the ITSM app knows the person's records by: the
	// deleted user's id, which the ITSM app received as user_id in the user.*
	// events. It never changes; a take-over tells the ITSM app to move the
	// records of this key to the new user.
	ITSMLink    string
	DeletedAt   time.Time
	TakenOverBy UserID // empty while the tombstone is live
	TakenOverAt time.Time
	Version     int64 // bumped by every update; guards concurrent choices
}

// Live reports whether t still stands for a deleted user, that is whether no
// user has taken it over yet. Only live tombstones take part in D2.
func (t Tombstone) Live() bool { return t.TakenOverBy == "" }

// NeedsTombstone reports whether deleting u must leave a tombstone (D1): u
// was a customer user (C2, decided by the caller from the effective roles
// and customer u had before the delete) or has signed in to the ITSM app (T1).
func NeedsTombstone(u User, wasCustomerUser bool) bool {
	return wasCustomerUser || u.ITSMSignedIn
}

// NewTombstone returns the tombstone that deleting u at deletedAt leaves (D1).
func NewTombstone(u User, deletedAt time.Time) Tombstone {
	return Tombstone{
		Username:   u.Username,
		Email:      u.Email,
		CustomerID: u.CustomerID,
		ITSMLink:   string(u.ID),
		DeletedAt:  deletedAt,
	}
}

// MailCasesApply reports whether the mail cases of D2 apply to u: they do for
// customer users only. A user counts as a customer user here as soon as it
// has a customer set, even before a customer role is assigned: roles are
// assigned after a user is created, and the product ties the edit case to
// "setting a customer" (reference §6.3). See docs/architecture.md.
func MailCasesApply(u User) bool { return u.CustomerID != "" }

// TombstoneChange is a create or an edit of a user that may meet tombstones
// (D2).
type TombstoneChange struct {
	User     User  // the user as it will be stored
	Previous *User // the stored user for an edit; nil for a create
}

// MatchKeys returns the keys (Key) under which tombstones meet the change;
// an empty key meets nothing.
//
// A create meets tombstones by user name (any user) and, when MailCasesApply,
// by mail. An edit never meets one by user name (user names never change,
// U2, and a live tombstone never shares one with a live user) and meets one
// by mail only when the mail cases apply and either the mail changed or the
// edit made the user a customer user (reference §6.3: "changing an
// existing user's e-mail to a deleted user's e-mail and setting a customer").
func (c TombstoneChange) MatchKeys() (username, email string) {
	if c.Previous == nil {
		username = Key(c.User.Username)
	}
	if MailCasesApply(c.User) && (c.Previous == nil || !MailCasesApply(*c.Previous) ||
		Key(c.Previous.Email) != Key(c.User.Email)) {
		email = Key(c.User.Email)
	}
	return username, email
}

// TombstoneCase names the cases of D2 (screens of reference §6.3).
type TombstoneCase string

// The cases of D2.
const (
	// TombstoneCaseNone: no live tombstone meets the change.
	TombstoneCaseNone TombstoneCase = ""
	// TombstoneCaseUsername: one tombstone has the user name (any user, mail
	// same or not, unless the mail cases apply and its mail matches too).
	// Take over, or rename its user name (screens A → E).
	TombstoneCaseUsername TombstoneCase = "username"
	// TombstoneCaseEmail: a customer user, one tombstone has the mail only.
	// Take over (its user name becomes the new one), or rename its mail (B → F).
	TombstoneCaseEmail TombstoneCase = "email"
	// TombstoneCaseSame: a customer user, ONE tombstone has both the user
	// name and the mail. Take over, or rename both (C → G).
	TombstoneCaseSame TombstoneCase = "same"
	// TombstoneCaseSplit: several tombstones meet the change, typically a
	// customer user whose user name matches one tombstone and mail another.
	// Take over one of them and rename the others, or rename all (D, E, F, H).
	TombstoneCaseSplit TombstoneCase = "split"
)

// TombstoneAction is a choice of D2, spelled as in the API (SPEC §7).
type TombstoneAction string

// The two choices of D2.
const (
	TombstoneTakeOver TombstoneAction = "take_over"
	TombstoneRename   TombstoneAction = "rename"
)

// The fields a rename changes, spelled as in the API (SPEC §7).
const (
	TombstoneFieldUsername = "username"
	TombstoneFieldEmail    = "email"
)

// TombstoneChoice is one allowed choice, in the shape of SPEC §7:
// {"action":"take_over","tombstone_id":…} or {"action":"rename",
// "tombstone_id":…,"fields":["username","email"]}. Fields lists the values a
// rename must give: the ones that meet the change.
type TombstoneChoice struct {
	Action      TombstoneAction `json:"action"`
	TombstoneID TombstoneID     `json:"tombstone_id"`
	Fields      []string        `json:"fields,omitempty"`
}

// TombstoneConflict is the answer to a change that meets live tombstones
// (D3): the tombstones and the allowed choices. It is an error so that a use
// case can return it before writing anything; the API answers it with 409.
type TombstoneConflict struct {
	Case       TombstoneCase
	Tombstones []Tombstone // user-name matches first, then mail matches; oldest first
	Choices    []TombstoneChoice
}

// Empty reports whether the change met no tombstone.
func (c TombstoneConflict) Empty() bool { return len(c.Tombstones) == 0 }

// Error names the tombstones, for logs and tests.
func (c TombstoneConflict) Error() string {
	names := make([]string, len(c.Tombstones))
	for i, t := range c.Tombstones {
		names[i] = fmt.Sprintf("%s (%s, %s)", t.ID, t.Username, t.Email)
	}
	return fmt.Sprintf("the user name or mail address belongs to a deleted user who lives on in the ITSM app (%s); choose to take over or rename",
		strings.Join(names, ", "))
}

// tombstone returns the conflict's tombstone with id.
func (c TombstoneConflict) tombstone(id TombstoneID) (Tombstone, bool) {
	for _, t := range c.Tombstones {
		if t.ID == id {
			return t, true
		}
	}
	return Tombstone{}, false
}

// renameFields returns the fields a rename of id must give.
func (c TombstoneConflict) renameFields(id TombstoneID) []string {
	for _, ch := range c.Choices {
		if ch.Action == TombstoneRename && ch.TombstoneID == id {
			return ch.Fields
		}
	}
	return nil
}

// ClassifyTombstones decides which case of D2 a change is in, given the
// tombstones the store found under the change's MatchKeys. Tombstones that
// are not live or do not match are ignored, so found may be a superset.
//
// Every matching tombstone can be taken over, or renamed in the fields that
// match (user name, mail or both); at most one is taken over and every other
// one is renamed (checked by PlanTombstones).
func ClassifyTombstones(ch TombstoneChange, found []Tombstone) TombstoneConflict {
	nameKey, mailKey := ch.MatchKeys()
	type match struct {
		t            Tombstone
		name, byMail bool
	}
	var matches []match
	seen := map[TombstoneID]bool{}
	for _, t := range found {
		if !t.Live() || seen[t.ID] {
			continue
		}
		m := match{t: t, name: nameKey != "" && Key(t.Username) == nameKey, byMail: mailKey != "" && Key(t.Email) == mailKey}
		if m.name || m.byMail {
			seen[t.ID] = true
			matches = append(matches, m)
		}
	}
	slices.SortStableFunc(matches, func(a, b match) int {
		switch {
		case a.name != b.name:
			if a.name {
				return -1
			}
			return 1
		case !a.t.DeletedAt.Equal(b.t.DeletedAt):
			return a.t.DeletedAt.Compare(b.t.DeletedAt)
		}
		return strings.Compare(string(a.t.ID), string(b.t.ID))
	})
	var c TombstoneConflict
	for _, m := range matches {
		var fields []string
		if m.name {
			fields = append(fields, TombstoneFieldUsername)
		}
		if m.byMail {
			fields = append(fields, TombstoneFieldEmail)
		}
		c.Tombstones = append(c.Tombstones, m.t)
		c.Choices = append(c.Choices,
			TombstoneChoice{Action: TombstoneTakeOver, TombstoneID: m.t.ID},
			TombstoneChoice{Action: TombstoneRename, TombstoneID: m.t.ID, Fields: fields})
	}
	switch {
	case len(matches) == 0:
		c.Case = TombstoneCaseNone
	case len(matches) > 1:
		c.Case = TombstoneCaseSplit
	case matches[0].name && matches[0].byMail:
		c.Case = TombstoneCaseSame
	case matches[0].name:
		c.Case = TombstoneCaseUsername
	default:
		c.Case = TombstoneCaseEmail
	}
	return c
}
