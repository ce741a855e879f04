package manage

import (
	"context"

	"opsiam/internal/directory"
	"opsiam/internal/store"
)

// Bulk actions on selected users (U6), spelled as in the API (SPEC §7).
const (
	BulkEnable        = "enable"
	BulkDisable       = "disable"
	BulkDelete        = "delete"
	BulkPasswordReset = "password_reset"
)

// BulkResult is the outcome for one id of a bulk action: Err is nil on
// success. Each item runs in its own transaction, so one refusal (the
// reserved admin, say) does not undo the others.
type BulkResult struct {
	ID  directory.UserID
	Err error
}

// ValidBulkAction reports whether action is one of the Bulk* actions.
func ValidBulkAction(action string) bool {
	switch action {
	case BulkEnable, BulkDisable, BulkDelete, BulkPasswordReset:
		return true
	}
	return false
}

// Bulk applies action to each id in scope and reports per id (U6).
//
// Who may do it is decided here, once for the REST API and the console
// (issue 13): a caller who may read no user gets ErrNotFound; delete needs
// user.write; enable, disable and password reset need user.write or, for
// the users of its own customer, customer.admin (a Refusal otherwise).
// scope narrows the users further (an adapter's filter); each item is
// then decided by its own use case.
func (s *Service) Bulk(ctx context.Context, a Caller, scope directory.Scope, action string, ids []directory.UserID) ([]BulkResult, error) {
	readScope, ok := a.ReadScope()
	if !ok {
		return nil, store.ErrNotFound
	}
	if action == BulkDelete {
		if err := a.NeedUserWrite(); err != nil {
			return nil, err
		}
	} else if _, ok := a.ActScope(); !ok {
		return nil, &directory.Refusal{Message: "Enabling, disabling and password resets need user.write, or customer.admin for your own customer's users."}
	}
	if readScope.Restricted() {
		scope = readScope
	}
	if !ValidBulkAction(action) {
		return nil, fieldError("action", directory.CodeInvalid, "action must be enable, disable, delete or password_reset; %q is not.", action)
	}
	if len(ids) == 0 {
		return nil, fieldError("ids", directory.CodeRequired, "ids must name at least one user.")
	}
	if len(ids) > 1000 {
		return nil, fieldError("ids", directory.CodeTooLong, "ids may name at most 1000 users.")
	}
	out := make([]BulkResult, len(ids))
	for i, id := range ids {
		var err error
		switch action {
		case BulkEnable, BulkDisable:
			_, err = s.SetEnabled(ctx, a, scope, id, action == BulkEnable)
		case BulkDelete:
			err = s.DeleteUser(ctx, a, scope, id, 0)
		case BulkPasswordReset:
			err = s.ResetPassword(ctx, a, scope, id)
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		out[i] = BulkResult{ID: id, Err: err}
	}
	return out, nil
}
