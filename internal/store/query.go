package store

import "opsiam/internal/directory"

// DefaultLimit and MaxLimit bound the size of one page.
const (
	DefaultLimit = 50
	MaxLimit     = 1000
)

// Page is one page of a list in a stable order. Next is the opaque cursor of
// the following page, empty on the last one.
type Page[T any] struct {
	Items []T
	Next  string
}

// ListQuery pages through a list. Sort names a field, with a leading "-" for
// descending order; each list documents the fields it sorts by. Q filters by
// a case-insensitive prefix of the name.
type ListQuery struct {
	Q      string
	Sort   string
	Limit  int
	Cursor string
}

// Billing classes of B1 used as a user filter.
const (
	Billed    = "billed"
	NonBilled = "non_billed"
)

// UserFilter selects users (U5). Empty fields do not filter.
type UserFilter struct {
	// Q matches a case-insensitive prefix of user name, mail, first name,
	// last name or customer code.
	Q          string
	Username   string // exact, ignoring case
	Email      string // exact, ignoring case
	ExternalID string // exact (SCIM externalId is case-sensitive)
	CustomerID directory.CustomerID
	Enabled    *bool
	// Billing is Billed, NonBilled or empty. FreeRoles must then list every
	// role that effectively contains free_user (B1); the caller computes it
	// from the role graph.
	Billing   string
	FreeRoles []directory.RoleID
}

// UserQuery is a UserFilter with paging. Sort: username (default), email,
// first_name, last_name, created_at, updated_at.
type UserQuery struct {
	UserFilter
	Sort   string
	Limit  int
	Cursor string
}

// RoleQuery lists roles, optionally of one type. Sort: name (default), type.
type RoleQuery struct {
	ListQuery
	Type directory.RoleType
}

// CustomerQuery lists customers, optionally in one state. Sort: name (default), code.
type CustomerQuery struct {
	ListQuery
	State directory.CustomerState
}
