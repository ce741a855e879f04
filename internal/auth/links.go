package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"opsiam/internal/directory"
	"opsiam/internal/provision"
	"opsiam/internal/store"
)

func (s *Service) linkTTL(purpose string) time.Duration {
	switch purpose {
	case store.LinkPasswordSetup:
		return s.Policy.SetupLinkTTL
	case store.LinkPasswordReset:
		return s.Policy.ResetLinkTTL
	}
	return s.Policy.VerifyLinkTTL
}

// IssueLink makes a single-use link token for u (A4) and stores only its
// hash; email is the address a verification link is for. eventID is the
// outbox event the mail belongs to: a redelivery replaces the earlier
// link. It returns the token to put into the mail.
func (s *Service) IssueLink(ctx context.Context, purpose string, u directory.UserID, email, eventID string) (token string, expires time.Time, err error) {
	token, hash, err := newToken()
	if err != nil {
		return "", time.Time{}, err
	}
	now := s.Now().UTC().Truncate(time.Microsecond)
	expires = now.Add(s.linkTTL(purpose))
	err = s.Store.CreateMailLink(ctx, store.MailLink{Hash: hash, Purpose: purpose, UserID: u, Email: email,
		EventID: eventID, CreatedAt: now, ExpiresAt: expires})
	return token, expires, err
}

// CheckLink returns the user a password link is for, without using it, so
// that the page can show whose password is being set.
func (s *Service) CheckLink(ctx context.Context, purpose, token string) (directory.User, error) {
	l, err := s.Store.GetMailLink(ctx, HashToken(token), purpose, s.Now())
	if errors.Is(err, store.ErrNotFound) {
		return directory.User{}, ErrInvalidLink
	}
	if err != nil {
		return directory.User{}, err
	}
	u, err := s.Store.GetUser(ctx, directory.Scope{}, l.UserID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !u.Enabled) {
		return directory.User{}, ErrInvalidLink
	}
	return u, err
}

// SetPasswordWithLink sets a password from a setup or reset link (A4). The
// password policy of §8 applies (errors name the field "password"; a
// mismatch names "confirm"). The link is used up in the same transaction
// that stores the new hash, so it works once only; until then the old
// password keeps working. Other password links of the user die with it,
// and a reset ends the user's sessions.
func (s *Service) SetPasswordWithLink(ctx context.Context, purpose, token, password, confirm string, src Source) (directory.User, error) {
	u, err := s.CheckLink(ctx, purpose, token)
	if err != nil {
		return u, err
	}
	if err := checkNewPassword(u, password, confirm); err != nil {
		return u, err
	}
	hash, err := s.hash(ctx, password)
	if err != nil {
		return u, err
	}
	err = s.Store.InTx(ctx, func(tx store.Tx) error {
		l, err := tx.ConsumeMailLink(ctx, HashToken(token), purpose, s.Now())
		if err != nil {
			return err
		}
		if l.UserID != u.ID {
			return store.ErrNotFound
		}
		if err := tx.SetPasswordHash(ctx, u.ID, hash); err != nil {
			return err
		}
		if err := tx.DeleteUserMailLinks(ctx, u.ID, store.LinkPasswordSetup, store.LinkPasswordReset); err != nil {
			return err
		}
		if purpose == store.LinkPasswordReset {
			if err := s.endOtherAccess(ctx, tx, u.ID, ""); err != nil {
				return err
			}
		}
		return s.audit(ctx, tx, Source{ActorID: u.ID, ActorName: u.Username, Address: src.Address}, store.ActionAuthPasswordSet, u.ID,
			map[string]string{"via": purpose})
	})
	if errors.Is(err, store.ErrNotFound) {
		return u, ErrInvalidLink
	}
	return u, err
}

// checkNewPassword applies the policy of §8 and the confirmation.
func checkNewPassword(u directory.User, password, confirm string) error {
	errs := directory.ValidatePassword(password, u.Username, u.Email)
	if password != confirm {
		errs = append(errs, directory.FieldError{Field: "confirm", Code: directory.CodeInvalid,
			Message: "The new password and its confirmation differ."})
	}
	return errs.Err()
}

// VerifyEmail uses a verification link (U9): if the user's mail address is
// still the one the link was sent to, it is marked verified, with its audit
// record and a user.updated event in the same transaction.
func (s *Service) VerifyEmail(ctx context.Context, token string, src Source) (directory.User, error) {
	var out directory.User
	err := s.Store.InTx(ctx, func(tx store.Tx) error {
		l, err := tx.ConsumeMailLink(ctx, HashToken(token), store.LinkVerifyEmail, s.Now())
		if err != nil {
			return err
		}
		u, err := tx.GetUser(ctx, directory.Scope{}, l.UserID)
		if err != nil {
			return err
		}
		if directory.Key(u.Email) != directory.Key(l.Email) {
			return store.ErrNotFound
		}
		if !u.EmailVerified {
			u.EmailVerified = true
			if u, err = tx.UpdateUser(ctx, u); err != nil {
				return err
			}
			if err := userUpdated(ctx, tx, u.ID); err != nil {
				return err
			}
		}
		out = u
		return s.audit(ctx, tx, Source{ActorID: u.ID, ActorName: u.Username, Address: src.Address}, store.ActionAuthEmailVerified, u.ID,
			map[string]string{"email": u.Email})
	})
	if errors.Is(err, store.ErrNotFound) {
		return out, ErrInvalidLink
	}
	return out, err
}

// userUpdated enqueues the user.updated event of provision.
func userUpdated(ctx context.Context, tx store.Tx, u directory.UserID) error {
	_, err := tx.Enqueue(ctx, store.Event{Topic: provision.TopicUserUpdated, Aggregate: "user:" + string(u),
		Payload: []byte(fmt.Sprintf(`{"user_id":%q}`, string(u)))})
	return err
}
