package storetest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"opsiam/internal/directory"
	"opsiam/internal/store"
)

func testLockout(t *testing.T, open Factory) {
	ctx := context.Background()
	p := store.LockoutPolicy{MaxFailures: 3, Window: 10 * time.Minute, Period: 15 * time.Minute}
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

	t.Run("Nth failure in the window locks; success clears; unlock lifts", func(t *testing.T) {
		s := open(t)
		u := mustUser(t, s, "lock")
		for i := 1; i <= 3; i++ {
			st, err := s.RecordSignInFailure(ctx, u.ID, t0.Add(time.Duration(i)*time.Minute), p)
			if err != nil {
				t.Fatal(err)
			}
			if st.Failures != i || st.LockedUntil.IsZero() != (i < 3) || st.JustLocked != (i == 3) {
				t.Fatalf("failure %d: %+v", i, st)
			}
		}
		// While locked, more failures do not move the lock.
		st, _ := s.RecordSignInFailure(ctx, u.ID, t0.Add(5*time.Minute), p)
		if want := t0.Add(18 * time.Minute); !st.LockedUntil.Equal(want) || st.Failures != 4 || st.JustLocked {
			t.Fatalf("failure while locked: %+v, want lock until %v", st, want)
		}
		if err := s.RecordSignIn(ctx, u.ID, t0.Add(6*time.Minute)); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("RecordSignIn while locked = %v, want ErrNotFound", err)
		}
		if err := s.ClearLockout(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
		got, _ := s.GetUser(ctx, directory.Scope{}, u.ID)
		if got.Locked {
			t.Fatal("still locked after unlock")
		}
		if err := s.RecordSignIn(ctx, u.ID, t0.Add(7*time.Minute)); err != nil {
			t.Fatalf("RecordSignIn after unlock: %v", err)
		}
		got, _ = s.GetUser(ctx, directory.Scope{}, u.ID)
		if !got.LastLoginAt.Equal(t0.Add(7 * time.Minute)) {
			t.Fatalf("last login %v", got.LastLoginAt)
		}
		st, _ = s.RecordSignInFailure(ctx, u.ID, t0.Add(8*time.Minute), p)
		if st.Failures != 1 {
			t.Fatalf("counter after a success: %+v", st)
		}
	})

	t.Run("failures outside the window start a new count", func(t *testing.T) {
		s := open(t)
		u := mustUser(t, s, "window")
		s.RecordSignInFailure(ctx, u.ID, t0, p)
		s.RecordSignInFailure(ctx, u.ID, t0.Add(time.Minute), p)
		st, _ := s.RecordSignInFailure(ctx, u.ID, t0.Add(11*time.Minute), p)
		if st.Failures != 1 || !st.LockedUntil.IsZero() {
			t.Fatalf("after the window: %+v", st)
		}
	})

	t.Run("lock expires and the next failure counts from one", func(t *testing.T) {
		s := open(t)
		u := mustUser(t, s, "expire")
		for i := 0; i < 3; i++ {
			s.RecordSignInFailure(ctx, u.ID, t0, p)
		}
		st, _ := s.RecordSignInFailure(ctx, u.ID, t0.Add(16*time.Minute), p)
		if st.Failures != 1 || !st.LockedUntil.IsZero() {
			t.Fatalf("after the lock: %+v", st)
		}
	})

	t.Run("parallel failures count exactly once each", func(t *testing.T) {
		s := open(t)
		u := mustUser(t, s, "parallel")
		p := store.LockoutPolicy{MaxFailures: 5, Window: time.Hour, Period: time.Hour}
		const n = 20
		var wg sync.WaitGroup
		res := make([]store.LockState, n)
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() { res[i], errs[i] = s.RecordSignInFailure(ctx, u.ID, t0, p) })
		}
		wg.Wait()
		seen := map[int]int{}
		locked, just := 0, 0
		for i := range n {
			if errs[i] != nil {
				t.Fatal(errs[i])
			}
			seen[res[i].Failures]++
			if !res[i].LockedUntil.IsZero() {
				locked++
			}
			if res[i].JustLocked {
				just++
			}
		}
		for c := 1; c <= n; c++ {
			if seen[c] != 1 {
				t.Fatalf("count %d seen %d times (%v): counting is not atomic", c, seen[c], seen)
			}
		}
		if locked != n-4 || just != 1 {
			t.Fatalf("locked %d times, just locked %d times; want %d and 1", locked, just, n-4)
		}
	})

	t.Run("unknown user", func(t *testing.T) {
		s := open(t)
		if _, err := s.RecordSignInFailure(ctx, "nobody", t0, p); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("got %v", err)
		}
	})

	t.Run("account page failures disable at the limit", func(t *testing.T) {
		s := open(t)
		u := mustUser(t, s, "acct")
		n, off, err := s.RecordAccountPasswordFailure(ctx, u.ID, 2)
		if err != nil || n != 1 || off {
			t.Fatalf("first: %d %v %v", n, off, err)
		}
		if err := s.ClearAccountPasswordFailures(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
		s.RecordAccountPasswordFailure(ctx, u.ID, 2)
		n, off, err = s.RecordAccountPasswordFailure(ctx, u.ID, 2)
		if err != nil || n != 2 || !off {
			t.Fatalf("second: %d %v %v", n, off, err)
		}
		got, _ := s.GetUser(ctx, directory.Scope{}, u.ID)
		if got.Enabled || got.Version != u.Version+1 {
			t.Fatalf("user after disable: enabled %v version %d", got.Enabled, got.Version)
		}
	})
}

func testOTPSecrets(t *testing.T, open Factory) {
	ctx := context.Background()
	s := open(t)
	u := mustUser(t, s, "otp")
	if _, err := s.OTP(ctx, u.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("OTP of a new user: %v", err)
	}
	if err := s.ConfirmOTP(ctx, u.ID, 5); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("confirm with nothing pending: %v", err)
	}
	if err := s.SetPendingOTP(ctx, u.ID, "AAAA"); err != nil {
		t.Fatal(err)
	}
	if err := s.UseOTPStep(ctx, u.ID, 1); err == nil {
		t.Fatal("a pending secret accepted a code")
	}
	if err := s.ConfirmOTP(ctx, u.ID, 10); err != nil {
		t.Fatal(err)
	}
	st, _ := s.OTP(ctx, u.ID)
	if st.Secret != "AAAA" || st.Pending != "" || st.LastStep != 10 {
		t.Fatalf("after confirm: %+v", st)
	}
	if err := s.UseOTPStep(ctx, u.ID, 10); !errors.Is(err, store.ErrStale) {
		t.Fatalf("replayed step: %v", err)
	}
	if err := s.UseOTPStep(ctx, u.ID, 11); err != nil {
		t.Fatal(err)
	}
	// One code sent twice at once (two tabs, two replicas): one use wins.
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := 0
	for range 8 {
		wg.Go(func() {
			if err := s.UseOTPStep(ctx, u.ID, 12); err == nil {
				mu.Lock()
				won++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if won != 1 {
		t.Fatalf("%d parallel uses of one step succeeded, want 1", won)
	}
	// A new enrolment leaves the confirmed secret in force until confirmed.
	s.SetPendingOTP(ctx, u.ID, "BBBB")
	st, _ = s.OTP(ctx, u.ID)
	if st.Secret != "AAAA" || st.Pending != "BBBB" {
		t.Fatalf("during re-enrolment: %+v", st)
	}
	if err := s.DeleteOTP(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.OTP(ctx, u.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
}

func testSessions(t *testing.T, open Factory) {
	ctx := context.Background()
	s := open(t)
	u := mustUser(t, s, "sess")
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	sess := store.Session{IDHash: "h1", UserID: u.ID, Stage: store.StageFull, CreatedAt: t0, LastSeenAt: t0, ExpiresAt: t0.Add(10 * time.Hour)}
	if err := s.CreateSession(ctx, sess); err != nil {
		t.Fatal(err)
	}
	s.CreateSession(ctx, store.Session{IDHash: "h2", UserID: u.ID, Stage: store.StageOTP, CreatedAt: t0, LastSeenAt: t0, ExpiresAt: t0.Add(time.Hour)})
	got, err := s.GetSession(ctx, "h1")
	if err != nil || got != sess {
		t.Fatalf("GetSession = %+v, %v; want %+v", got, err, sess)
	}
	// A session is found by its sid (issue 15: one read per refresh).
	withSID := store.Session{IDHash: "h3", UserID: u.ID, Stage: store.StageFull, CreatedAt: t0, LastSeenAt: t0,
		ExpiresAt: t0.Add(10 * time.Hour), MFA: true, SID: "sid-3", Method: store.MethodPasskey}
	if err := s.CreateSession(ctx, withSID); err != nil {
		t.Fatal(err)
	}
	if got, err := s.SessionBySID(ctx, "sid-3"); err != nil || got != withSID {
		t.Fatalf("SessionBySID = %+v, %v; want %+v", got, err, withSID)
	}
	if _, err := s.SessionBySID(ctx, ""); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("SessionBySID of no sid: %v", err)
	}
	if err := s.DeleteSession(ctx, "h3"); err != nil {
		t.Fatal(err)
	}
	if err := s.TouchSession(ctx, "h1", t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	got, _ = s.GetSession(ctx, "h1")
	if !got.LastSeenAt.Equal(t0.Add(time.Minute)) {
		t.Fatalf("touch: %+v", got)
	}
	// A disabled user's sessions stop at once (U7).
	u.Enabled = false
	u, err = s.UpdateUser(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetSession(ctx, "h1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("session of a disabled user: %v", err)
	}
	u.Enabled = true
	u, _ = s.UpdateUser(ctx, u)
	if _, err := s.GetSession(ctx, "h1"); err != nil {
		t.Fatalf("session after re-enable: %v", err)
	}
	n, err := s.DeleteExpiredSessions(ctx, t0.Add(2*time.Hour), 30*time.Minute)
	if err != nil || n != 2 {
		t.Fatalf("DeleteExpiredSessions = %d, %v; want 2 (h2 past its end, h1 idle)", n, err)
	}
	s.CreateSession(ctx, sess)
	if err := s.DeleteUserSessions(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetSession(ctx, "h1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("after DeleteUserSessions: %v", err)
	}
	s.CreateSession(ctx, sess)
	if err := s.DeleteUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetSession(ctx, "h1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("session of a deleted user: %v", err)
	}
}

func testMailLinks(t *testing.T, open Factory) {
	ctx := context.Background()
	s := open(t)
	u := mustUser(t, s, "links")
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	l := store.MailLink{Hash: "x1", Purpose: store.LinkPasswordReset, UserID: u.ID, EventID: "e1", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	if err := s.CreateMailLink(ctx, l); err != nil {
		t.Fatal(err)
	}
	// Redelivery of the event replaces the link.
	l2 := l
	l2.Hash = "x2"
	if err := s.CreateMailLink(ctx, l2); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetMailLink(ctx, "x1", store.LinkPasswordReset, t0); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("replaced link still there: %v", err)
	}
	if got, err := s.GetMailLink(ctx, "x2", store.LinkPasswordReset, t0); err != nil || got != l2 {
		t.Fatalf("GetMailLink = %+v, %v", got, err)
	}
	if _, err := s.GetMailLink(ctx, "x2", store.LinkPasswordSetup, t0); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("link found under another purpose: %v", err)
	}
	if _, err := s.ConsumeMailLink(ctx, "x2", store.LinkPasswordReset, t0.Add(time.Hour)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("expired link consumed: %v", err)
	}
	// Of parallel uses only one succeeds.
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for range 8 {
		wg.Go(func() {
			if _, err := s.ConsumeMailLink(ctx, "x2", store.LinkPasswordReset, t0); err == nil {
				mu.Lock()
				ok++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if ok != 1 {
		t.Fatalf("%d parallel uses succeeded, want 1", ok)
	}
	s.CreateMailLink(ctx, store.MailLink{Hash: "y", Purpose: store.LinkPasswordSetup, UserID: u.ID, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)})
	s.CreateMailLink(ctx, store.MailLink{Hash: "z", Purpose: store.LinkVerifyEmail, UserID: u.ID, Email: "a@b.c", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)})
	if err := s.DeleteUserMailLinks(ctx, u.ID, store.LinkPasswordSetup, store.LinkPasswordReset); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetMailLink(ctx, "y", store.LinkPasswordSetup, t0); !errors.Is(err, store.ErrNotFound) {
		t.Fatal("setup link survived DeleteUserMailLinks")
	}
	if got, err := s.GetMailLink(ctx, "z", store.LinkVerifyEmail, t0); err != nil || got.Email != "a@b.c" {
		t.Fatalf("verify link: %+v, %v", got, err)
	}
}

func testLoginLookup(t *testing.T, open Factory) {
	ctx := context.Background()
	s := open(t)
	a := mustUser(t, s, "ann")
	b := newUser("ann@example.com") // a user name equal to ann's mail address
	b.Email = "other@example.com"
	bu, err := s.CreateUser(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	for login, want := range map[string]directory.UserID{"ANN": a.ID, "ann@example.com": bu.ID, "Other@Example.com": bu.ID} {
		got, err := s.GetUserByLogin(ctx, login)
		if err != nil || got.ID != want {
			t.Errorf("GetUserByLogin(%q) = %s, %v; want %s", login, got.Username, err, want)
		}
	}
	if _, err := s.GetUserByLogin(ctx, "nobody"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown login: %v", err)
	}
	// LoadSignIn: the same choice, with hash and OTP state.
	if err := s.SetPasswordHash(ctx, a.ID, "hash-a"); err != nil {
		t.Fatal(err)
	}
	s.SetPendingOTP(ctx, a.ID, "P")
	rec, err := s.LoadSignIn(ctx, "Ann")
	if err != nil || rec.User.ID != a.ID || rec.PasswordHash != "hash-a" || rec.HasOTP {
		t.Fatalf("LoadSignIn(Ann) = %+v, %v (a pending secret is no OTP yet)", rec, err)
	}
	s.ConfirmOTP(ctx, a.ID, 1)
	if rec, _ := s.LoadSignIn(ctx, "ann"); !rec.HasOTP {
		t.Fatal("confirmed OTP not seen")
	}
	rec, err = s.LoadSignIn(ctx, "ann@example.com")
	if err != nil || rec.User.ID != bu.ID || rec.PasswordHash != "" {
		t.Fatalf("LoadSignIn(ann@example.com) = %+v, %v", rec, err)
	}
	if rec, _ := s.LoadSignIn(ctx, "other@example.com"); rec.User.ID != bu.ID {
		t.Fatal("mail login")
	}
	if _, err := s.LoadSignIn(ctx, "nobody"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown login: %v", err)
	}
}
