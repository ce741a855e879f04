package auth

import (
	"context"
	"errors"

	"opsiam/internal/directory"
	"opsiam/internal/store"
)

// ChangePassword is the account page's password change (A7): the current
// password must be right; a wrong one counts, and at the configured limit
// the account is disabled at once (sessions end, audit record, user.updated
// event) and ErrAccountDisabled is returned. Field errors name
// "current_password", "password" or "confirm". A new password ends the
// user's other sessions (all but keep, the session token making the
// change), its applications' sessions and tokens, and its outstanding
// password links (issue 13, rule 3).
func (s *Service) ChangePassword(ctx context.Context, u directory.User, keep, current, password, confirm string, src Source) error {
	if err := s.checkCurrent(ctx, u, current, src); err != nil {
		return err
	}
	if err := checkNewPassword(u, password, confirm); err != nil {
		return err
	}
	newHash, err := s.hash(ctx, password)
	if err != nil {
		return err
	}
	return s.Store.InTx(ctx, func(tx store.Tx) error {
		if err := tx.ClearAccountPasswordFailures(ctx, u.ID); err != nil {
			return err
		}
		if err := tx.SetPasswordHash(ctx, u.ID, newHash); err != nil {
			return err
		}
		if err := tx.DeleteUserMailLinks(ctx, u.ID, store.LinkPasswordSetup, store.LinkPasswordReset); err != nil {
			return err
		}
		if err := s.endOtherAccess(ctx, tx, u.ID, keep); err != nil {
			return err
		}
		return s.audit(ctx, tx, src, store.ActionAuthPasswordChange, u.ID, nil)
	})
}

// endOtherAccess ends u's sessions but the one of token keep (empty: all)
// and its applications' sessions and tokens.
func (s *Service) endOtherAccess(ctx context.Context, tx store.Tx, u directory.UserID, keep string) error {
	all, err := tx.UserSessions(ctx, u)
	if err != nil {
		return err
	}
	kept := ""
	if keep != "" {
		kept = HashToken(keep)
	}
	for _, sess := range all {
		if sess.IDHash == kept {
			continue
		}
		if err := tx.DeleteSession(ctx, sess.IDHash); err != nil {
			return err
		}
	}
	if s.EndSessions == nil {
		return nil
	}
	return s.EndSessions(ctx, tx, u)
}

// VerifyPassword checks the current password of a signed-in user before a
// change that needs it (replacing the one-time code authenticator, issue
// 13 rule 3); a wrong one counts as on the password form.
func (s *Service) VerifyPassword(ctx context.Context, u directory.User, current string, src Source) error {
	if current == "" {
		return directory.FieldErrors{{Field: "current_password", Code: directory.CodeRequired,
			Message: "The current password is required."}}
	}
	if err := s.checkCurrent(ctx, u, current, src); err != nil {
		return err
	}
	return s.Store.ClearAccountPasswordFailures(ctx, u.ID)
}

// checkCurrent verifies a signed-in user's current password; a wrong one
// counts (wrongCurrentPassword). Unknown hashes cost the same work.
func (s *Service) checkCurrent(ctx context.Context, u directory.User, current string, src Source) error {
	hash, err := s.Store.PasswordHash(ctx, u.ID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if hash == "" {
		hash = s.dummy()
	}
	ok, _, err := s.verify(ctx, hash, current)
	if err != nil {
		return err
	}
	if !ok || hash == s.dummy() {
		return s.wrongCurrentPassword(ctx, u, src)
	}
	return nil
}

// wrongCurrentPassword counts a wrong current password. At the limit an
// account is disabled, except the reserved admin, which is locked for the
// lockout period instead, so that the break-glass account can never be
// lost this way (issue 13, rule 2): ErrAccountLocked.
func (s *Service) wrongCurrentPassword(ctx context.Context, u directory.User, src Source) error {
	disabled, locked := false, false
	err := s.Store.InTx(ctx, func(tx store.Tx) error {
		max := s.Policy.AccountPasswordFailures
		if u.IsReserved() {
			max = 0 // counted, never disabled
		}
		n, off, err := tx.RecordAccountPasswordFailure(ctx, u.ID, max)
		if err != nil {
			return err
		}
		if err := s.audit(ctx, tx, src, store.ActionAuthPasswordChangeFailed, u.ID, map[string]int{"failures": n}); err != nil {
			return err
		}
		if u.IsReserved() && s.Policy.AccountPasswordFailures > 0 && n >= s.Policy.AccountPasswordFailures {
			p := s.Policy.Lockout
			p.MaxFailures = 1
			st, err := tx.RecordSignInFailure(ctx, u.ID, s.Now(), p)
			if err != nil {
				return err
			}
			if err := tx.ClearAccountPasswordFailures(ctx, u.ID); err != nil {
				return err
			}
			if err := tx.DeleteUserSessions(ctx, u.ID); err != nil {
				return err
			}
			locked = true
			return s.audit(ctx, tx, src, store.ActionUserLock, u.ID, map[string]any{"locked_until": st.LockedUntil,
				"reason": "wrong current password on the account page"})
		}
		if !off {
			return nil
		}
		disabled = true
		if err := tx.DeleteUserSessions(ctx, u.ID); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, src, store.ActionUserDisable, u.ID, map[string]string{"reason": "wrong current password on the account page"}); err != nil {
			return err
		}
		return userUpdated(ctx, tx, u.ID)
	})
	switch {
	case err != nil:
		return err
	case locked:
		return ErrAccountLocked
	case disabled:
		return ErrAccountDisabled
	}
	return directory.FieldErrors{{Field: "current_password", Code: directory.CodeInvalid,
		Message: "The current password is wrong."}}
}

// SetTimezone changes the user's own time zone (A7), validated as in U1,
// with its audit record and a user.updated event.
func (s *Service) SetTimezone(ctx context.Context, u directory.User, tz string, src Source) (directory.User, error) {
	var out directory.User
	err := s.Store.InTx(ctx, func(tx store.Tx) error {
		cur, err := tx.GetUser(ctx, directory.Scope{}, u.ID)
		if err != nil {
			return err
		}
		cur.Timezone = tz
		directory.NormalizeUser(&cur)
		var errs directory.FieldErrors
		for _, fe := range directory.ValidateUser(cur) {
			if fe.Field == "timezone" {
				errs = append(errs, fe)
			}
		}
		if err := errs.Err(); err != nil {
			return err
		}
		if out, err = tx.UpdateUser(ctx, cur); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, src, store.ActionUserUpdate, u.ID, map[string]string{"timezone": out.Timezone}); err != nil {
			return err
		}
		return userUpdated(ctx, tx, u.ID)
	})
	return out, err
}

// HasPassword reports whether u has set a password (a user made by an
// upstream provider may have none).
func (s *Service) HasPassword(ctx context.Context, u directory.UserID) (bool, error) {
	_, err := s.Store.PasswordHash(ctx, u)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}
