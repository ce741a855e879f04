package provision

import (
	"encoding/json"
	"time"

	"opsiam/internal/store"
)

// DeliveryView is a delivery as /api/v1/outbox shows it (SPEC §7: JSON,
// snake_case, opaque string ids). Times are RFC 3339 in UTC; zero times
// are left out.
type DeliveryView struct {
	ID            string          `json:"id"` // DeliveryID: "SEQ:TARGET"
	EventID       string          `json:"event_id"`
	Topic         string          `json:"topic"`
	Aggregate     string          `json:"aggregate"`
	Target        string          `json:"target"`
	State         string          `json:"state"` // pending, done, dead, discarded
	Attempts      int             `json:"attempts"`
	NextAttemptAt *time.Time      `json:"next_attempt_at,omitempty"`
	LastError     string          `json:"last_error"`
	Payload       json.RawMessage `json:"payload"`
	CreatedAt     time.Time       `json:"created_at"`
	UpdatedAt     time.Time       `json:"updated_at"`
}

// View converts a delivery for the API.
func View(d store.Delivery) DeliveryView {
	v := DeliveryView{
		ID: DeliveryID(d.Key()), EventID: d.Event.ID, Topic: d.Event.Topic, Aggregate: d.Event.Aggregate,
		Target: d.Target, State: string(d.State), Attempts: d.Attempts, LastError: d.LastError,
		Payload: d.Event.Payload, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt,
	}
	if d.State == store.DeliveryPending && !d.NextAttemptAt.IsZero() {
		t := d.NextAttemptAt
		v.NextAttemptAt = &t
	}
	return v
}
