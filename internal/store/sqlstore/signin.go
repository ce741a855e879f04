package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"time"

	"opsiam/internal/directory"
	"opsiam/internal/store"
)

// LoadSignIn reads user, hash and OTP state in one statement; a user-name
// match wins over another user's mail address.
func (q *queries) LoadSignIn(ctx context.Context, login string) (store.SignInRecord, error) {
	var rec store.SignInRecord
	var hash, secret sql.NullString
	row := q.rd.QueryRowContext(ctx, `SELECT `+userCols+`, p.hash, o.secret FROM users u
 LEFT JOIN user_passwords p ON p.user_id = u.id LEFT JOIN user_otp o ON o.user_id = u.id
 WHERE u.username_key = $1 OR u.email_key = $1
 ORDER BY CASE WHEN u.username_key = $1 THEN 0 ELSE 1 END LIMIT 1`, directory.Key(login))
	now := q.stamp()
	u, err := scanUser(scanTail{row, []any{&hash, &secret}}, now)
	if err != nil {
		return rec, err
	}
	rec.User, rec.PasswordHash, rec.HasOTP = u, hash.String, secret.String != ""
	return rec, nil
}

// scanTail scans a row whose leading columns are a user's and whose last
// columns go to tail.
type scanTail struct {
	row  interface{ Scan(...any) error }
	tail []any
}

func (s scanTail) Scan(dest ...any) error { return s.row.Scan(append(dest, s.tail...)...) }

// RecordSignInFailure counts and compares in one UPDATE (A3). Every
// right-hand side reads the row as it was before the statement, and the
// row lock taken by the UPDATE serialises parallel attempts, on one
// replica or many. While locked only the counter moves on (so exactly one
// failure sees the count reach the limit: the one that locked); the
// failure that locks starts the next window afresh.
func (q *queries) RecordSignInFailure(ctx context.Context, u directory.UserID, now time.Time, p store.LockoutPolicy) (store.LockState, error) {
	n := toMicros(now)
	cutoff := toMicros(now.Add(-p.Window))
	until := toMicros(now.Add(p.Period))
	const count = `(CASE WHEN failure_window_start <= $2 THEN 1 ELSE login_failures + 1 END)`
	var st store.LockState
	var lockedUntil int64
	err := q.wr.QueryRowContext(ctx, `UPDATE users SET
 login_failures = CASE WHEN locked_until > $1 THEN login_failures + 1 ELSE `+count+` END,
 failure_window_start = CASE WHEN locked_until > $1 THEN failure_window_start
   WHEN `+count+` >= $3 THEN 0
   WHEN failure_window_start <= $2 THEN $1 ELSE failure_window_start END,
 locked_until = CASE WHEN locked_until > $1 THEN locked_until
   WHEN `+count+` >= $3 THEN $4 ELSE locked_until END
 WHERE id = $5 RETURNING login_failures, locked_until`,
		n, cutoff, p.MaxFailures, until, string(u)).Scan(&st.Failures, &lockedUntil)
	if err != nil {
		return st, notFound(q.d.translate(err))
	}
	if lockedUntil > n {
		st.LockedUntil = fromMicros(lockedUntil)
		st.JustLocked = st.Failures == p.MaxFailures
	}
	return st, nil
}

func (q *queries) RecordSignIn(ctx context.Context, u directory.UserID, now time.Time) error {
	return q.execOne(ctx, `UPDATE users SET login_failures = 0, failure_window_start = 0, last_login_at = $1
 WHERE id = $2 AND enabled = $3 AND locked_until <= $1`, toMicros(now), string(u), true)
}

func (q *queries) ClearLockout(ctx context.Context, u directory.UserID) error {
	return q.execOne(ctx, `UPDATE users SET locked_until = 0, login_failures = 0, failure_window_start = 0 WHERE id = $1`, string(u))
}

func (q *queries) RecordAccountPasswordFailure(ctx context.Context, u directory.UserID, max int) (int, bool, error) {
	if max <= 0 {
		max = 1 << 30
	}
	var n int
	var enabled bool
	err := q.wr.QueryRowContext(ctx, `UPDATE users SET
 account_password_failures = account_password_failures + 1,
 enabled = CASE WHEN account_password_failures + 1 >= $1 THEN $2 ELSE enabled END,
 version = version + CASE WHEN account_password_failures + 1 >= $1 AND enabled = $3 THEN 1 ELSE 0 END,
 updated_at = CASE WHEN account_password_failures + 1 >= $1 AND enabled = $3 THEN $4 ELSE updated_at END
 WHERE id = $5 RETURNING account_password_failures, enabled`,
		max, false, true, q.stamp(), string(u)).Scan(&n, &enabled)
	if err != nil {
		return 0, false, notFound(q.d.translate(err))
	}
	return n, !enabled, nil
}

func (q *queries) ClearAccountPasswordFailures(ctx context.Context, u directory.UserID) error {
	return q.execOne(ctx, `UPDATE users SET account_password_failures = 0 WHERE id = $1`, string(u))
}

func (q *queries) OTP(ctx context.Context, u directory.UserID) (store.OTPState, error) {
	var s store.OTPState
	err := q.rd.QueryRowContext(ctx, `SELECT secret, pending, last_step FROM user_otp WHERE user_id = $1`, string(u)).
		Scan(&s.Secret, &s.Pending, &s.LastStep)
	return s, notFound(err)
}

func (q *queries) SetPendingOTP(ctx context.Context, u directory.UserID, secret string) error {
	_, err := q.exec(ctx, `INSERT INTO user_otp (user_id, pending, updated_at) VALUES ($1, $2, $3)
 ON CONFLICT (user_id) DO UPDATE SET pending = excluded.pending, updated_at = excluded.updated_at`,
		string(u), secret, q.stamp())
	return err
}

func (q *queries) ConfirmOTP(ctx context.Context, u directory.UserID, step int64) error {
	return q.execOne(ctx, `UPDATE user_otp SET secret = pending, pending = '', last_step = $1, updated_at = $2
 WHERE user_id = $3 AND pending <> ''`, step, q.stamp(), string(u))
}

func (q *queries) UseOTPStep(ctx context.Context, u directory.UserID, step int64) error {
	err := q.execOne(ctx, `UPDATE user_otp SET last_step = $1 WHERE user_id = $2 AND secret <> '' AND last_step < $1`, step, string(u))
	if errors.Is(err, store.ErrNotFound) {
		if _, e := q.OTP(ctx, u); e == nil {
			return store.ErrStale
		}
	}
	return err
}

func (q *queries) DeleteOTP(ctx context.Context, u directory.UserID) error {
	_, err := q.exec(ctx, `DELETE FROM user_otp WHERE user_id = $1`, string(u))
	return err
}

func (q *queries) CreateSession(ctx context.Context, s store.Session) error {
	_, err := q.exec(ctx, `INSERT INTO sessions (id_hash, user_id, stage, created_at, last_seen_at, expires_at, mfa, sid, method)
 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, s.IDHash, string(s.UserID), s.Stage, toMicros(s.CreatedAt),
		toMicros(s.LastSeenAt), toMicros(s.ExpiresAt), s.MFA, s.SID, s.Method)
	return err
}

const sessionCols = `SELECT s.id_hash, s.user_id, s.stage, s.created_at, s.last_seen_at, s.expires_at, s.mfa, s.sid, s.method FROM sessions s`

type rowScanner interface{ Scan(dest ...any) error }

func scanSession(row rowScanner) (store.Session, error) {
	var s store.Session
	var created, seen, expires int64
	err := row.Scan(&s.IDHash, &s.UserID, &s.Stage, &created, &seen, &expires, &s.MFA, &s.SID, &s.Method)
	s.CreatedAt, s.LastSeenAt, s.ExpiresAt = fromMicros(created), fromMicros(seen), fromMicros(expires)
	return s, err
}

func (q *queries) GetSession(ctx context.Context, idHash string) (store.Session, error) {
	s, err := scanSession(q.rd.QueryRowContext(ctx, sessionCols+`
 JOIN users u ON u.id = s.user_id WHERE s.id_hash = $1 AND u.enabled = $2`, idHash, true))
	if err != nil {
		return store.Session{IDHash: idHash}, notFound(err)
	}
	return s, nil
}

func (q *queries) SessionBySID(ctx context.Context, sid string) (store.Session, error) {
	if sid == "" {
		return store.Session{}, store.ErrNotFound
	}
	s, err := scanSession(q.rd.QueryRowContext(ctx, sessionCols+`
 JOIN users u ON u.id = s.user_id WHERE s.sid = $1 AND u.enabled = $2`, sid, true))
	if err != nil {
		return store.Session{}, notFound(err)
	}
	return s, nil
}

func (q *queries) UserSessions(ctx context.Context, u directory.UserID) ([]store.Session, error) {
	rows, err := q.rd.QueryContext(ctx, sessionCols+` WHERE s.user_id = $1 ORDER BY s.created_at, s.id_hash`, string(u))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Session
	for rows.Next() {
		s, err := scanSession(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

func (q *queries) TouchSession(ctx context.Context, idHash string, at time.Time) error {
	return q.execOne(ctx, `UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2`, toMicros(at), idHash)
}

func (q *queries) DeleteSession(ctx context.Context, idHash string) error {
	_, err := q.exec(ctx, `DELETE FROM sessions WHERE id_hash = $1`, idHash)
	return err
}

func (q *queries) DeleteUserSessions(ctx context.Context, u directory.UserID) error {
	_, err := q.exec(ctx, `DELETE FROM sessions WHERE user_id = $1`, string(u))
	return err
}

func (q *queries) DeleteExpiredSessions(ctx context.Context, now time.Time, idle time.Duration) (int, error) {
	res, err := q.exec(ctx, `DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2`,
		toMicros(now), toMicros(now.Add(-idle)))
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

func (q *queries) CreateMailLink(ctx context.Context, l store.MailLink) error {
	return q.inTx(ctx, func(q *queries) error {
		if l.EventID != "" {
			if _, err := q.exec(ctx, `DELETE FROM mail_links WHERE event_id = $1`, l.EventID); err != nil {
				return err
			}
		}
		_, err := q.exec(ctx, `INSERT INTO mail_links (hash, purpose, user_id, email, event_id, created_at, expires_at)
 VALUES ($1, $2, $3, $4, $5, $6, $7)`, l.Hash, l.Purpose, string(l.UserID), l.Email, l.EventID,
			toMicros(l.CreatedAt), toMicros(l.ExpiresAt))
		return err
	})
}

const mailLinkCols = `hash, purpose, user_id, email, event_id, created_at, expires_at`

func scanMailLink(r interface{ Scan(...any) error }) (store.MailLink, error) {
	var l store.MailLink
	var created, expires int64
	err := r.Scan(&l.Hash, &l.Purpose, &l.UserID, &l.Email, &l.EventID, &created, &expires)
	l.CreatedAt, l.ExpiresAt = fromMicros(created), fromMicros(expires)
	return l, notFound(err)
}

func (q *queries) GetMailLink(ctx context.Context, hash, purpose string, now time.Time) (store.MailLink, error) {
	return scanMailLink(q.rd.QueryRowContext(ctx, `SELECT `+mailLinkCols+` FROM mail_links
 WHERE hash = $1 AND purpose = $2 AND expires_at > $3`, hash, purpose, toMicros(now)))
}

func (q *queries) ConsumeMailLink(ctx context.Context, hash, purpose string, now time.Time) (store.MailLink, error) {
	return scanMailLink(q.wr.QueryRowContext(ctx, `DELETE FROM mail_links
 WHERE hash = $1 AND purpose = $2 AND expires_at > $3 RETURNING `+mailLinkCols, hash, purpose, toMicros(now)))
}

func (q *queries) DeleteUserMailLinks(ctx context.Context, u directory.UserID, purposes ...string) error {
	if len(purposes) == 0 {
		return nil
	}
	args := []any{string(u)}
	ph := make([]string, len(purposes))
	for i, p := range purposes {
		args = append(args, p)
		ph[i] = "$" + strconv.Itoa(i+2)
	}
	_, err := q.exec(ctx, `DELETE FROM mail_links WHERE user_id = $1 AND purpose IN (`+strings.Join(ph, ", ")+`)`, args...)
	return err
}
