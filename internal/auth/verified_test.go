package auth_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"opsiam/internal/auth"
	"opsiam/internal/directory"
	"opsiam/internal/store"
)

// A sign-in proven by a passkey or an upstream provider opens a full
// session with its method, is multi-factor only for the passkey, is
// audited with the method, and is refused like a password sign-in for a
// locked or disabled user.
func TestSignInVerified(t *testing.T) {
	databases(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		u := f.user(t, "pk", "", true)
		tok, sess, err := f.svc.SignInVerified(ctx, u, store.MethodPasskey, src)
		if err != nil || sess.Stage != store.StageFull || !sess.MFA || sess.Method != store.MethodPasskey {
			t.Fatalf("passkey sign-in of an OTP-required user: %+v, %v", sess, err)
		}
		if _, got, err := f.svc.SignedIn(ctx, tok); err != nil || got.Method != store.MethodPasskey || !got.MFA {
			t.Fatalf("stored session %+v, %v", got, err)
		}
		_, sess, err = f.svc.SignInVerified(ctx, u, store.MethodUpstream, src)
		if err != nil || sess.MFA || sess.Method != store.MethodUpstream {
			t.Fatalf("upstream sign-in: %+v, %v", sess, err)
		}
		page, _ := f.st.ListAudit(ctx, store.AuditQuery{TargetID: string(u.ID), Action: "auth.sign_in"})
		if len(page.Items) != 2 || !strings.Contains(string(page.Items[0].After)+string(page.Items[1].After), `"hwk"`) {
			t.Fatalf("audit %+v", page.Items)
		}
		if _, _, err := f.svc.SignInVerified(ctx, u, "pwd", src); err == nil {
			t.Fatal("an unknown method was accepted")
		}

		locked := f.user(t, "locked", goodPW, false)
		for i := 0; i < 5; i++ {
			_, _, _ = f.svc.SignIn(ctx, "locked", "wrong password!", src)
		}
		if _, _, err := f.svc.SignInVerified(ctx, locked, store.MethodPasskey, src); !errors.Is(err, auth.ErrInvalidCredentials) {
			t.Fatalf("locked user: %v", err)
		}
		off := f.user(t, "off", "", false)
		off.Enabled = false
		if _, err := f.st.UpdateUser(ctx, off); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.svc.SignInVerified(ctx, off, store.MethodUpstream, src); !errors.Is(err, auth.ErrInvalidCredentials) {
			t.Fatalf("disabled user: %v", err)
		}

		// Where the customer's provider is mandatory, a passkey is refused
		// like the password; the upstream sign-in itself is not.
		mand := f.user(t, "mand", "", false)
		f.svc.PasswordAllowed = func(_ context.Context, u directory.User) (bool, error) { return u.ID != mand.ID, nil }
		defer func() { f.svc.PasswordAllowed = nil }()
		if _, _, err := f.svc.SignInVerified(ctx, mand, store.MethodPasskey, src); !errors.Is(err, auth.ErrInvalidCredentials) {
			t.Fatalf("passkey under a mandatory provider: %v", err)
		}
		if _, _, err := f.svc.SignInVerified(ctx, mand, store.MethodUpstream, src); err != nil {
			t.Fatalf("upstream under a mandatory provider: %v", err)
		}
	})
}
