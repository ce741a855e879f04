package manage

import (
	"context"
	"errors"

	"opsiam/internal/directory"
	"opsiam/internal/store"
)

// Caller is who calls a use case: a user with its effective roles and
// customer, or the system itself (the CLI, the outbox worker, the
// bootstrap), plus where the call came from. Each transport builds it once
// per request (UserCaller, SystemCaller) and passes it to every use case,
// which decides from it, with the pure policy of package directory, what
// the caller may do (issue 13). The zero Caller may do nothing.
type Caller struct {
	ID       directory.UserID // empty for the system
	Username string
	Source   string // client address, or "cli"
	// Roles are the caller's effective roles (zero for the system).
	Roles directory.RoleSet
	// Customer is the caller's customer (C2), empty for platform staff.
	Customer directory.CustomerID
	// System marks the CLI and the server's own work: it holds every
	// permission, as whoever can run the binary on the database can.
	System bool
	// Service is the client_id of a service client (C5) calling the
	// access API with its own token; it has no user and no roles.
	Service string
}

// SystemCaller is the caller of the CLI and of the server's own work.
func SystemCaller(name, source string) Caller {
	return Caller{Username: name, Source: source, System: true}
}

// UserCaller is the caller for user u, with its effective roles, from
// source.
func (s *Service) UserCaller(ctx context.Context, u directory.User, source string) (Caller, error) {
	roles, err := s.EffectiveRoles(ctx, u.ID)
	if err != nil {
		return Caller{}, err
	}
	return Caller{ID: u.ID, Username: u.Username, Source: source, Roles: roles, Customer: u.CustomerID}, nil
}

// Holder is the caller as the policy of package directory sees it.
func (c Caller) Holder() directory.Holder {
	return directory.Holder{Roles: c.Roles, Customer: c.Customer, System: c.System}
}

// mayGrant applies "no escalation" (directory.MayGrant) to the closure of
// role ids in graph g.
func (c Caller) mayGrant(g *directory.RoleGraph, what string, ids ...directory.RoleID) error {
	return directory.MayGrant(c.Holder(), g.Expand(ids...), what)
}

// adminWhole refuses the change being made in tx if it leaves the reserved
// admin user without a permission of System Security Administrator (issue
// 13, rule 2). field names the input for the refusal.
func adminWhole(ctx context.Context, tx store.Tx, field string) error {
	admin, err := tx.GetUserByUsername(ctx, directory.Scope{}, directory.AdminUsername)
	if errors.Is(err, store.ErrNotFound) {
		return nil // not bootstrapped (some tests)
	}
	if err != nil {
		return err
	}
	g, err := Load(ctx, tx)
	if err != nil {
		return err
	}
	ssa, ok := g.ByName(directory.RoleNameSystemSecurityAdmin)
	if !ok {
		return nil
	}
	grants, err := tx.UserGrants(ctx, admin.ID)
	if err != nil {
		return err
	}
	return directory.KeepsAdminWhole(g.Effective(grants), g.Expand(ssa.ID), field)
}

// may refuses a caller without permission p: 403 (Refusal) when it may at
// least read the directory, 404 otherwise, so that what may not be seen
// does not show (the API's rule).
func (c Caller) may(p directory.Permission) error {
	h := c.Holder()
	switch {
	case h.Can(p):
		return nil
	case h.Can(directory.PermUserRead) || h.Can(directory.PermCustomerAdmin):
		return &directory.Refusal{Message: "This needs the permission " + string(p) + "."}
	}
	return store.ErrNotFound
}

// actScope is the scope in which the caller may change users (issue 13,
// rule 6): every user with user.write; with customer.admin only the users
// of its own customer, and only to enable or disable them or send a
// password reset (customerAction). given narrows it further (an adapter's
// own scope); a caller who may not act at all gets 404 or 403 from may.
func (c Caller) actScope(given directory.Scope, customerAction bool) (directory.Scope, error) {
	h := c.Holder()
	if h.Can(directory.PermUserWrite) {
		return given, nil
	}
	if h.Roles.Permits(directory.PermCustomerAdmin) && c.Customer != "" {
		if given.Restricted() && given.Customer != c.Customer {
			return directory.Scope{}, store.ErrNotFound
		}
		if !customerAction {
			return directory.Scope{}, &directory.Refusal{Message: "A customer manager may only enable or disable users of its customer and send them password resets."}
		}
		return directory.Scope{Customer: c.Customer}, nil
	}
	return directory.Scope{}, c.may(directory.PermUserWrite)
}

// The read side of the policy, asked by every adapter (REST, console)
// before it shows something, so that who may see what is decided here
// once (issue 13). What may not be seen is store.ErrNotFound (404), what
// may be seen but not done a Refusal (403).

// Can reports whether the caller holds permission p.
func (c Caller) Can(p directory.Permission) bool { return c.Holder().Can(p) }

// ReadScope is the scope of the users the caller may read besides itself:
// every user with user.read, its own customer's with customer.admin; ok is
// false when it may read none.
func (c Caller) ReadScope() (directory.Scope, bool) { return c.Holder().CustomerScope(false) }

// ActScope is the scope in which the caller may enable, disable and reset
// users: every user with user.write, its own customer's with
// customer.admin.
func (c Caller) ActScope() (directory.Scope, bool) { return c.Holder().CustomerScope(true) }

// Need allows an action that needs p: 403 when the caller may at least see
// the thing (canSee), 404 otherwise.
func (c Caller) Need(p directory.Permission, canSee bool) error {
	switch {
	case c.Can(p):
		return nil
	case canSee:
		return &directory.Refusal{Message: "This needs the permission " + string(p) + "."}
	}
	return store.ErrNotFound
}

// NeedRead allows reading groups, roles, customers and relations
// (user.read); 404 otherwise.
// UsesConsole reports whether the admin console has anything for the
// caller: it may read users (user.read, or customer.admin for its own
// customer). Sign-in sends such a caller to the console, others to their
// account page (issue 17).
func (c Caller) UsesConsole() bool {
	_, ok := c.ReadScope()
	return ok
}

func (c Caller) NeedRead() error { return c.Need(directory.PermUserRead, false) }

// NeedWrite allows changing the directory (user.write): 403 for a reader,
// 404 for anyone else.
func (c Caller) NeedWrite() error {
	return c.Need(directory.PermUserWrite, c.Can(directory.PermUserRead))
}

// NeedUserWrite allows changing users (user.write): 403 for a caller who
// may read some users (a customer manager, a viewer), 404 otherwise.
func (c Caller) NeedUserWrite() error {
	_, canRead := c.ReadScope()
	return c.Need(directory.PermUserWrite, canRead)
}

// MayAskAbout decides the access API's subject rule (C3–C5): a service
// client and a holder of user.read may ask about anyone, everyone about
// itself; others get 403 (the endpoint is not secret, and subjects are not
// revealed either way).
func (c Caller) MayAskAbout(subject directory.UserID) error {
	if c.Service != "" || (subject == c.ID && c.ID != "") {
		return nil
	}
	return c.Need(directory.PermUserRead, true)
}

// AppsAccess allows managing applications: OIDC clients, webhooks and
// the outbox (client.write), reading included, since payloads carry
// personal data; 404 for anyone else.
func (c Caller) AppsAccess() error { return c.Need(directory.PermClientWrite, false) }

// SelfScope is the scope of a caller's reads of itself when it may read no
// other user: it reaches no user but the one read by id.
var SelfScope = directory.Scope{Customer: "\x00self"}

// ReadUser loads user id if the caller may read it (itself always), with
// the scope its further reads of that user's relations use.
func (s *Service) ReadUser(ctx context.Context, c Caller, id directory.UserID) (directory.User, directory.Scope, error) {
	if scope, ok := c.ReadScope(); ok {
		u, err := s.Store.GetUser(ctx, scope, id)
		if err == nil || id != c.ID {
			return u, scope, err
		}
	}
	if id == c.ID && id != "" {
		u, err := s.Store.GetUser(ctx, directory.Scope{}, id)
		return u, SelfScope, err
	}
	return directory.User{}, directory.Scope{}, store.ErrNotFound
}
