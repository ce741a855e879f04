package manage

import (
	"context"
	"errors"

	"opsiam/internal/directory"
)

// TombstonesForCreate returns the tombstones and choices that creating u
// would meet (D2), writing nothing: the console's choice and rename screens
// (D3) ask it at each step, so that nothing is written before the final OK.
// An empty conflict means the create meets no tombstone. Invalid user
// fields are not checked here; CreateUserResolving checks them.
func (s *Service) TombstonesForCreate(ctx context.Context, u directory.User) (directory.TombstoneConflict, error) {
	directory.NormalizeUser(&u)
	if u.Timezone == "" {
		u.Timezone = s.timezone()
	}
	return s.tombstonePreview(ctx, directory.TombstoneChange{User: u})
}

// TombstonesForUpdate is TombstonesForCreate for an edit of the user id
// with the patch p (a mail change, or setting a customer; reference §6.3).
func (s *Service) TombstonesForUpdate(ctx context.Context, scope directory.Scope, id directory.UserID, p UserPatch) (directory.TombstoneConflict, error) {
	old, err := s.Store.GetUser(ctx, scope, id)
	if err != nil {
		return directory.TombstoneConflict{}, err
	}
	u := old
	p.Apply(&u)
	directory.NormalizeUser(&u)
	return s.tombstonePreview(ctx, directory.TombstoneChange{User: u, Previous: &old})
}

// tombstonePreview plans ch without a resolution; the store's own reads
// serve as the transaction, since nothing is written.
func (s *Service) tombstonePreview(ctx context.Context, ch directory.TombstoneChange) (directory.TombstoneConflict, error) {
	_, err := s.tombstones().PlanChange(ctx, s.Store, ch, nil)
	var tc directory.TombstoneConflict
	switch {
	case err == nil:
		return directory.TombstoneConflict{}, nil
	case errors.As(err, &tc):
		return tc, nil
	}
	return directory.TombstoneConflict{}, err
}
