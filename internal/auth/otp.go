package auth

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"image/png"
	"net/url"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"opsiam/internal/directory"
	"opsiam/internal/store"
)

// TOTP parameters (RFC 6238): 30-second steps, six digits, SHA-1, which
// every authenticator app understands. One step of clock skew is accepted
// either way.
const (
	otpPeriod = 30
	otpSkew   = 1
)

var otpOpts = totp.ValidateOpts{Period: otpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// Enrolment is what the enrolment page shows once (A1): the otpauth URL
// as a QR code (a PNG data URL) and the secret for manual entry. After
// confirmation the secret is never shown again.
type Enrolment struct {
	Secret    string
	URL       string
	QRDataURL string
}

// BeginEnrolment makes a new pending TOTP secret for u. A confirmed secret
// stays in force until the new one is confirmed.
func (s *Service) BeginEnrolment(ctx context.Context, u directory.User) (Enrolment, error) {
	key, err := totp.Generate(totp.GenerateOpts{Issuer: s.Policy.OTPIssuer, AccountName: u.Username,
		Period: otpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		return Enrolment{}, err
	}
	sealed, err := s.seal(u.ID, key.Secret())
	if err != nil {
		return Enrolment{}, err
	}
	if err := s.Store.SetPendingOTP(ctx, u.ID, sealed); err != nil {
		return Enrolment{}, err
	}
	return s.enrolment(u, key.Secret())
}

// enrolment builds the otpauth URL (Key URI format) and its QR code.
func (s *Service) enrolment(u directory.User, secret string) (Enrolment, error) {
	key, err := otp.NewKeyFromURL((&url.URL{Scheme: "otpauth", Host: "totp", Path: "/" + s.Policy.OTPIssuer + ":" + u.Username,
		RawQuery: url.Values{"secret": {secret}, "issuer": {s.Policy.OTPIssuer}, "period": {"30"}, "digits": {"6"},
			"algorithm": {"SHA1"}}.Encode()}).String())
	if err != nil {
		return Enrolment{}, err
	}
	img, err := key.Image(240, 240)
	if err != nil {
		return Enrolment{}, err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return Enrolment{}, err
	}
	return Enrolment{Secret: secret, URL: key.URL(),
		QRDataURL: "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes())}, nil
}

// matchStep returns the time step within ±otpSkew of now whose code is code.
func matchStep(secret, code string, now time.Time) (int64, bool) {
	code = strings.TrimSpace(code)
	if len(code) != 6 {
		return 0, false
	}
	found, step := 0, int64(0)
	for d := -otpSkew; d <= otpSkew; d++ {
		t := now.Add(time.Duration(d*otpPeriod) * time.Second)
		want, err := totp.GenerateCodeCustom(secret, t, otpOpts)
		if err != nil {
			return 0, false
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 && found == 0 {
			found, step = 1, t.Unix()/otpPeriod
		}
	}
	return step, found == 1
}

// CodeAt computes the code of secret at t, for tests and tools.
func CodeAt(secret string, t time.Time) (string, error) {
	return totp.GenerateCodeCustom(secret, t, otpOpts)
}

// SubmitCode finishes a sign-in waiting for a code (A1): the code must
// match the user's secret within one step and must not have been used
// before. A wrong code counts as a failed sign-in (A3). On success the
// pending session ends and a full one with a new id starts.
func (s *Service) SubmitCode(ctx context.Context, token, code string, src Source) (string, store.Session, error) {
	sess, err := s.Session(ctx, token)
	if err != nil || sess.Stage != store.StageOTP {
		return "", store.Session{}, ErrNoSession
	}
	u, err := s.Store.GetUser(ctx, directory.Scope{}, sess.UserID)
	if err != nil {
		return "", store.Session{}, ErrNoSession
	}
	st, err := s.Store.OTP(ctx, u.ID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return "", store.Session{}, err
	}
	secret, err := s.open(u.ID, st.Secret)
	if err != nil {
		return "", store.Session{}, err
	}
	step, ok := matchStep(secret, code, s.Now())
	if ok && secret != "" {
		err = s.Store.UseOTPStep(ctx, u.ID, step)
		if errors.Is(err, store.ErrStale) {
			ok = false
		} else if err != nil {
			return "", store.Session{}, err
		}
	} else {
		ok = false
	}
	if !ok {
		return "", store.Session{}, s.failed(ctx, u, src, "otp")
	}
	return s.finish(ctx, u, sess.IDHash, store.MethodPassword, src)
}

// ConfirmEnrolment confirms the pending secret of the session's user with
// a first code (A1). In a sign-in waiting for enrolment it then finishes
// the sign-in (new session id); on the account page (a full session) the
// session stays. A wrong code returns ErrInvalidCredentials.
func (s *Service) ConfirmEnrolment(ctx context.Context, token, code string, src Source) (string, store.Session, error) {
	sess, err := s.Session(ctx, token)
	if err != nil || (sess.Stage != store.StageEnrol && sess.Stage != store.StageFull) {
		return "", store.Session{}, ErrNoSession
	}
	u, err := s.Store.GetUser(ctx, directory.Scope{}, sess.UserID)
	if err != nil {
		return "", store.Session{}, ErrNoSession
	}
	st, err := s.Store.OTP(ctx, u.ID)
	if err != nil || st.Pending == "" {
		return "", store.Session{}, ErrInvalidCredentials
	}
	pending, err := s.open(u.ID, st.Pending)
	if err != nil {
		return "", store.Session{}, err
	}
	step, ok := matchStep(pending, code, s.Now())
	if !ok {
		if sess.Stage == store.StageEnrol {
			return "", store.Session{}, s.failed(ctx, u, src, "otp_enrol")
		}
		return "", store.Session{}, ErrInvalidCredentials
	}
	err = s.Store.InTx(ctx, func(tx store.Tx) error {
		if err := tx.ConfirmOTP(ctx, u.ID, step); err != nil {
			return err
		}
		return s.audit(ctx, tx, Source{ActorID: u.ID, ActorName: u.Username, Address: src.Address}, store.ActionAuthOtpEnrol, u.ID, nil)
	})
	if err != nil {
		return "", store.Session{}, err
	}
	if sess.Stage == store.StageFull {
		return token, sess, nil
	}
	return s.finish(ctx, u, sess.IDHash, store.MethodPassword, src)
}

// HasOTP reports whether u has a confirmed TOTP secret.
func (s *Service) HasOTP(ctx context.Context, u directory.UserID) (bool, error) {
	st, err := s.Store.OTP(ctx, u)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil && st.Secret != "", err
}

// PendingEnrolment shows an enrolment in progress again (after a wrong
// first code), or ErrNotFound when none is pending.
func (s *Service) PendingEnrolment(ctx context.Context, u directory.User) (Enrolment, error) {
	st, err := s.Store.OTP(ctx, u.ID)
	if err != nil {
		return Enrolment{}, err
	}
	if st.Pending == "" {
		return Enrolment{}, store.ErrNotFound
	}
	pending, err := s.open(u.ID, st.Pending)
	if err != nil {
		return Enrolment{}, err
	}
	return s.enrolment(u, pending)
}
