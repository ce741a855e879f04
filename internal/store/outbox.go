package store

import (
	"context"
	"encoding/json"
	"time"
)

// Event is a fact that other systems must hear about (P1): enqueued in the
// same transaction as the change that caused it, delivered after commit by
// the provisioning worker.
type Event struct {
	Seq       int64  // set by the store; orders events
	ID        string // set by the store; the idempotency key targets see
	Topic     string // e.g. "user.created", "group.member_added", "mail.password_setup"
	Aggregate string // events of one aggregate ("group:ID") are delivered in order
	Payload   json.RawMessage
	CreatedAt time.Time
}

// Outbox takes events inside a change's transaction. The delivery side
// (claiming, retries, dead events) belongs to the provisioning worker.
type Outbox interface {
	// Enqueue stores e and returns it with Seq, ID and CreatedAt set.
	Enqueue(ctx context.Context, e Event) (Event, error)
}
