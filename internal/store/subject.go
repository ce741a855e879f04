package store

import (
	"context"

	"opsiam/internal/directory"
)

// Subject is what a user's token claims are made from (S2).
type Subject struct {
	User         directory.User
	CustomerCode string           // "" for a user outside customers
	Grants       directory.Grants // as UserGrants returns them
	RoleRevision int64            // the role graph's revision (RoleRevision) at the read
}

// UserSubjects reads a Subject in one round trip (issue 5, acceptance 6).
type UserSubjects interface {
	// UserSubject returns the user (any scope), its customer's code, its
	// grants and the role-graph revision, all read by one statement.
	// ErrNotFound if there is no such user.
	UserSubject(ctx context.Context, id directory.UserID) (Subject, error)
}
