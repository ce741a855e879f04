package config

import (
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

func TestAuthDefaultsAndOverrides(t *testing.T) {
	c, _, err := Load("serve", nil, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	a := c.Auth
	if a.LockoutFailures != 5 || a.LockoutWindow != 15*time.Minute || a.LockoutPeriod != 15*time.Minute ||
		a.SessionIdle != 30*time.Minute || a.SessionMax != 10*time.Hour || a.AccountPasswordFailures != 2 ||
		a.LoginPerMinute != 30 || a.Argon2MemoryKiB != 19456 || c.SMTP.Addr != "" {
		t.Fatalf("defaults %+v %+v", a, c.SMTP)
	}
	c, _, err = Load("serve", []string{"--lockout-failures", "3", "--smtp-from", "ops <ops@example.test>"},
		env(map[string]string{"OPSIAM_LOCKOUT_FAILURES": "9", "OPSIAM_SESSION_IDLE": "5m", "OPSIAM_SMTP_ADDR": "mail:25",
			"OPSIAM_SMTP_PASSWORD": "pw-secret-1"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Auth.LockoutFailures != 3 || c.Auth.SessionIdle != 5*time.Minute || c.SMTP.Addr != "mail:25" {
		t.Fatalf("overrides %+v %+v", c.Auth, c.SMTP)
	}
	if s := fmt.Sprintf("%+v", c); strings.Contains(s, "pw-secret-1") {
		t.Fatal("SMTP password leaked")
	}
}

func TestAuthValidation(t *testing.T) {
	_, _, err := Load("serve", []string{"--smtp-addr", "mail", "--lockout-failures", "0", "--session-idle", "0s", "--argon2-threads", "0"},
		env(map[string]string{"OPSIAM_LOCKOUT_WINDOW": "soon"}), io.Discard)
	if err == nil {
		t.Fatal("bad settings accepted")
	}
	for _, field := range []string{"smtp-addr", "smtp-from", "lockout-failures", "session-idle", "argon2-threads", "lockout-window"} {
		if !strings.Contains(err.Error(), field) {
			t.Errorf("error %q does not name %s", err, field)
		}
	}
}
