package provision

import (
	"context"
	"encoding/json"
	"strconv"
	"time"

	"opsiam/internal/store"
)

// Actor is who asks for a change, for the audit record (O1).
type Actor struct {
	ID     string // user id
	Name   string // user name at the time
	Source string // client address
}

// Outbox is the service behind /api/v1/outbox and the console's outbox
// page (P1): pending and dead deliveries are visible, dead ones can be
// replayed or discarded. Each change is written with its audit record in
// one transaction, and the worker is nudged after commit.
type Outbox struct {
	Store store.Store
	Now   func() time.Time
	Nudge func() // optional: Worker.Nudge
}

// List pages through deliveries, oldest event first.
func (o *Outbox) List(ctx context.Context, q store.DeliveryQuery) (store.Page[store.Delivery], error) {
	return o.Store.ListDeliveries(ctx, q)
}

// Get returns one delivery.
func (o *Outbox) Get(ctx context.Context, k store.DeliveryKey) (store.Delivery, error) {
	return o.Store.GetDelivery(ctx, k)
}

// Counts tells how many deliveries are in each state.
func (o *Outbox) Counts(ctx context.Context) (map[store.DeliveryState]int, error) {
	return o.Store.CountDeliveries(ctx)
}

// Replay makes a dead (or discarded) delivery pending again with fresh
// attempts. Later events of its aggregate to the same target wait for it,
// so a replayed dead delivery still arrives in order. store.ErrNotFound if
// there is no such delivery, store.ErrConflict if it is pending or done.
func (o *Outbox) Replay(ctx context.Context, a Actor, k store.DeliveryKey) error {
	return o.change(ctx, a, k, store.ActionOutboxReplay, func(tx store.Tx, now time.Time) error {
		return tx.ReplayDelivery(ctx, k, now)
	})
}

// Discard gives a dead delivery up: the target never gets the event, and
// the later events of its aggregate go on. Errors as for Replay.
func (o *Outbox) Discard(ctx context.Context, a Actor, k store.DeliveryKey) error {
	return o.change(ctx, a, k, store.ActionOutboxDiscard, func(tx store.Tx, now time.Time) error {
		return tx.DiscardDelivery(ctx, k, now)
	})
}

func (o *Outbox) change(ctx context.Context, a Actor, k store.DeliveryKey, action string, fn func(store.Tx, time.Time) error) error {
	now := o.Now()
	err := o.Store.InTx(ctx, func(tx store.Tx) error {
		before, err := tx.GetDelivery(ctx, k)
		if err != nil {
			return err
		}
		if err := fn(tx, now); err != nil {
			return err
		}
		after, err := tx.GetDelivery(ctx, k)
		if err != nil {
			return err
		}
		return tx.AppendAudit(ctx, store.AuditRecord{
			At: now, ActorID: a.ID, ActorName: a.Name, Source: a.Source, Action: action,
			TargetType: "outbox_delivery", TargetID: DeliveryID(k),
			Before: deliveryJSON(before), After: deliveryJSON(after),
		})
	})
	if err == nil && o.Nudge != nil {
		o.Nudge()
	}
	return err
}

// DeliveryID is the opaque id of a delivery in the API: "SEQ:TARGET".
func DeliveryID(k store.DeliveryKey) string { return strconv.FormatInt(k.Seq, 10) + ":" + k.Target }

// ParseDeliveryID reads a DeliveryID; ok is false for anything else.
func ParseDeliveryID(id string) (k store.DeliveryKey, ok bool) {
	for i := 0; i < len(id); i++ {
		if id[i] == ':' {
			seq, err := strconv.ParseInt(id[:i], 10, 64)
			if err != nil || seq <= 0 || i == len(id)-1 || strconv.FormatInt(seq, 10) != id[:i] {
				return k, false
			}
			return store.DeliveryKey{Seq: seq, Target: id[i+1:]}, true
		}
	}
	return k, false
}

func deliveryJSON(d store.Delivery) json.RawMessage {
	b, _ := json.Marshal(map[string]any{
		"event_id": d.Event.ID, "topic": d.Event.Topic, "target": d.Target, "state": d.State,
		"attempts": d.Attempts, "last_error": d.LastError,
	})
	return b
}
