package store

import (
	"context"
	"time"

	"opsiam/internal/directory"
)

// LockoutPolicy is the rule of A3: MaxFailures failed sign-ins within
// Window lock password sign-in for Period (SPEC §8 defaults: 5, 15 min, 15 min).
type LockoutPolicy struct {
	MaxFailures int
	Window      time.Duration
	Period      time.Duration
}

// LockState is a user's lockout counter after a failure was counted.
type LockState struct {
	Failures    int
	LockedUntil time.Time // zero or in the past: not locked
	JustLocked  bool      // this failure locked the account
}

// SignInRecord is what a password sign-in needs, read in one round trip.
type SignInRecord struct {
	User         directory.User
	PasswordHash string // empty: no password set yet
	HasOTP       bool   // a confirmed TOTP secret exists
}

// SignInState keeps the counters of A3 and A7. Every method counts and
// compares in one atomic statement, so parallel attempts and several
// replicas cannot slip past a limit (a read-then-write counter could).
type SignInState interface {
	// LoadSignIn finds the user whose user name, or else whose mail
	// address, is login (ignoring case, A1), with its password hash and OTP
	// state, in one query. ErrNotFound when there is none.
	LoadSignIn(ctx context.Context, login string) (SignInRecord, error)
	// RecordSignInFailure counts one failed sign-in of u at now under p and
	// locks u when the count reaches p.MaxFailures within p.Window. While u
	// is locked the lock does not move. Unknown u: ErrNotFound.
	RecordSignInFailure(ctx context.Context, u directory.UserID, now time.Time, p LockoutPolicy) (LockState, error)
	// RecordSignIn clears the failure counter and sets the last login time,
	// but only while u is enabled and not locked at now; otherwise it
	// changes nothing and returns ErrNotFound.
	RecordSignIn(ctx context.Context, u directory.UserID, now time.Time) error
	// ClearLockout lifts a lock at once and clears the counter (A3).
	ClearLockout(ctx context.Context, u directory.UserID) error
	// RecordAccountPasswordFailure counts a wrong current password on the
	// account page (A7); at max (when max > 0) it disables u, bumping its
	// version. It returns the count and whether u is now disabled.
	RecordAccountPasswordFailure(ctx context.Context, u directory.UserID, max int) (failures int, disabled bool, err error)
	// ClearAccountPasswordFailures resets the A7 counter.
	ClearAccountPasswordFailures(ctx context.Context, u directory.UserID) error
}

// OTPState is a user's TOTP enrolment (A1). Secret is the confirmed
// secret (base32), Pending one being enrolled; LastStep is the last time
// step whose code was accepted, so no code is accepted twice.
type OTPState struct {
	Secret   string
	Pending  string
	LastStep int64
}

// OTPSecrets keeps TOTP secrets apart from user records.
type OTPSecrets interface {
	// OTP returns ErrNotFound for a user without any secret.
	OTP(ctx context.Context, u directory.UserID) (OTPState, error)
	// SetPendingOTP starts an enrolment, replacing an earlier pending secret;
	// a confirmed secret stays in force until ConfirmOTP.
	SetPendingOTP(ctx context.Context, u directory.UserID, secret string) error
	// ConfirmOTP makes the pending secret the secret, with step as its last
	// used step. ErrNotFound when nothing is pending.
	ConfirmOTP(ctx context.Context, u directory.UserID, step int64) error
	// UseOTPStep records that the code of step was used; ErrStale when a
	// code of that or a later step was used already (replay).
	UseOTPStep(ctx context.Context, u directory.UserID, step int64) error
	// DeleteOTP removes every secret of u (OTP reset).
	DeleteOTP(ctx context.Context, u directory.UserID) error
}

// Session stages: a session is "full" only after every sign-in step.
const (
	StageOTP   = "otp"   // password accepted, waiting for a one-time code
	StageEnrol = "enrol" // password accepted, OTP required but not set up
	StageFull  = "full"  // signed in
)

// Sign-in methods of a session (Session.Method).
const (
	MethodPassword = ""    // a password, with or without a one-time code
	MethodPasskey  = "hwk" // a passkey (WebAuthn)
	MethodUpstream = "fed" // the customer's own identity provider
)

// Session is a server-side session (A5). Only the SHA-256 hash of the
// session id the browser holds is stored.
type Session struct {
	IDHash     string
	UserID     directory.UserID
	Stage      string
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time // absolute end
	// MFA tells that the sign-in was multi-factor: a one-time code besides
	// the password, or a passkey (which is a possession and a user check).
	MFA bool
	// Method is how the session signed in: MethodPassword, MethodPasskey or
	// MethodUpstream.
	Method string
	// SID is the session's sid claim (auth.SID of IDHash).
	SID string
}

// Sessions keeps sessions. A disabled or deleted user's sessions are never
// returned (U7).
type Sessions interface {
	CreateSession(ctx context.Context, s Session) error
	// GetSession returns the session if its user exists and is enabled.
	GetSession(ctx context.Context, idHash string) (Session, error)
	TouchSession(ctx context.Context, idHash string, at time.Time) error
	DeleteSession(ctx context.Context, idHash string) error
	DeleteUserSessions(ctx context.Context, u directory.UserID) error
	// UserSessions returns every session of u, oldest first.
	UserSessions(ctx context.Context, u directory.UserID) ([]Session, error)
	// SessionBySID returns the session whose sid is sid, if its user exists
	// and is enabled; ErrNotFound otherwise.
	SessionBySID(ctx context.Context, sid string) (Session, error)
	// DeleteExpiredSessions removes sessions whose absolute end or idle
	// limit has passed at now.
	DeleteExpiredSessions(ctx context.Context, now time.Time, idle time.Duration) (int, error)
}

// Mail link purposes (A4, U9).
const (
	LinkPasswordSetup = "password_setup"
	LinkPasswordReset = "password_reset"
	LinkVerifyEmail   = "verify_email"
)

// MailLink is a single-use link sent by mail. Only the SHA-256 hash of its
// token is stored.
type MailLink struct {
	Hash      string
	Purpose   string
	UserID    directory.UserID
	Email     string // the address being verified (LinkVerifyEmail)
	EventID   string // the outbox event that made it; a redelivery replaces it
	CreatedAt time.Time
	ExpiresAt time.Time
}

// MailLinks keeps mail links.
type MailLinks interface {
	// CreateMailLink stores l, first removing a link made for the same
	// non-empty EventID (the outbox may deliver an event twice).
	CreateMailLink(ctx context.Context, l MailLink) error
	// GetMailLink finds an unexpired link without using it.
	GetMailLink(ctx context.Context, hash, purpose string, now time.Time) (MailLink, error)
	// ConsumeMailLink deletes and returns an unexpired link in one
	// statement: of two parallel uses only one succeeds. ErrNotFound when
	// the link is unknown, used or expired.
	ConsumeMailLink(ctx context.Context, hash, purpose string, now time.Time) (MailLink, error)
	// DeleteUserMailLinks removes u's links of the given purposes.
	DeleteUserMailLinks(ctx context.Context, u directory.UserID, purposes ...string) error
}
