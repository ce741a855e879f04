package httpapi

import (
	"net/http"

	"opsiam/internal/directory"
	"opsiam/internal/store"
)

// Who may do what (SPEC §8 catalogue, R5). Decisions documented here:
//   - user.read (user_admin, user_viewer) reads every user, group, role and
//     customer; user.write (user_admin) changes them.
//   - customer.admin (customer_admin) reads only the users of its own
//     customer, and may only enable/disable them (PATCH with nothing but
//     "enabled", or bulk enable/disable) and send password resets.
//   - Every authenticated user may read itself: GET /users/{id} and its
//     groups, roles, effective roles and why paths — nothing else.
//   - token.admin issues, shows and revokes platform tokens of any user.
//   - billing.read reads /billing; audit.read reads /audit.
//   - Whoever may not read a thing gets 404, not 403 (existence does not
//     leak); whoever may read it but not do the action gets 403.

// usersScope returns the users the caller may read besides itself.
func (p *Principal) usersScope() (directory.Scope, bool) {
	switch {
	case p.Can(directory.PermUserRead):
		return directory.Scope{}, true
	case p.Can(directory.PermCustomerAdmin) && p.User.CustomerID != "":
		return directory.Scope{Customer: p.User.CustomerID}, true
	}
	return directory.Scope{}, false
}

// readableUser loads user id if the caller may read it, else ErrNotFound.
func (a *API) readableUser(r *http.Request, id directory.UserID) (directory.User, directory.Scope, error) {
	p := principal(r)
	if scope, ok := p.usersScope(); ok {
		u, err := a.Manage.Store.GetUser(r.Context(), scope, id)
		if err == nil || id != p.User.ID {
			return u, scope, err
		}
	}
	if id == p.User.ID {
		u, err := a.Manage.Store.GetUser(r.Context(), directory.Scope{}, id)
		return u, directory.Scope{Customer: "\x00self"}, err // a scope that reaches no other user
	}
	return directory.User{}, directory.Scope{}, store.ErrNotFound
}

// needPerm allows the action if the caller holds perm; else 403 when it may
// at least read the thing (canRead), 404 otherwise.
func needPerm(p *Principal, perm directory.Permission, canRead bool) error {
	if p.Can(perm) {
		return nil
	}
	if canRead {
		return errForbidden
	}
	return store.ErrNotFound
}

// needDirectoryRead allows reading groups, roles and customers (user.read).
func needDirectoryRead(r *http.Request) error {
	return needPerm(principal(r), directory.PermUserRead, false)
}

// needDirectoryWrite allows changing the directory (user.write).
func needDirectoryWrite(r *http.Request) error {
	p := principal(r)
	return needPerm(p, directory.PermUserWrite, p.Can(directory.PermUserRead))
}

// writableUser loads user id for a change that needs user.write.
func (a *API) writableUser(r *http.Request, id directory.UserID) (directory.User, error) {
	u, _, err := a.readableUser(r, id)
	if err != nil {
		return u, err
	}
	return u, needPerm(principal(r), directory.PermUserWrite, true)
}

// customerActionScope returns the scope in which the caller may enable,
// disable and reset passwords: every user with user.write, its own
// customer with customer.admin.
func customerActionScope(p *Principal) (directory.Scope, bool) {
	if p.Can(directory.PermUserWrite) {
		return directory.Scope{}, true
	}
	if p.Can(directory.PermCustomerAdmin) && p.User.CustomerID != "" {
		return directory.Scope{Customer: p.User.CustomerID}, true
	}
	return directory.Scope{}, false
}
