package store

import (
	"context"
	"time"
)

// BillingSnapshot is the billed and non-billed count of one UTC day (B1).
type BillingSnapshot struct {
	Day       string // YYYY-MM-DD
	Billed    int
	NonBilled int
	TakenAt   time.Time
}

// BillingSnapshots keeps the counts behind the billed-count report (B1).
type BillingSnapshots interface {
	// PutBillingSnapshot stores s, replacing an earlier snapshot of its day.
	PutBillingSnapshot(ctx context.Context, s BillingSnapshot) error
	// ListBillingSnapshots returns the snapshots of days from..to
	// (inclusive, YYYY-MM-DD; empty: unbounded), oldest first.
	ListBillingSnapshots(ctx context.Context, from, to string) ([]BillingSnapshot, error)
}
