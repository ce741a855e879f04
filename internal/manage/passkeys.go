package manage

import (
	"context"

	"opsiam/internal/directory"
	"opsiam/internal/store"
)

// ListPasskeys returns user id's passkeys (SPEC §9) if the caller may read
// the user (user.read; customer.admin for its own customer's users; every
// user itself); 404 otherwise.
func (s *Service) ListPasskeys(ctx context.Context, a Caller, id directory.UserID) ([]store.Passkey, error) {
	if _, _, err := s.ReadUser(ctx, a, id); err != nil {
		return nil, err
	}
	return s.Store.UserPasskeys(ctx, id)
}

// RemovePasskey removes passkey pid of user id (SPEC §9), with its audit
// record, if directory.MayRemovePasskey lets the caller: 404 when it may
// not see the user or the user has no such passkey, 403 when it may see
// but not write the user, 422 for the reserved admin's passkeys removed by
// anyone else. A removed passkey signs nobody in any more.
func (s *Service) RemovePasskey(ctx context.Context, a Caller, id directory.UserID, pid string) error {
	u, _, err := s.ReadUser(ctx, a, id)
	if err != nil {
		return err
	}
	if err := directory.MayRemovePasskey(a.Holder(), a.ID, u); err != nil {
		return err
	}
	return s.Store.InTx(ctx, func(tx store.Tx) error {
		if err := tx.DeletePasskey(ctx, id, pid); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, store.ActionUserPasskeyRemove, "user", string(id), map[string]string{"passkey_id": pid}, nil)
	})
}
