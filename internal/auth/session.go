package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"time"

	"opsiam/internal/directory"
	"opsiam/internal/store"
)

// touchEvery limits writes: a session's last use is stored at most once a
// minute, which is precise enough for a 30-minute idle limit.
const touchEvery = time.Minute

// startSession opens a session with a new random id (A5) and returns the
// id for the cookie; only its hash is stored.
func (s *Service) startSession(ctx context.Context, u directory.UserID, stage string) (string, store.Session, error) {
	return s.startSessionIn(ctx, s.Store, u, stage, false, store.MethodPassword)
}

// startSessionIn is startSession inside the transaction tx; mfa records
// that the sign-in was multi-factor and method how it was made (the amr
// claim).
func (s *Service) startSessionIn(ctx context.Context, tx store.Tx, u directory.UserID, stage string, mfa bool, method string) (string, store.Session, error) {
	token, hash, err := newToken()
	if err != nil {
		return "", store.Session{}, err
	}
	now := s.Now().UTC().Truncate(time.Microsecond)
	max := s.Policy.SessionMax
	if stage != store.StageFull {
		max = s.Policy.PendingMax
	}
	sess := store.Session{IDHash: hash, UserID: u, Stage: stage, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(max), MFA: mfa,
		SID: SID(hash), Method: method}
	if err := tx.CreateSession(ctx, sess); err != nil {
		return "", store.Session{}, err
	}
	return token, sess, nil
}

// Session returns the live session of token. It checks on every use that
// the user is still enabled and present (U7), and the idle and absolute
// limits (A5); an expired session is deleted. ErrNoSession otherwise.
func (s *Service) Session(ctx context.Context, token string) (store.Session, error) {
	if token == "" {
		return store.Session{}, ErrNoSession
	}
	return s.sessionByHash(ctx, HashToken(token))
}

// sessionByHash is Session for the stored hash of the token.
func (s *Service) sessionByHash(ctx context.Context, hash string) (store.Session, error) {
	sess, err := s.Store.GetSession(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return sess, ErrNoSession
	}
	if err != nil {
		return sess, err
	}
	return s.live(ctx, sess)
}

// live checks a stored session's idle and absolute limits (A5), deleting
// an expired one (ErrNoSession), and records its use at most once a minute.
func (s *Service) live(ctx context.Context, sess store.Session) (store.Session, error) {
	hash := sess.IDHash
	now := s.Now()
	idle := s.Policy.SessionIdle
	if sess.Stage != store.StageFull {
		idle = s.Policy.PendingMax
	}
	if !now.Before(sess.ExpiresAt) || !now.Before(sess.LastSeenAt.Add(idle)) {
		_ = s.Store.DeleteSession(ctx, hash)
		return store.Session{}, ErrNoSession
	}
	if now.Sub(sess.LastSeenAt) >= touchEvery {
		if err := s.Store.TouchSession(ctx, hash, now); err != nil && !errors.Is(err, store.ErrNotFound) {
			return sess, err
		}
		sess.LastSeenAt = now
	}
	return sess, nil
}

// SignedIn returns the user of a full session.
func (s *Service) SignedIn(ctx context.Context, token string) (directory.User, store.Session, error) {
	sess, err := s.Session(ctx, token)
	if err != nil {
		return directory.User{}, sess, err
	}
	if sess.Stage != store.StageFull {
		return directory.User{}, sess, ErrNoSession
	}
	u, err := s.Store.GetUser(ctx, directory.Scope{}, sess.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return u, sess, ErrNoSession
	}
	return u, sess, err
}

// SignOut ends the session of token (A5), with an audit record.
func (s *Service) SignOut(ctx context.Context, token string, src Source) error {
	sess, err := s.Session(ctx, token)
	if errors.Is(err, ErrNoSession) {
		return nil
	}
	if err != nil {
		return err
	}
	return s.end(ctx, sess, src)
}

// SID is the sid claim of the session stored under idHash (OpenID
// Connect's session id): a hash of the hash, so it reveals nothing of the
// cookie, and stored with the session so that a refresh finds it at once.
func SID(idHash string) string {
	if idHash == "" {
		return ""
	}
	sum := sha256.Sum256([]byte("opsiam sid\x00" + idHash))
	return hex.EncodeToString(sum[:])[:32]
}

// SessionOfSID returns the live, fully signed-in session of user whose
// sid is sid, and counts the look-up as use; ErrNoSession when there is
// none. Sessions from before sids were stored are found by FindSession.
func (s *Service) SessionOfSID(ctx context.Context, user directory.UserID, sid string) (store.Session, error) {
	sess, err := s.Store.SessionBySID(ctx, sid)
	if errors.Is(err, store.ErrNotFound) {
		return s.FindSession(ctx, user, func(idHash string) bool { return SID(idHash) == sid })
	}
	if err != nil {
		return store.Session{}, err
	}
	if sess.UserID != user || sess.Stage != store.StageFull {
		return store.Session{}, ErrNoSession
	}
	return s.live(ctx, sess)
}

// FindSession returns the live, fully signed-in session of user that
// match picks (by its stored hash, such as the sid the provider derives
// from it), and counts the look-up as use. ErrNoSession when none.
func (s *Service) FindSession(ctx context.Context, user directory.UserID, match func(idHash string) bool) (store.Session, error) {
	all, err := s.Store.UserSessions(ctx, user)
	if err != nil {
		return store.Session{}, err
	}
	for _, c := range all {
		if c.Stage != store.StageFull || !match(c.IDHash) {
			continue
		}
		return s.sessionByHash(ctx, c.IDHash)
	}
	return store.Session{}, ErrNoSession
}

// EndSession ends a session found with FindSession, with an audit record
// (an application's backend logout).
func (s *Service) EndSession(ctx context.Context, sess store.Session, src Source) error {
	return s.end(ctx, sess, src)
}

func (s *Service) end(ctx context.Context, sess store.Session, src Source) error {
	return s.Store.InTx(ctx, func(tx store.Tx) error {
		if err := tx.DeleteSession(ctx, sess.IDHash); err != nil {
			return err
		}
		if sess.Stage != store.StageFull {
			return nil
		}
		return s.audit(ctx, tx, src, store.ActionAuthSignOut, sess.UserID, nil)
	})
}

// PurgeSessions deletes expired sessions; the server calls it now and then.
// Expired passkey ceremonies go with them.
func (s *Service) PurgeSessions(ctx context.Context) (int, error) {
	if _, err := s.Store.DeleteExpiredPasskeyCeremonies(ctx, s.Now()); err != nil {
		return 0, err
	}
	return s.Store.DeleteExpiredSessions(ctx, s.Now(), s.Policy.SessionIdle)
}
