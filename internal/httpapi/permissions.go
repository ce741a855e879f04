package httpapi

import (
	"net/http"

	"opsiam/internal/directory"
	"opsiam/internal/manage"
)

// Who may do what (SPEC §8 catalogue, R5) is decided in package manage,
// from the caller (manage.Caller) and the pure policy of package
// directory, once for every entry point (issue 13). These helpers only ask
// it; the answers map to 404 for what may not be seen and 403 for what may
// be seen but not done (problemFor). The rules, for reference:
//   - user.read (user_admin, user_viewer) reads every user, group, role and
//     customer; user.write (user_admin) changes them.
//   - customer.admin (customer_admin) reads only the users of its own
//     customer, and may only enable/disable them and send password resets.
//   - Every authenticated user may read itself.
//   - token.admin issues, shows and revokes platform tokens; billing.read
//     reads /billing; audit.read reads /audit.

// caller is the request's caller as the use cases see it.
func (p *Principal) caller() manage.Caller {
	return manage.Caller{ID: p.User.ID, Username: p.User.Username, Roles: p.Roles, Customer: p.User.CustomerID}
}

// readableUser loads user id if the caller may read it, else ErrNotFound.
func (a *API) readableUser(r *http.Request, id directory.UserID) (directory.User, directory.Scope, error) {
	return a.Manage.ReadUser(r.Context(), principal(r).caller(), id)
}

// needDirectoryRead allows reading groups, roles and customers (user.read).
func needDirectoryRead(r *http.Request) error { return principal(r).caller().NeedRead() }

// needDirectoryWrite allows changing the directory (user.write).
func needDirectoryWrite(r *http.Request) error { return principal(r).caller().NeedWrite() }

// writableUser loads user id for a change that needs user.write.
func (a *API) writableUser(r *http.Request, id directory.UserID) (directory.User, error) {
	u, _, err := a.readableUser(r, id)
	if err != nil {
		return u, err
	}
	return u, principal(r).caller().Need(directory.PermUserWrite, true)
}
