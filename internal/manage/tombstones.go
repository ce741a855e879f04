package manage

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"opsiam/internal/directory"
	"opsiam/internal/provision"
	"opsiam/internal/store"
)

// Tombstones runs the use cases of deleted users who live on in the ITSM app
// (D1–D3). Its methods work inside the caller's transaction (the user's
// create, edit or delete), so the tombstone changes, their audit records and
// their outbox events commit or roll back together with the user (STYLE P3).
//
// The actor of the audit records is given as a store.AuditRecord whose
// ActorID, ActorName and Source are copied; its other fields are ignored.
type Tombstones struct {
	Now func() time.Time // nil: time.Now
}

func (m Tombstones) now() time.Time {
	if m.Now == nil {
		return time.Now().UTC()
	}
	return m.Now().UTC()
}

// OnUserDelete writes the tombstone that deleting u leaves when D1 demands
// one: u was a customer user (C2, judged on eff, u's effective roles before
// the delete) or has signed in to the ITSM app. A user who took over a
// tombstone holds ITSM records too and gets one as well. Call it in the
// delete's transaction, before or after tx.DeleteUser. It reports whether a
// tombstone was written; deleting anyone else leaves nothing.
func (m Tombstones) OnUserDelete(ctx context.Context, tx store.Tx, u directory.User, eff directory.RoleSet, who store.AuditRecord) (directory.Tombstone, bool, error) {
	need := directory.NeedsTombstone(u, directory.IsCustomerUser(eff, u.CustomerID))
	if !need {
		taken, err := tx.ListTombstones(ctx, store.TombstoneQuery{ListQuery: store.ListQuery{Limit: 1}, TakenOverBy: u.ID})
		if err != nil {
			return directory.Tombstone{}, false, err
		}
		need = len(taken.Items) > 0
	}
	if !need {
		return directory.Tombstone{}, false, nil
	}
	now := m.now()
	ts, err := tx.CreateTombstone(ctx, directory.NewTombstone(u, now))
	if err != nil {
		return directory.Tombstone{}, false, fmt.Errorf("tombstone of user %q: %w", u.Username, err)
	}
	if err := tombstoneAudit(ctx, tx, who, now, store.ActionTombstoneCreate, nil, &ts); err != nil {
		return directory.Tombstone{}, false, err
	}
	return ts, true, nil
}

// PlanChange decides what a user create or edit (ch) does to tombstones
// (D2, D3), writing nothing. It returns:
//   - an empty plan when the change meets no tombstone and res is empty;
//   - a directory.TombstoneConflict error listing the tombstones and the
//     allowed choices when it meets some and res is empty (the API's 409);
//   - directory.FieldErrors when res does not fit (the API's 422), including
//     rename values that a live user or tombstone of the store holds;
//   - otherwise the plan, which Apply carries out in the same transaction.
func (m Tombstones) PlanChange(ctx context.Context, tx store.Tx, ch directory.TombstoneChange, res []directory.TombstoneResolution) (directory.TombstonePlan, error) {
	var found []directory.Tombstone
	if name, mail := ch.MatchKeys(); name != "" || mail != "" {
		var err error
		if found, err = tx.FindTombstones(ctx, name, mail); err != nil {
			return directory.TombstonePlan{}, err
		}
	}
	c := directory.ClassifyTombstones(ch, found)
	var taken directory.TakenKeys
	if !c.Empty() && len(res) > 0 {
		var err error
		if taken, err = takenKeys(ctx, tx, res); err != nil {
			return directory.TombstonePlan{}, err
		}
	}
	return directory.PlanTombstones(c, ch.User, res, taken)
}

// takenKeys looks up, for the rename values of res, which are held by a live
// user or a live tombstone.
func takenKeys(ctx context.Context, tx store.Tx, res []directory.TombstoneResolution) (directory.TakenKeys, error) {
	taken := directory.TakenKeys{Usernames: map[string]bool{}, Emails: map[string]bool{}}
	for _, r := range res {
		if r.Action != directory.TombstoneRename {
			continue
		}
		if k := directory.Key(r.Username); k != "" && !taken.Usernames[k] {
			n, err := tx.CountUsers(ctx, directory.Scope{}, store.UserFilter{Username: k})
			if err != nil {
				return taken, err
			}
			ts, err := tx.FindTombstones(ctx, k, "")
			if err != nil {
				return taken, err
			}
			taken.Usernames[k] = n > 0 || len(ts) > 0
		}
		if k := directory.Key(r.Email); k != "" && !taken.Emails[k] {
			n, err := tx.CountUsers(ctx, directory.Scope{}, store.UserFilter{Email: k})
			if err != nil {
				return taken, err
			}
			ts, err := tx.FindTombstones(ctx, "", k)
			if err != nil {
				return taken, err
			}
			taken.Emails[k] = n > 0 || len(ts) > 0
		}
	}
	return taken, nil
}

// Apply carries out plan for u, the user as stored by the same transaction
// (created or edited, so it has its id): each renamed tombstone gets its new
// values, the taken-over one is linked to u, each update gets an audit
// record and an outbox event for the ITSM app (itsm.tombstone_renamed, then
// itsm.tombstone_taken_over, aggregate "user:<id>"). A tombstone changed
// since PlanChange read it makes Apply fail with store.ErrStale; the caller's
// transaction then rolls back and nothing is written. An empty plan writes
// nothing.
func (m Tombstones) Apply(ctx context.Context, tx store.Tx, plan directory.TombstonePlan, u directory.User, who store.AuditRecord) error {
	if len(plan.Updates) == 0 {
		return nil
	}
	if u.ID == "" {
		return fmt.Errorf("apply tombstone plan: the user has no id yet")
	}
	now := m.now()
	bound := plan.Bind(u.ID, now)
	for _, up := range bound.Updates {
		var (
			stored directory.Tombstone
			err    error
			action string
		)
		switch up.Action {
		case directory.TombstoneTakeOver:
			stored, err = tx.TakeOverTombstone(ctx, up.After)
			action = store.ActionTombstoneTakeOver
		default:
			stored, err = tx.RenameTombstone(ctx, up.After)
			action = store.ActionTombstoneRename
		}
		if err != nil {
			return fmt.Errorf("%s %s: %w", action, up.Before.ID, err)
		}
		if err := tombstoneAudit(ctx, tx, who, now, action, &up.Before, &stored); err != nil {
			return err
		}
	}
	for _, e := range bound.Events() {
		payload, err := json.Marshal(e)
		if err != nil {
			return err
		}
		topic := provision.TopicTombstoneRenamed
		if e.Action == directory.TombstoneTakeOver {
			topic = provision.TopicTombstoneTakenOver
		}
		if _, err := tx.Enqueue(ctx, store.Event{Topic: topic, Aggregate: "user:" + string(u.ID), Payload: payload}); err != nil {
			return err
		}
	}
	return nil
}

// tombstoneView is the audit form of a tombstone.
type tombstoneView struct {
	ID          directory.TombstoneID `json:"id"`
	Username    string                `json:"username"`
	Email       string                `json:"email"`
	CustomerID  directory.CustomerID  `json:"customer_id,omitempty"`
	ITSMLink    string                `json:"itsm_link"`
	DeletedAt   time.Time             `json:"deleted_at"`
	TakenOverBy directory.UserID      `json:"taken_over_by,omitempty"`
	TakenOverAt *time.Time            `json:"taken_over_at,omitempty"`
}

func viewTombstone(t *directory.Tombstone) json.RawMessage {
	if t == nil {
		return nil
	}
	v := tombstoneView{ID: t.ID, Username: t.Username, Email: t.Email, CustomerID: t.CustomerID,
		ITSMLink: t.ITSMLink, DeletedAt: t.DeletedAt, TakenOverBy: t.TakenOverBy}
	if !t.TakenOverAt.IsZero() {
		at := t.TakenOverAt
		v.TakenOverAt = &at
	}
	b, _ := json.Marshal(v) // a struct of strings and times always marshals
	return b
}

// tombstoneAudit appends the audit record of one tombstone change (O1).
func tombstoneAudit(ctx context.Context, tx store.Tx, who store.AuditRecord, at time.Time, action string, before, after *directory.Tombstone) error {
	target := after
	if target == nil {
		target = before
	}
	return tx.AppendAudit(ctx, store.AuditRecord{
		At: at, ActorID: who.ActorID, ActorName: who.ActorName, Source: who.Source,
		Action: action, TargetType: "tombstone", TargetID: string(target.ID),
		Before: viewTombstone(before), After: viewTombstone(after),
	})
}
