package store

import (
	"context"

	"opsiam/internal/directory"
)

// Users keeps user records (U1–U3). Finding and listing take a Scope (P13).
type Users interface {
	// CreateUser stores u with a new id, timestamps and version 1 and returns it.
	CreateUser(ctx context.Context, u directory.User) (directory.User, error)
	GetUser(ctx context.Context, scope directory.Scope, id directory.UserID) (directory.User, error)
	// GetUserByUsername finds a user by user name, ignoring case (U2).
	GetUserByUsername(ctx context.Context, scope directory.Scope, username string) (directory.User, error)
	// GetUserByLogin finds a user by user name or mail address, ignoring case (A1).
	GetUserByLogin(ctx context.Context, login string) (directory.User, error)
	// UpdateUser writes every field but the user name, if the stored version
	// still equals u.Version (else ErrStale), and returns the new record.
	UpdateUser(ctx context.Context, u directory.User) (directory.User, error)
	DeleteUser(ctx context.Context, id directory.UserID) error
	ListUsers(ctx context.Context, scope directory.Scope, q UserQuery) (Page[directory.User], error)
	CountUsers(ctx context.Context, scope directory.Scope, f UserFilter) (int, error)
}

// Groups keeps groups (G1).
type Groups interface {
	CreateGroup(ctx context.Context, g directory.Group) (directory.Group, error)
	GetGroup(ctx context.Context, id directory.GroupID) (directory.Group, error)
	GetGroupByName(ctx context.Context, name string) (directory.Group, error)
	UpdateGroup(ctx context.Context, g directory.Group) (directory.Group, error)
	DeleteGroup(ctx context.Context, id directory.GroupID) error
	ListGroups(ctx context.Context, q ListQuery) (Page[directory.Group], error)
}

// Roles keeps roles and their containment (R1–R3). Every change to roles or
// containment bumps the role revision, so replicas know when to reload their
// in-memory role graph.
type Roles interface {
	CreateRole(ctx context.Context, r directory.Role) (directory.Role, error)
	GetRole(ctx context.Context, id directory.RoleID) (directory.Role, error)
	GetRoleByName(ctx context.Context, name string) (directory.Role, error)
	// UpdateRole changes the description only; names never change (R2).
	UpdateRole(ctx context.Context, r directory.Role) (directory.Role, error)
	DeleteRole(ctx context.Context, id directory.RoleID) error
	ListRoles(ctx context.Context, q RoleQuery) (Page[directory.Role], error)
	// AddContainment is idempotent: containing a role twice is not an error.
	AddContainment(ctx context.Context, parent, child directory.RoleID) error
	RemoveContainment(ctx context.Context, parent, child directory.RoleID) error
	// RoleGraph returns every role and containment edge with the revision they belong to.
	RoleGraph(ctx context.Context) (roles []directory.Role, edges []directory.Containment, revision int64, err error)
	// RoleRevision is a cheap check whether the role graph changed.
	RoleRevision(ctx context.Context) (int64, error)
}

// Customers keeps customers (C1). There is no delete: customers are made invalid.
type Customers interface {
	CreateCustomer(ctx context.Context, c directory.Customer) (directory.Customer, error)
	GetCustomer(ctx context.Context, id directory.CustomerID) (directory.Customer, error)
	GetCustomerByCode(ctx context.Context, code string) (directory.Customer, error)
	UpdateCustomer(ctx context.Context, c directory.Customer) (directory.Customer, error)
	ListCustomers(ctx context.Context, q CustomerQuery) (Page[directory.Customer], error)
}

// Links keeps the relations between aggregates: memberships (U4), role
// assignments to users and groups (R3), and group relations (G5). Adding a
// link that exists is not an error; removing one that does not is ErrNotFound.
type Links interface {
	AddMember(ctx context.Context, g directory.GroupID, u directory.UserID) error
	RemoveMember(ctx context.Context, g directory.GroupID, u directory.UserID) error
	ListMembers(ctx context.Context, scope directory.Scope, g directory.GroupID, q ListQuery) (Page[directory.User], error)
	UserGroups(ctx context.Context, u directory.UserID) ([]directory.Group, error)

	AssignUserRole(ctx context.Context, u directory.UserID, r directory.RoleID) error
	UnassignUserRole(ctx context.Context, u directory.UserID, r directory.RoleID) error
	UserRoles(ctx context.Context, u directory.UserID) ([]directory.Role, error)
	AssignGroupRole(ctx context.Context, g directory.GroupID, r directory.RoleID) error
	UnassignGroupRole(ctx context.Context, g directory.GroupID, r directory.RoleID) error
	GroupRoles(ctx context.Context, g directory.GroupID) ([]directory.Role, error)
	RoleUsers(ctx context.Context, scope directory.Scope, r directory.RoleID, q ListQuery) (Page[directory.User], error)
	RoleGroups(ctx context.Context, r directory.RoleID) ([]directory.Group, error)
	// UserGrants gathers, in one round trip, what effective roles are computed
	// from: the user's direct roles and the roles of each of its groups (R3).
	UserGrants(ctx context.Context, u directory.UserID) (directory.Grants, error)

	// SetRelation creates or changes the relation from rel.From to rel.To.
	SetRelation(ctx context.Context, rel directory.GroupRelation) error
	RemoveRelation(ctx context.Context, from, to directory.GroupID) error
	// GroupRelations lists the relations that start or end at g.
	GroupRelations(ctx context.Context, g directory.GroupID) ([]directory.GroupRelation, error)
}

// Secrets keeps password hashes apart from user records, so no user query
// can leak them.
type Secrets interface {
	SetPasswordHash(ctx context.Context, u directory.UserID, hash string) error
	// PasswordHash returns ErrNotFound for a user who never set a password.
	PasswordHash(ctx context.Context, u directory.UserID) (string, error)
}

// Tx is everything a unit of work can touch. Inside InTx all calls share one
// database transaction.
type Tx interface {
	Users
	Groups
	Roles
	Customers
	Links
	Secrets
	Audit
	Outbox
	OIDCClients
	OIDCGrants
	SigningKeys
	OIDCSessions
	Tokens
	BatchGrants
	BillingSnapshots
	SignInState
	OTPSecrets
	Sessions
	MailLinks
	Tombstones
	Deliveries
	Webhooks
	TokenRotation
	UserSubjects
	IdentityProviders
	Passkeys
	Locks
}

// Locks serialise the changes whose rules read more than they write.
type Locks interface {
	// LockDirectory makes the calling transaction the only one, until it
	// ends, that changes role containments, role assignments, memberships
	// or a user's customer: the cycle rule (R3), C2 and "no escalation"
	// read the whole graph, which row locks cannot protect (issue 13, rule
	// 5). PostgreSQL takes a transaction-scoped advisory lock; SQLite's
	// writers are serialised already. Outside a transaction it is a no-op.
	LockDirectory(ctx context.Context) error
}

// Store is a Tx whose every call runs in its own transaction, plus InTx for
// changes that must be all or nothing (STYLE P3).
type Store interface {
	Tx
	// InTx runs fn in one transaction: committed if fn returns nil, rolled
	// back otherwise (and fn's error is returned).
	InTx(ctx context.Context, fn func(tx Tx) error) error
	// Ready reports whether the database answers and is fully migrated.
	Ready(ctx context.Context) error
	Close() error
}
