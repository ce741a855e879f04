package auth_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"opsiam/internal/auth"
	"opsiam/internal/directory"
	"opsiam/internal/store"
	"opsiam/internal/store/sqlstore"
	"opsiam/internal/store/sqlstore/sqltest"
)

// clock is a settable clock for the service (P6).
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type fixture struct {
	svc   *auth.Service
	st    *sqlstore.DB
	clock *clock
}

var fastParams = auth.Params{Time: 1, MemoryKiB: 64, Threads: 1, KeyLen: 32, SaltLen: 16}

// databases runs fn on SQLite and, when configured, on PostgreSQL.
func databases(t *testing.T, fn func(t *testing.T, f *fixture)) {
	t.Run("SQLite", func(t *testing.T) { fn(t, newFixture(t, filepath.Join(t.TempDir(), "a.db"))) })
	t.Run("Postgres", func(t *testing.T) { fn(t, newFixture(t, sqltest.Postgres(t))) })
}

func newFixture(t testing.TB, dsn string) *fixture {
	t.Helper()
	ctx := context.Background()
	c := &clock{t: time.Now().UTC().Truncate(time.Second)}
	db, err := sqlstore.Open(ctx, dsn, sqlstore.WithClock(c.Now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	svc, err := auth.New(db, auth.Hasher{Params: fastParams}, auth.DefaultPolicy(), c.Now)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{svc: svc, st: db, clock: c}
}

// user creates an enabled user with password pw ("" for none).
func (f *fixture) user(t testing.TB, name, pw string, otpRequired bool) directory.User {
	t.Helper()
	ctx := context.Background()
	u, err := f.st.CreateUser(ctx, directory.User{Username: name, Email: name + "@example.com", FirstName: "F",
		LastName: "L", Enabled: true, OTPRequired: otpRequired, Timezone: "Asia/Tokyo"})
	if err != nil {
		t.Fatal(err)
	}
	if pw != "" {
		h, _ := f.svc.Hasher.Hash(pw)
		if err := f.st.SetPasswordHash(ctx, u.ID, h); err != nil {
			t.Fatal(err)
		}
	}
	return u
}

const goodPW = "velvet-harbour-42"

var src = auth.Source{Address: "192.0.2.1"}

func TestSignInFailuresLookAlike(t *testing.T) {
	databases(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		f.user(t, "alice", goodPW, false)
		f.user(t, "nopass", "", false)
		off := f.user(t, "off", goodPW, false)
		off.Enabled = false
		if _, err := f.st.UpdateUser(ctx, off); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct{ name, login, pw string }{
			{"unknown user", "nobody", goodPW},
			{"wrong password", "alice", "velvet-harbour-43"},
			{"no password yet", "nopass", ""},
			{"disabled", "off", goodPW},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if _, _, err := f.svc.SignIn(ctx, tc.login, tc.pw, src); !errors.Is(err, auth.ErrInvalidCredentials) {
					t.Fatalf("SignIn = %v, want ErrInvalidCredentials", err)
				}
			})
		}
		for _, login := range []string{"alice", "ALICE", "alice@example.com", "Alice@Example.com"} {
			token, sess, err := f.svc.SignIn(ctx, login, goodPW, src)
			if err != nil || sess.Stage != store.StageFull {
				t.Fatalf("SignIn(%s) = %+v, %v", login, sess, err)
			}
			if u, _, err := f.svc.SignedIn(ctx, token); err != nil || u.Username != "alice" {
				t.Fatalf("SignedIn = %v, %v", u.Username, err)
			}
		}
	})
}

func TestLockout(t *testing.T) {
	databases(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		u := f.user(t, "bob", goodPW, false)
		for i := 0; i < 5; i++ {
			if _, _, err := f.svc.SignIn(ctx, "bob", "wrong password!", src); !errors.Is(err, auth.ErrInvalidCredentials) {
				t.Fatal(err)
			}
		}
		got, _ := f.st.GetUser(ctx, directory.Scope{}, u.ID)
		if !got.Locked {
			t.Fatal("not locked after 5 failures")
		}
		if _, _, err := f.svc.SignIn(ctx, "bob", goodPW, src); !errors.Is(err, auth.ErrInvalidCredentials) {
			t.Fatalf("right password while locked: %v", err)
		}
		if err := f.svc.Unlock(ctx, u.ID, auth.Source{ActorName: "admin"}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.svc.SignIn(ctx, "bob", goodPW, src); err != nil {
			t.Fatalf("after unlock: %v", err)
		}
		page, _ := f.st.ListAudit(ctx, store.AuditQuery{TargetID: string(u.ID), Action: "user.lock"})
		if len(page.Items) != 1 {
			t.Fatalf("%d user.lock audit records, want 1", len(page.Items))
		}
		for action, want := range map[string]int{"auth.sign_in_failed": 6, "user.unlock": 1, "auth.sign_in": 1} {
			page, _ := f.st.ListAudit(ctx, store.AuditQuery{TargetID: string(u.ID), Action: action})
			if len(page.Items) != want {
				t.Fatalf("%d %s audit records, want %d", len(page.Items), action, want)
			}
			if action == "auth.sign_in" && (page.Items[0].Source != "192.0.2.1" || page.Items[0].ActorID != string(u.ID)) {
				t.Fatalf("sign-in record %+v", page.Items[0])
			}
		}
	})
}

func TestRehashOnSignIn(t *testing.T) {
	f := newFixture(t, filepath.Join(t.TempDir(), "a.db"))
	ctx := context.Background()
	u := f.user(t, "carol", goodPW, false)
	old, _ := f.st.PasswordHash(ctx, u.ID)
	f.svc.Hasher = auth.Hasher{Params: auth.Params{Time: 2, MemoryKiB: 128, Threads: 1, KeyLen: 32, SaltLen: 16}}
	if _, _, err := f.svc.SignIn(ctx, "carol", goodPW, src); err != nil {
		t.Fatal(err)
	}
	now, _ := f.st.PasswordHash(ctx, u.ID)
	if now == old {
		t.Fatal("hash not upgraded after the parameters changed")
	}
	if ok, rehash, _ := f.svc.Hasher.Verify(now, goodPW); !ok || rehash {
		t.Fatalf("upgraded hash: ok %v rehash %v", ok, rehash)
	}
}

func TestSessionLimits(t *testing.T) {
	databases(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		u := f.user(t, "dave", goodPW, false)
		token, _, err := f.svc.SignIn(ctx, "dave", goodPW, src)
		if err != nil {
			t.Fatal(err)
		}
		// Used every 20 minutes the session lives until the absolute limit.
		for i := 0; i < 29; i++ {
			f.clock.Add(20 * time.Minute)
			if _, err := f.svc.Session(ctx, token); err != nil {
				t.Fatalf("after %d min: %v", (i+1)*20, err)
			}
		}
		f.clock.Add(20 * time.Minute) // 10 h
		if _, err := f.svc.Session(ctx, token); !errors.Is(err, auth.ErrNoSession) {
			t.Fatalf("past the absolute limit: %v", err)
		}
		token, _, _ = f.svc.SignIn(ctx, "dave", goodPW, src)
		f.clock.Add(31 * time.Minute)
		if _, err := f.svc.Session(ctx, token); !errors.Is(err, auth.ErrNoSession) {
			t.Fatalf("idle past 30 min: %v", err)
		}
		token, _, _ = f.svc.SignIn(ctx, "dave", goodPW, src)
		u.Enabled = false
		u, _ = f.st.GetUser(ctx, directory.Scope{}, u.ID)
		u.Enabled = false
		if _, err := f.st.UpdateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Session(ctx, token); !errors.Is(err, auth.ErrNoSession) {
			t.Fatalf("session of a disabled user: %v", err)
		}
		u, _ = f.st.GetUser(ctx, directory.Scope{}, u.ID)
		u.Enabled = true
		f.st.UpdateUser(ctx, u)
		if err := f.svc.SignOut(ctx, token, src); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Session(ctx, token); !errors.Is(err, auth.ErrNoSession) {
			t.Fatalf("after sign-out: %v", err)
		}
		// The sign-out's audit record names the user as its actor (issue 13).
		out, err := f.st.ListAudit(ctx, store.AuditQuery{Action: "auth.sign_out"})
		if err != nil || len(out.Items) == 0 || out.Items[0].ActorID != string(u.ID) || out.Items[0].ActorName != "dave" {
			t.Fatalf("sign-out audit: %+v %v", out.Items, err)
		}
	})
}

func TestOTPEnrolAndSignIn(t *testing.T) {
	databases(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		u := f.user(t, "erin", goodPW, true)
		pending, sess, err := f.svc.SignIn(ctx, "erin", goodPW, src)
		if err != nil || sess.Stage != store.StageEnrol {
			t.Fatalf("SignIn = %+v, %v; want enrolment", sess, err)
		}
		if _, _, err := f.svc.SignedIn(ctx, pending); !errors.Is(err, auth.ErrNoSession) {
			t.Fatal("a session waiting for enrolment counts as signed in")
		}
		enr, err := f.svc.BeginEnrolment(ctx, u)
		if err != nil || enr.Secret == "" || len(enr.QRDataURL) < 100 {
			t.Fatalf("BeginEnrolment = %+v, %v", enr, err)
		}
		if _, _, err := f.svc.ConfirmEnrolment(ctx, pending, "000000", src); !errors.Is(err, auth.ErrInvalidCredentials) {
			t.Fatalf("wrong first code: %v", err)
		}
		code, _ := auth.CodeAt(enr.Secret, f.clock.Now())
		full, sess, err := f.svc.ConfirmEnrolment(ctx, pending, code, src)
		if err != nil || sess.Stage != store.StageFull || full == pending {
			t.Fatalf("ConfirmEnrolment = %+v, %v", sess, err)
		}
		if _, err := f.svc.Session(ctx, pending); !errors.Is(err, auth.ErrNoSession) {
			t.Fatal("the pending session survived the sign-in")
		}
		// Next sign-in asks for a code; the code already used is refused.
		pending, sess, _ = f.svc.SignIn(ctx, "erin", goodPW, src)
		if sess.Stage != store.StageOTP {
			t.Fatalf("second sign-in stage %q", sess.Stage)
		}
		if _, _, err := f.svc.SubmitCode(ctx, pending, code, src); !errors.Is(err, auth.ErrInvalidCredentials) {
			t.Fatalf("replayed code: %v", err)
		}
		f.clock.Add(30 * time.Second)
		next, _ := auth.CodeAt(enr.Secret, f.clock.Now())
		// One step of skew either way is accepted.
		early, _ := auth.CodeAt(enr.Secret, f.clock.Now().Add(30*time.Second))
		if _, _, err := f.svc.SubmitCode(ctx, pending, early, src); err != nil {
			t.Fatalf("code of the next step: %v", err)
		}
		pending, _, _ = f.svc.SignIn(ctx, "erin", goodPW, src)
		if _, _, err := f.svc.SubmitCode(ctx, pending, next, src); !errors.Is(err, auth.ErrInvalidCredentials) {
			t.Fatalf("code older than the last used one: %v", err)
		}
		f.clock.Add(60 * time.Second)
		fresh, _ := auth.CodeAt(enr.Secret, f.clock.Now())
		if _, sess, err := f.svc.SubmitCode(ctx, pending, fresh, src); err != nil || sess.Stage != store.StageFull {
			t.Fatalf("fresh code: %+v %v", sess, err)
		}
		far, _ := auth.CodeAt(enr.Secret, f.clock.Now().Add(2*time.Minute))
		pending, _, _ = f.svc.SignIn(ctx, "erin", goodPW, src)
		if _, _, err := f.svc.SubmitCode(ctx, pending, far, src); !errors.Is(err, auth.ErrInvalidCredentials) {
			t.Fatalf("code four steps ahead: %v", err)
		}
	})
}

func TestPasswordLinks(t *testing.T) {
	databases(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		u := f.user(t, "frank", goodPW, false)
		token, _, err := f.svc.IssueLink(ctx, store.LinkPasswordReset, u.ID, "", "ev1")
		if err != nil {
			t.Fatal(err)
		}
		if got, err := f.svc.CheckLink(ctx, store.LinkPasswordReset, token); err != nil || got.ID != u.ID {
			t.Fatalf("CheckLink = %v, %v", got.ID, err)
		}
		if _, err := f.svc.CheckLink(ctx, store.LinkPasswordSetup, token); !errors.Is(err, auth.ErrInvalidLink) {
			t.Fatalf("link used for another purpose: %v", err)
		}
		// The old password works until the new one is set.
		if _, _, err := f.svc.SignIn(ctx, "frank", goodPW, src); err != nil {
			t.Fatalf("old password during reset: %v", err)
		}
		var fe directory.FieldErrors
		_, err = f.svc.SetPasswordWithLink(ctx, store.LinkPasswordReset, token, "short", "short", src)
		if !errors.As(err, &fe) || !fe.Has("password", directory.CodeInvalid) {
			t.Fatalf("short password: %v", err)
		}
		_, err = f.svc.SetPasswordWithLink(ctx, store.LinkPasswordReset, token, "copper-lantern-77", "copper-lantern-78", src)
		if !errors.As(err, &fe) || !fe.Has("confirm", directory.CodeInvalid) {
			t.Fatalf("mismatch: %v", err)
		}
		if _, err := f.svc.SetPasswordWithLink(ctx, store.LinkPasswordReset, token, "copper-lantern-77", "copper-lantern-77", src); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.SetPasswordWithLink(ctx, store.LinkPasswordReset, token, "copper-lantern-88", "copper-lantern-88", src); !errors.Is(err, auth.ErrInvalidLink) {
			t.Fatalf("second use: %v", err)
		}
		if _, _, err := f.svc.SignIn(ctx, "frank", goodPW, src); !errors.Is(err, auth.ErrInvalidCredentials) {
			t.Fatal("old password still works after the reset")
		}
		if _, _, err := f.svc.SignIn(ctx, "frank", "copper-lantern-77", src); err != nil {
			t.Fatalf("new password: %v", err)
		}
		token, _, _ = f.svc.IssueLink(ctx, store.LinkPasswordReset, u.ID, "", "ev2")
		f.clock.Add(61 * time.Minute)
		if _, err := f.svc.CheckLink(ctx, store.LinkPasswordReset, token); !errors.Is(err, auth.ErrInvalidLink) {
			t.Fatalf("expired link: %v", err)
		}
	})
}

func TestVerifyEmail(t *testing.T) {
	databases(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		u := f.user(t, "gina", goodPW, false)
		token, _, _ := f.svc.IssueLink(ctx, store.LinkVerifyEmail, u.ID, "Gina@Example.com", "ev1")
		stale, _, _ := f.svc.IssueLink(ctx, store.LinkVerifyEmail, u.ID, "old@example.com", "ev0")
		if _, err := f.svc.VerifyEmail(ctx, stale, src); !errors.Is(err, auth.ErrInvalidLink) {
			t.Fatalf("link for an old address: %v", err)
		}
		got, err := f.svc.VerifyEmail(ctx, token, src)
		if err != nil || !got.EmailVerified {
			t.Fatalf("VerifyEmail = %v, %v", got.EmailVerified, err)
		}
		if _, err := f.svc.VerifyEmail(ctx, token, src); !errors.Is(err, auth.ErrInvalidLink) {
			t.Fatalf("second use: %v", err)
		}
	})
}

func TestChangePasswordDisablesAfterRepeatedWrongCurrent(t *testing.T) {
	databases(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		u := f.user(t, "hank", goodPW, false)
		token, _, _ := f.svc.SignIn(ctx, "hank", goodPW, src)
		var fe directory.FieldErrors
		err := f.svc.ChangePassword(ctx, u, "", "nope nope", "copper-lantern-77", "copper-lantern-77", src)
		if !errors.As(err, &fe) || !fe.Has("current_password", directory.CodeInvalid) {
			t.Fatalf("first wrong current password: %v", err)
		}
		if err := f.svc.ChangePassword(ctx, u, "", goodPW, "copper-lantern-77", "copper-lantern-77", src); err != nil {
			t.Fatalf("right current password: %v", err)
		}
		// The counter was cleared: one more wrong one does not disable.
		f.svc.ChangePassword(ctx, u, "", "nope nope", "x", "x", src)
		if err := f.svc.ChangePassword(ctx, u, "", "nope again", "x", "x", src); !errors.Is(err, auth.ErrAccountDisabled) {
			t.Fatalf("second wrong current password in a row: %v", err)
		}
		got, _ := f.st.GetUser(ctx, directory.Scope{}, u.ID)
		if got.Enabled {
			t.Fatal("account still enabled")
		}
		if _, err := f.svc.Session(ctx, token); !errors.Is(err, auth.ErrNoSession) {
			t.Fatal("session survived the disable")
		}
	})
}

func TestSetTimezone(t *testing.T) {
	f := newFixture(t, filepath.Join(t.TempDir(), "a.db"))
	ctx := context.Background()
	u := f.user(t, "ivy", goodPW, false)
	var fe directory.FieldErrors
	if _, err := f.svc.SetTimezone(ctx, u, "Mars/Olympus", src); !errors.As(err, &fe) || fe[0].Field != "timezone" {
		t.Fatalf("bad zone: %v", err)
	}
	got, err := f.svc.SetTimezone(ctx, u, "Europe/Berlin", src)
	if err != nil || got.Timezone != "Europe/Berlin" {
		t.Fatalf("SetTimezone = %v, %v", got.Timezone, err)
	}
}

func TestOTPSecretsSealedAtRest(t *testing.T) {
	f := newFixture(t, filepath.Join(t.TempDir(), "a.db"))
	ctx := context.Background()
	key := [32]byte{1, 2, 3}
	f.svc.SecretKey = &key
	u := f.user(t, "kim", goodPW, true)
	other := f.user(t, "lee", goodPW, true)
	pending, _, _ := f.svc.SignIn(ctx, "kim", goodPW, src)
	enr, err := f.svc.BeginEnrolment(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := f.st.OTP(ctx, u.ID)
	if !strings.HasPrefix(st.Pending, "enc1:") || strings.Contains(st.Pending, enr.Secret) {
		t.Fatalf("pending secret stored as %q", st.Pending)
	}
	again, err := f.svc.PendingEnrolment(ctx, u)
	if err != nil || again.Secret != enr.Secret {
		t.Fatalf("PendingEnrolment = %q, %v", again.Secret, err)
	}
	code, _ := auth.CodeAt(enr.Secret, f.clock.Now())
	if _, _, err := f.svc.ConfirmEnrolment(ctx, pending, code, src); err != nil {
		t.Fatal(err)
	}
	// The sealed secret is bound to its user: copied to another row it does not open.
	st, _ = f.st.OTP(ctx, u.ID)
	f.st.SetPendingOTP(ctx, other.ID, st.Secret)
	if _, err := f.svc.PendingEnrolment(ctx, other); err == nil {
		t.Fatal("a secret sealed for kim opened for lee")
	}
	// Without the key the code step fails loudly rather than accepting anything.
	f.svc.SecretKey = nil
	pending, _, _ = f.svc.SignIn(ctx, "kim", goodPW, src)
	next, _ := auth.CodeAt(enr.Secret, f.clock.Now().Add(30*time.Second))
	if _, _, err := f.svc.SubmitCode(ctx, pending, next, src); err == nil || errors.Is(err, auth.ErrInvalidCredentials) {
		t.Fatalf("code without the key: %v", err)
	}
	f.svc.SecretKey = &key
	if _, _, err := f.svc.SubmitCode(ctx, pending, next, src); err != nil {
		t.Fatalf("code with the key: %v", err)
	}
}
