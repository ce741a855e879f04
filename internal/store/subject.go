package store

import (
	"context"

	"opsiam/internal/directory"
)

// UserSubjects reads what a user's token claims are made from in one
// round trip (issue 5, acceptance 6; S2).
type UserSubjects interface {
	// UserSubject returns the user (any scope), the code of its customer
	// ("" for none) and the current role-graph revision (see RoleRevision),
	// all read by one statement. ErrNotFound if there is no such user.
	UserSubject(ctx context.Context, id directory.UserID) (u directory.User, customerCode string, roleRevision int64, err error)
}
