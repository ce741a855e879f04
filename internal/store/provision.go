package store

import (
	"context"
	"time"
)

// DeliveryState is where one event stands with one target (P1).
type DeliveryState string

// The delivery states. Pending deliveries wait for their next attempt or are
// claimed under a lease; done and discarded ones are finished; dead ones used
// up their attempts (or failed permanently) and wait for a replay.
const (
	DeliveryPending   DeliveryState = "pending"
	DeliveryDone      DeliveryState = "done"
	DeliveryDead      DeliveryState = "dead"
	DeliveryDiscarded DeliveryState = "discarded"
)

// DeliveryKey names the delivery of one event to one target.
type DeliveryKey struct {
	Seq    int64  // the event's Seq
	Target string // the target's Name
}

// Delivery is the bookkeeping of one event for one target (P1).
type Delivery struct {
	Event         Event
	Target        string
	State         DeliveryState
	Attempts      int       // attempts started, counted when claimed
	NextAttemptAt time.Time // a pending delivery is not claimed before
	LastError     string
	ClaimedBy     string    // worker holding the lease; empty if never claimed
	LeaseUntil    time.Time // after this, another worker may take the claim over
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// Key returns the delivery's key.
func (d Delivery) Key() DeliveryKey { return DeliveryKey{Seq: d.Event.Seq, Target: d.Target} }

// Claim asks for pending deliveries whose time has come.
type Claim struct {
	Worker     string    // who claims; recorded in claimed_by
	Now        time.Time // deliveries with NextAttemptAt or LeaseUntil after Now wait
	LeaseUntil time.Time // the claim holds until then
	Limit      int
}

// Settle records the outcome of a claimed delivery. It only applies while
// the claim is still the worker's: same ClaimedBy and Attempts as returned by
// ClaimDeliveries, and still pending.
type Settle struct {
	Delivery Delivery  // as claimed
	Err      string    // empty: delivered
	Dead     bool      // with Err: give up (attempts used up or permanent)
	RetryAt  time.Time // with Err and not Dead: next attempt
	Now      time.Time
}

// DeliveryQuery lists deliveries, oldest event first, with cursor paging as
// in ListQuery. Empty fields do not filter.
type DeliveryQuery struct {
	State  DeliveryState
	Target string
	Limit  int
	Cursor string
}

// Deliveries is the worker's side of the outbox (P1). Delivery rows are
// made by FanOut, one per (event, target). A delivery is claimed only when
// every earlier event of the same aggregate is fanned out and every earlier
// delivery of that aggregate to the same target is done or discarded: a
// dead delivery holds the later ones of its aggregate and target back until
// it is replayed or discarded, so order per aggregate is never broken.
type Deliveries interface {
	// FanOut takes up to limit events not yet fanned out, oldest first, and
	// in one transaction creates a pending delivery for each target name that
	// targets returns for the event and marks the event dispatched. Several
	// workers may call it at once; each event is fanned out exactly once.
	// It returns how many events it fanned out.
	FanOut(ctx context.Context, limit int, targets func(Event) []string, now time.Time) (int, error)
	// ClaimDeliveries leases up to c.Limit deliveries that may go now,
	// counting an attempt on each, in event order. Deliveries claimed by a
	// worker whose lease ran out are claimed again.
	ClaimDeliveries(ctx context.Context, c Claim) ([]Delivery, error)
	// ClaimNext records done (a success) and, in the same transaction,
	// leases the delivery that follows done's (same target and aggregate,
	// the next event) if it may go now, under the rules of ClaimDeliveries.
	// It lets a worker go along one queue without waiting for its next
	// round. found is false if there is none, or if done no longer
	// belonged to its claim (then nothing is recorded either).
	ClaimNext(ctx context.Context, c Claim, done Settle) (next Delivery, found bool, err error)
	// SettleDeliveries records outcomes of claimed deliveries in one
	// transaction and returns how many still belonged to their claim.
	SettleDeliveries(ctx context.Context, s []Settle) (int, error)
	// ListDeliveries pages through deliveries with their events.
	ListDeliveries(ctx context.Context, q DeliveryQuery) (Page[Delivery], error)
	// GetDelivery returns one delivery, or ErrNotFound.
	GetDelivery(ctx context.Context, k DeliveryKey) (Delivery, error)
	// ReplayDelivery makes a dead (or discarded) delivery pending again with
	// its attempts reset, due at now; ErrNotFound if there is no such
	// delivery, ErrConflict if it is pending or done.
	ReplayDelivery(ctx context.Context, k DeliveryKey, now time.Time) error
	// DiscardDelivery gives a dead delivery up, which lets the later events
	// of its aggregate go; ErrNotFound or ErrConflict as for ReplayDelivery.
	DiscardDelivery(ctx context.Context, k DeliveryKey, now time.Time) error
	// CountDeliveries counts deliveries per state (for metrics and the console).
	CountDeliveries(ctx context.Context) (map[DeliveryState]int, error)
	// PurgeOutbox deletes up to limit events created before the given time
	// whose deliveries are all done or discarded, with their deliveries, and
	// returns how many events it deleted. Pending and dead ones stay.
	PurgeOutbox(ctx context.Context, before time.Time, limit int) (int, error)
}

// WebhookEndpoint is a receiver of signed webhooks (P3).
type WebhookEndpoint struct {
	ID          string
	URL         string
	Description string
	EventTypes  []string // topics, or "*" for all; a trailing ".*" matches a prefix
	Secret      string   // sealed by webhook.Sealer ("sealed:v1:…"), or "whsec_…" in clear from earlier versions
	Enabled     bool
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Webhooks keeps webhook endpoints (P3).
type Webhooks interface {
	// CreateWebhook stores w with a new id and timestamps.
	CreateWebhook(ctx context.Context, w WebhookEndpoint) (WebhookEndpoint, error)
	GetWebhook(ctx context.Context, id string) (WebhookEndpoint, error)
	// UpdateWebhook writes url, description, event types, secret and enabled.
	UpdateWebhook(ctx context.Context, w WebhookEndpoint) (WebhookEndpoint, error)
	DeleteWebhook(ctx context.Context, id string) error
	// ListWebhooks returns every endpoint, oldest first.
	ListWebhooks(ctx context.Context) ([]WebhookEndpoint, error)
}
