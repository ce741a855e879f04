package console

import (
	"context"

	"opsiam/internal/directory"
	"opsiam/internal/manage"
)

// principal is the signed-in user of a request with its effective roles,
// computed once (R5). The rules are those of the REST API
// (internal/httpapi/permissions.go):
//   - user.read reads every user, group, role and customer; user.write
//     changes them;
//   - customer.admin reads the users of its own customer only, and may only
//     enable, disable and send password resets there;
//   - token.admin issues and revokes platform tokens; audit.read reads the
//     audit log; billing.read sees the billing counts;
//   - whoever may not read a thing gets 404; whoever may read it but not
//     change it gets 403 (and sees no button for it).
type principal struct {
	User  directory.User
	Roles directory.RoleSet
}

// Can reports whether the caller's effective roles permit p.
func (p *principal) Can(perm directory.Permission) bool { return p.Roles.Permits(perm) }

// CanRead reports user.read (directory pages other than users).
func (p *principal) CanRead() bool { return p.Can(directory.PermUserRead) }

// CanWrite reports user.write.
func (p *principal) CanWrite() bool { return p.Can(directory.PermUserWrite) }

// CanToken reports token.admin (A6).
func (p *principal) CanToken() bool { return p.Can(directory.PermTokenAdmin) }

// CanAudit reports audit.read (O1).
func (p *principal) CanAudit() bool { return p.Can(directory.PermAuditRead) }

// CanBilling reports billing.read (B1).
func (p *principal) CanBilling() bool { return p.Can(directory.PermBillingRead) }

// CanUsers reports whether the caller may see the users list at all.
func (p *principal) CanUsers() bool { _, ok := p.usersScope(); return ok }

// CanCustomerActions reports whether the caller may enable, disable and
// reset passwords (user.write anywhere, customer.admin in its customer).
func (p *principal) CanCustomerActions() bool { _, ok := p.actionScope(); return ok }

// usersScope returns the users the caller may read.
func (p *principal) usersScope() (directory.Scope, bool) {
	switch {
	case p.Can(directory.PermUserRead):
		return directory.Scope{}, true
	case p.Can(directory.PermCustomerAdmin) && p.User.CustomerID != "":
		return directory.Scope{Customer: p.User.CustomerID}, true
	}
	return directory.Scope{}, false
}

// actionScope returns the scope of enable, disable and password reset.
func (p *principal) actionScope() (directory.Scope, bool) {
	if p.Can(directory.PermUserWrite) {
		return directory.Scope{}, true
	}
	if p.Can(directory.PermCustomerAdmin) && p.User.CustomerID != "" {
		return directory.Scope{Customer: p.User.CustomerID}, true
	}
	return directory.Scope{}, false
}

// needRead allows reading groups, roles and customers (user.read); 404
// otherwise.
func (p *principal) needRead() error {
	if p.CanRead() {
		return nil
	}
	return errNotFound
}

// needWrite allows changing the directory (user.write): 403 for a reader,
// 404 for anyone else.
func (p *principal) needWrite() error {
	switch {
	case p.CanWrite():
		return nil
	case p.CanRead():
		return errForbidden
	}
	return errNotFound
}

// readableUser loads user id if the caller may read it, else ErrNotFound.
func (c *Console) readableUser(ctx context.Context, p *principal, id directory.UserID) (directory.User, error) {
	scope, ok := p.usersScope()
	if !ok {
		return directory.User{}, errNotFound
	}
	return c.cfg.Manage.Store.GetUser(ctx, scope, id)
}

// svc is a short name for the manage service.
func (c *Console) svc() *manage.Service { return c.cfg.Manage }
