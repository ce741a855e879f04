package manage

import (
	"context"

	"opsiam/internal/directory"
	"opsiam/internal/store"
)

// The reads whose permission the use case decides (issue 13): the REST API
// and the console only call them and map the answer.

// AuditAccess and BillingAccess tell an adapter, before it reads the
// request's parameters, whether the caller may read the audit log or the
// billing counts at all, so that a caller who may not is not told which
// parameter was wrong (404 before 422).
func (c Caller) AuditAccess() error   { return c.Need(directory.PermAuditRead, false) }
func (c Caller) BillingAccess() error { return c.Need(directory.PermBillingRead, false) }

// BillingFor counts billed and non-billed users (B1); needs billing.read.
func (s *Service) BillingFor(ctx context.Context, c Caller) (BillingCounts, error) {
	if err := c.BillingAccess(); err != nil {
		return BillingCounts{}, err
	}
	return s.Billing(ctx, directory.Scope{})
}

// BillingReport returns the daily billed counts from..to (B1); needs
// billing.read.
func (s *Service) BillingReport(ctx context.Context, c Caller, from, to string) ([]store.BillingSnapshot, error) {
	if err := c.BillingAccess(); err != nil {
		return nil, err
	}
	return s.Store.ListBillingSnapshots(ctx, from, to)
}

// ListAudit searches the audit log (O1); needs audit.read.
func (s *Service) ListAudit(ctx context.Context, c Caller, q store.AuditQuery) (store.Page[store.AuditRecord], error) {
	if err := c.AuditAccess(); err != nil {
		return store.Page[store.AuditRecord]{}, err
	}
	return s.Store.ListAudit(ctx, q)
}

// TokenOf returns the issue time and expiry of a user's platform token
// (A6); needs token.admin. Who cannot even read the user gets 404.
func (s *Service) TokenOf(ctx context.Context, c Caller, uid directory.UserID) (TokenInfo, error) {
	if err := s.TokenAccess(ctx, c, uid); err != nil {
		return TokenInfo{}, err
	}
	return s.Token(ctx, uid)
}

// TokenAccess decides whether the caller may see, issue or revoke user
// uid's platform token: token.admin; 403 for a caller who may read the
// user, 404 for one who may not.
func (s *Service) TokenAccess(ctx context.Context, c Caller, uid directory.UserID) error {
	if c.Can(directory.PermTokenAdmin) {
		return nil
	}
	_, _, err := s.ReadUser(ctx, c, uid)
	return c.Need(directory.PermTokenAdmin, err == nil)
}
