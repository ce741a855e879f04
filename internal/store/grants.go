package store

import (
	"context"

	"opsiam/internal/directory"
)

// BatchGrants gathers what effective roles are computed from for many users
// in one round trip, so that a page of users shows each one's billed flag
// (B1) without a query per user (STYLE P14).
type BatchGrants interface {
	// UsersGrants returns the grants of each user in ids; a user without
	// any roles or groups maps to empty Grants.
	UsersGrants(ctx context.Context, ids []directory.UserID) (map[directory.UserID]directory.Grants, error)
}
