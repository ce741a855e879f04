package console

import (
	"context"

	"opsiam/internal/directory"
	"opsiam/internal/manage"
)

// principal is the signed-in user of a request with its effective roles,
// computed once (R5). Who may do what is decided in package manage from
// the caller (manage.Caller, issue 13), the same for the console and the
// REST API; these methods only ask it, so that the pages show the buttons
// the use cases will accept.
type principal struct {
	User  directory.User
	Roles directory.RoleSet
}

// caller is the principal as the use cases see it.
func (p *principal) caller() manage.Caller {
	return manage.Caller{ID: p.User.ID, Username: p.User.Username, Roles: p.Roles, Customer: p.User.CustomerID}
}

// Can reports whether the caller's effective roles permit p.
func (p *principal) Can(perm directory.Permission) bool { return p.caller().Can(perm) }

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
func (p *principal) usersScope() (directory.Scope, bool) { return p.caller().ReadScope() }

// actionScope returns the scope of enable, disable and password reset.
func (p *principal) actionScope() (directory.Scope, bool) { return p.caller().ActScope() }

// needRead allows reading groups, roles and customers (user.read); 404
// otherwise.
func (p *principal) needRead() error { return p.caller().NeedRead() }

// needWrite allows changing the directory (user.write): 403 for a reader,
// 404 for anyone else.
func (p *principal) needWrite() error { return p.caller().NeedWrite() }

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
