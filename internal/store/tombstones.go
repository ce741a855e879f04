package store

import (
	"context"

	"opsiam/internal/directory"
)

// TombstoneQuery lists tombstones. Q filters by a case-insensitive prefix of
// the user name or mail. Sort: username (default), email, deleted_at.
type TombstoneQuery struct {
	ListQuery
	Live        *bool            // true: not taken over; false: taken over; nil: both
	TakenOverBy directory.UserID // only tombstones this user took over
}

// Tombstones keeps the deleted users who live on in the ITSM app (D1–D3).
// User names and mails are not unique among tombstones (see
// docs/architecture.md); the ITSM link is: one tombstone per deleted user.
type Tombstones interface {
	// CreateTombstone stores t with a new id and version 1 and returns it; a
	// zero DeletedAt becomes the store's clock.
	CreateTombstone(ctx context.Context, t directory.Tombstone) (directory.Tombstone, error)
	GetTombstone(ctx context.Context, id directory.TombstoneID) (directory.Tombstone, error)
	// FindTombstones returns the live tombstones whose user name equals
	// username or whose mail equals email, ignoring case (D2), oldest first.
	// An empty argument matches nothing.
	FindTombstones(ctx context.Context, username, email string) ([]directory.Tombstone, error)
	// RenameTombstone writes t's user name and mail (D2 rename) if t is still
	// live and its stored version is t.Version, else ErrStale (ErrNotFound
	// when it does not exist), and returns the new record.
	RenameTombstone(ctx context.Context, t directory.Tombstone) (directory.Tombstone, error)
	// TakeOverTombstone links t to the user t.TakenOverBy at t.TakenOverAt
	// (zero: now) and writes t's user name and mail (D2 take-over), under the
	// same guard as RenameTombstone.
	TakeOverTombstone(ctx context.Context, t directory.Tombstone) (directory.Tombstone, error)
	ListTombstones(ctx context.Context, q TombstoneQuery) (Page[directory.Tombstone], error)
}
