package manage

import (
	"context"
	"time"

	"opsiam/internal/auth"
	"opsiam/internal/directory"
	"opsiam/internal/store"
)

// TokenInfo describes a user's platform token without its text (A6).
type TokenInfo struct {
	UserID    directory.UserID
	CreatedAt time.Time
	ExpiresAt time.Time // zero: no expiry
}

// IssueToken issues a new platform token for a user, replacing any
// previous one (A6: at most one per user). The text is returned once and
// stored only as a hash. A zero expires means no expiry.
func (s *Service) IssueToken(ctx context.Context, a Caller, uid directory.UserID, expires time.Time) (string, TokenInfo, error) {
	now := s.now()
	if !expires.IsZero() && !expires.After(now) {
		return "", TokenInfo{}, fieldError("expires_at", directory.CodeInvalid, "expires_at must lie in the future.")
	}
	text, hash, err := auth.NewPlatformToken()
	if err != nil {
		return "", TokenInfo{}, err
	}
	info := TokenInfo{UserID: uid, CreatedAt: now.Truncate(time.Microsecond), ExpiresAt: expires.UTC().Truncate(time.Microsecond)}
	err = s.Store.InTx(ctx, func(tx store.Tx) error {
		if !a.Holder().Can(directory.PermTokenAdmin) {
			return &directory.Refusal{Message: "Issuing platform tokens needs token_admin."}
		}
		if _, err := tx.GetUser(ctx, directory.Scope{}, uid); err != nil {
			return err
		}
		// A token acts as its user: the caller must hold whatever the user
		// holds (issue 13, rule 1: no escalation through admin's token).
		g, err := Load(ctx, tx)
		if err != nil {
			return err
		}
		grants, err := tx.UserGrants(ctx, uid)
		if err != nil {
			return err
		}
		if err := directory.MayActAs(a.Holder(), g.Effective(grants), "A platform token for this user"); err != nil {
			return err
		}
		if err := tx.PutPlatformToken(ctx, store.PlatformToken{UserID: uid, Hash: hash, CreatedAt: info.CreatedAt,
			ExpiresAt: info.ExpiresAt, IssuedBy: string(a.ID)}); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, store.ActionTokenIssue, "user", string(uid), nil,
			map[string]any{"created_at": info.CreatedAt, "expires_at": info.ExpiresAt})
	})
	if err != nil {
		return "", TokenInfo{}, err
	}
	return text, info, nil
}

// RevokeToken deletes a user's platform token; it stops working at once.
func (s *Service) RevokeToken(ctx context.Context, a Caller, uid directory.UserID) error {
	if err := a.may(directory.PermTokenAdmin); err != nil {
		return err
	}
	return s.Store.InTx(ctx, func(tx store.Tx) error {
		if _, err := tx.GetUser(ctx, directory.Scope{}, uid); err != nil {
			return err
		}
		if err := tx.DeletePlatformToken(ctx, uid); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, store.ActionTokenRevoke, "user", string(uid), nil, nil)
	})
}

// Token returns the issue time and expiry of a user's token (A6).
func (s *Service) Token(ctx context.Context, uid directory.UserID) (TokenInfo, error) {
	t, err := s.Store.PlatformToken(ctx, uid)
	if err != nil {
		return TokenInfo{}, err
	}
	return TokenInfo{UserID: t.UserID, CreatedAt: t.CreatedAt, ExpiresAt: t.ExpiresAt}, nil
}
