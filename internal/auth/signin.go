package auth

import (
	"context"
	"errors"

	"opsiam/internal/directory"
	"opsiam/internal/store"
)

// SignIn checks a user name or mail address and a password (A1) and opens
// a session with a new id: full when no code is needed, otherwise waiting
// for a code (store.StageOTP) or for OTP enrolment (store.StageEnrol).
// Unknown users, wrong passwords, locked and disabled accounts all cost
// one argon2id verification and all return ErrInvalidCredentials (A3).
// A lock stops password sign-in only.
func (s *Service) SignIn(ctx context.Context, login, password string, src Source) (token string, sess store.Session, err error) {
	// Refused at once when the hashes are saturated (issue 15): the same
	// for every user name, before the database is asked.
	if s.hashes.full() {
		return "", sess, ErrBusy
	}
	// One query finds the user (or nobody) with its hash and OTP state, so
	// an unknown user costs the same statements as a known one.
	rec, err := s.Store.LoadSignIn(ctx, login)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return "", sess, err
	}
	u := rec.User
	hash := rec.PasswordHash
	if hash == "" { // unknown user, or no password set yet
		hash = s.dummy()
	}
	ok, rehash, err := s.verify(ctx, hash, password)
	if err != nil {
		return "", sess, err
	}
	if hash == s.dummy() {
		ok = false
	}
	if !ok || !u.Enabled || u.Locked {
		return "", sess, s.failed(ctx, u, src, "password")
	}
	if s.PasswordAllowed != nil {
		allowed, err := s.PasswordAllowed(ctx, u)
		if err != nil {
			return "", sess, err
		}
		if !allowed {
			return "", sess, s.failed(ctx, u, src, "password_not_allowed")
		}
	}
	if rehash {
		if h, err := s.hash(ctx, password); err == nil {
			if err := s.Store.SetPasswordHash(ctx, u.ID, h); err != nil {
				return "", sess, err
			}
		}
	}
	switch {
	case rec.HasOTP:
		return s.startSession(ctx, u.ID, store.StageOTP)
	case u.OTPRequired:
		return s.startSession(ctx, u.ID, store.StageEnrol)
	}
	return s.finish(ctx, u, "", store.MethodPassword, src)
}

// SignInVerified completes a sign-in whose user was proven by other means
// than a password: a passkey (store.MethodPasskey, which is multi-factor
// and so satisfies "one-time code required") or the customer's own
// identity provider (store.MethodUpstream). Like every sign-in it is
// refused for a disabled, deleted or locked user (ErrInvalidCredentials),
// clears the failure counter, and is audited, with the method.
func (s *Service) SignInVerified(ctx context.Context, u directory.User, method string, src Source) (string, store.Session, error) {
	if method != store.MethodPasskey && method != store.MethodUpstream {
		return "", store.Session{}, errors.New("auth: unknown sign-in method " + method)
	}
	// A passkey is a local sign-in: where the customer's provider is
	// mandatory (PasswordAllowed refuses), it is refused like a password.
	if method == store.MethodPasskey && s.PasswordAllowed != nil {
		allowed, err := s.PasswordAllowed(ctx, u)
		if err != nil {
			return "", store.Session{}, err
		}
		if !allowed {
			return "", store.Session{}, s.failed(ctx, u, src, "passkey_not_allowed")
		}
	}
	return s.finish(ctx, u, "", method, src)
}

// failed counts a failure (A3) and records it in the audit log, then
// returns ErrInvalidCredentials. For an unknown user the counting
// statement finds no row, and the audit record is written all the same.
func (s *Service) failed(ctx context.Context, u directory.User, src Source, step string) error {
	err := s.Store.InTx(ctx, func(tx store.Tx) error {
		st, err := tx.RecordSignInFailure(ctx, u.ID, s.Now(), s.Policy.Lockout)
		if u.ID == "" && errors.Is(err, store.ErrNotFound) {
			return s.audit(ctx, tx, src, store.ActionAuthSignInFailed, "", map[string]string{"step": step})
		}
		if err != nil {
			return err
		}
		if err := s.audit(ctx, tx, src, store.ActionAuthSignInFailed, u.ID, map[string]any{"step": step, "failures": st.Failures}); err != nil {
			return err
		}
		if st.JustLocked {
			return s.audit(ctx, tx, src, store.ActionUserLock, u.ID, map[string]any{"locked_until": st.LockedUntil})
		}
		return nil
	})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return ErrInvalidCredentials
}

// finish completes a sign-in: it clears the failure counter (refused if
// the user was locked or disabled meanwhile), ends the pending session and
// opens a full one with a new id. A pending session means a one-time code
// was entered (or enrolled) after the password: the new session is MFA,
// as is a passkey's.
func (s *Service) finish(ctx context.Context, u directory.User, pendingHash, method string, src Source) (string, store.Session, error) {
	var token string
	var sess store.Session
	err := s.Store.InTx(ctx, func(tx store.Tx) error {
		if err := tx.RecordSignIn(ctx, u.ID, s.Now()); err != nil {
			return err
		}
		if pendingHash != "" {
			if err := tx.DeleteSession(ctx, pendingHash); err != nil {
				return err
			}
		}
		var err error
		mfa := pendingHash != "" || method == store.MethodPasskey
		if token, sess, err = s.startSessionIn(ctx, tx, u.ID, store.StageFull, mfa, method); err != nil {
			return err
		}
		var detail any
		if method != store.MethodPassword {
			detail = map[string]string{"method": method}
		}
		return s.audit(ctx, tx, Source{ActorID: u.ID, ActorName: u.Username, Address: src.Address}, store.ActionAuthSignIn, u.ID, detail)
	})
	if errors.Is(err, store.ErrNotFound) {
		return "", store.Session{}, ErrInvalidCredentials
	}
	if err != nil {
		return "", store.Session{}, err
	}
	return token, sess, nil
}

// Unlock lifts a lock at once (A3, the admin unlock endpoint), with its
// audit record.
func (s *Service) Unlock(ctx context.Context, u directory.UserID, src Source) error {
	return s.Store.InTx(ctx, func(tx store.Tx) error {
		if err := tx.ClearLockout(ctx, u); err != nil {
			return err
		}
		return s.audit(ctx, tx, src, store.ActionUserUnlock, u, nil)
	})
}
