package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"opsiam/internal/directory"
	"opsiam/internal/store"
)

// Errors of the sign-in service. Every way a sign-in can fail (unknown
// user, wrong password, wrong code, locked, disabled, no password yet) is
// ErrInvalidCredentials, so no answer tells them apart (A1, A3).
var (
	ErrInvalidCredentials = errors.New("auth: invalid credentials")
	// ErrNoSession: the session is unknown, expired, at the wrong stage, or
	// its user is disabled or deleted (A5, U7).
	ErrNoSession = errors.New("auth: no valid session")
	// ErrInvalidLink: a mail link is unknown, used, expired or no longer
	// applies (A4).
	ErrInvalidLink = errors.New("auth: invalid or expired link")
	// ErrAccountDisabled: the account page disabled the account after
	// repeated wrong current passwords (A7).
	ErrAccountDisabled = errors.New("auth: account disabled")
	// ErrAccountLocked: the same for the reserved admin, which is locked
	// for the lockout period instead of disabled.
	ErrAccountLocked = errors.New("auth: account locked")
)

// Policy holds the configurable limits of sign-in (SPEC §8 defaults).
type Policy struct {
	Lockout store.LockoutPolicy // A3
	// SessionIdle ends a session unused this long; SessionMax ends any
	// session this long after sign-in (A5).
	SessionIdle time.Duration
	SessionMax  time.Duration
	// PendingMax bounds a half-done sign-in (waiting for a code).
	PendingMax time.Duration
	// AccountPasswordFailures disables an account after this many wrong
	// current passwords on the account page (A7); 0 switches it off.
	AccountPasswordFailures int
	SetupLinkTTL            time.Duration
	ResetLinkTTL            time.Duration
	VerifyLinkTTL           time.Duration
	// OTPIssuer names the platform in authenticator apps.
	OTPIssuer string
}

// DefaultPolicy returns the defaults of SPEC §8 and A7.
func DefaultPolicy() Policy {
	return Policy{
		Lockout:                 store.LockoutPolicy{MaxFailures: 5, Window: 15 * time.Minute, Period: 15 * time.Minute},
		SessionIdle:             30 * time.Minute,
		SessionMax:              10 * time.Hour,
		PendingMax:              10 * time.Minute,
		AccountPasswordFailures: 2,
		SetupLinkTTL:            7 * 24 * time.Hour,
		ResetLinkTTL:            time.Hour,
		VerifyLinkTTL:           3 * 24 * time.Hour,
		OTPIssuer:               "opsiam",
	}
}

// Service signs people in and keeps their sessions, codes, links and
// account changes. Build it with New.
type Service struct {
	Store  store.Store
	Hasher Hasher
	Policy Policy
	Now    func() time.Time
	// SecretKey, when set, encrypts TOTP secrets at rest (AES-256-GCM).
	// Every replica needs the same key; secrets stored before a key was set
	// keep working and are sealed at their next enrolment.
	SecretKey *[32]byte
	// EndSessions, when set, runs in the transaction of a password change
	// or reset and ends the user's application sessions and tokens (the
	// OpenID Connect provider's EndUserSessions, issue 13 rule 3).
	EndSessions func(ctx context.Context, tx store.Tx, u directory.UserID) error
	// PasswordAllowed, when set, may refuse a right password: a user whom
	// a mandatory identity provider signs in (issue 18) gets the one
	// failure answer. Nil allows every password.
	PasswordAllowed func(ctx context.Context, u directory.User) (bool, error)
	// dummyHash is verified for unknown users, so that they cost the same
	// work (Hasher.Unmatchable: made without an argon2id run, so that
	// start-up neither waits for a hash nor keeps its 19 MiB, issue 15).
	dummyOnce sync.Once
	dummyHash string
	hashes    hashLimit // argon2id hashes at once: the number of cores
}

// New returns a Service.
func New(st store.Store, h Hasher, p Policy, now func() time.Time) (*Service, error) {
	if now == nil {
		now = time.Now
	}
	return &Service{Store: st, Hasher: h, Policy: p, Now: now}, nil
}

// dummy returns the hash that unknown users are verified against, made on
// first use.
func (s *Service) dummy() string {
	s.dummyOnce.Do(func() {
		var err error
		if s.dummyHash, err = s.Hasher.Unmatchable(); err != nil {
			panic(err) // crypto/rand does not fail on supported platforms
		}
	})
	return s.dummyHash
}

// Source says who acts and from where, for the audit log (O1).
type Source struct {
	ActorID   directory.UserID
	ActorName string
	Address   string
}

// The actor is always set (issue 13): what a user's own browser does
// (signing in and out, failing to) is recorded with that user as the
// actor unless src names another.
func (s *Service) audit(ctx context.Context, tx store.Tx, src Source, action string, target directory.UserID, after any) error {
	if src.ActorID == "" && target != "" {
		src.ActorID = target
		if u, err := tx.GetUser(ctx, directory.Scope{}, target); err == nil {
			src.ActorName = u.Username
		}
	}
	rec := store.AuditRecord{At: s.Now(), ActorID: string(src.ActorID), ActorName: src.ActorName, Action: action,
		TargetType: "user", TargetID: string(target), Source: src.Address}
	if after != nil {
		b, err := json.Marshal(after)
		if err != nil {
			return err
		}
		rec.After = b
	}
	return tx.AppendAudit(ctx, rec)
}

// newToken returns a random 256-bit token for a browser or a mail link,
// and the SHA-256 hash under which it is stored.
func newToken() (token, hash string, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", "", err
	}
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, HashToken(token), nil
}

// HashToken is the stored form of a session id or link token.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
