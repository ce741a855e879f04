package config

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/mail"
	"strconv"
	"time"
)

// SMTPConfig selects the mail server (A4). With no Addr, mails go to the log
// and the /dev/mail page.
type SMTPConfig struct {
	Addr     string // HOST:PORT
	User     string
	Password Secret
	From     string
}

// AuthConfig holds the sign-in limits (A2, A3, A5, A7); zero values are
// replaced by the SPEC §8 defaults in Load.
type AuthConfig struct {
	LockoutFailures int
	LockoutWindow   time.Duration
	LockoutPeriod   time.Duration
	SessionIdle     time.Duration
	SessionMax      time.Duration
	// OfflineTokenMax is the lifetime of refresh tokens asked for with
	// offline_access, which outlive the platform session.
	OfflineTokenMax         time.Duration
	AccountPasswordFailures int // 0 switches A7's disabling off
	LoginPerMinute          int
	Argon2Time              uint
	Argon2MemoryKiB         uint
	Argon2Threads           uint
}

// authFlags registers the SMTP and sign-in flags with their OPSIAM_*
// twins; a bad environment value is appended to errs.
func authFlags(fs *flag.FlagSet, c *Config, getenv func(string) string, errs *[]error) {
	s, a := &c.SMTP, &c.Auth
	s.Addr, s.User, s.From = getenv("OPSIAM_SMTP_ADDR"), getenv("OPSIAM_SMTP_USER"), getenv("OPSIAM_SMTP_FROM")
	s.Password = Secret(getenv("OPSIAM_SMTP_PASSWORD"))
	fs.StringVar(&s.Addr, "smtp-addr", s.Addr, "SMTP server HOST:PORT; empty: mails go to the log and /dev/mail (OPSIAM_SMTP_ADDR)")
	fs.StringVar(&s.User, "smtp-user", s.User, "SMTP user name (OPSIAM_SMTP_USER)")
	fs.Func("smtp-password", "SMTP password (OPSIAM_SMTP_PASSWORD)", func(v string) error { s.Password = Secret(v); return nil })
	fs.StringVar(&s.From, "smtp-from", s.From, "sender address of mails, required with --smtp-addr (OPSIAM_SMTP_FROM)")

	intVar := func(p *int, name, env string, def int, usage string) {
		*p = def
		if v := getenv(env); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				*errs = append(*errs, fmt.Errorf("%s %q: want a whole number", name, v))
			}
			*p = n
		}
		fs.IntVar(p, name, *p, usage+" ("+env+")")
	}
	uintVar := func(p *uint, name, env string, def uint, usage string) {
		*p = def
		if v := getenv(env); v != "" {
			n, err := strconv.ParseUint(v, 10, 32)
			if err != nil {
				*errs = append(*errs, fmt.Errorf("%s %q: want a whole number", name, v))
			}
			*p = uint(n)
		}
		fs.UintVar(p, name, *p, usage+" ("+env+")")
	}
	durVar := func(p *time.Duration, name, env string, def time.Duration, usage string) {
		*p = def
		if v := getenv(env); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil {
				*errs = append(*errs, fmt.Errorf("%s %q: want a duration such as 15m", name, v))
			}
			*p = d
		}
		fs.DurationVar(p, name, *p, usage+" ("+env+")")
	}
	intVar(&a.LockoutFailures, "lockout-failures", "OPSIAM_LOCKOUT_FAILURES", 5, "failed sign-ins within the window that lock password sign-in")
	durVar(&a.LockoutWindow, "lockout-window", "OPSIAM_LOCKOUT_WINDOW", 15*time.Minute, "window in which failures are counted")
	durVar(&a.LockoutPeriod, "lockout-period", "OPSIAM_LOCKOUT_PERIOD", 15*time.Minute, "how long a lock lasts")
	durVar(&a.SessionIdle, "session-idle", "OPSIAM_SESSION_IDLE", 30*time.Minute, "a session unused this long ends")
	durVar(&a.SessionMax, "session-max", "OPSIAM_SESSION_MAX", 10*time.Hour, "a session ends this long after sign-in")
	durVar(&a.OfflineTokenMax, "offline-token-max", "OPSIAM_OFFLINE_TOKEN_MAX", 30*24*time.Hour,
		"an application's offline_access refresh token ends this long after sign-in")
	intVar(&a.AccountPasswordFailures, "account-password-failures", "OPSIAM_ACCOUNT_PASSWORD_FAILURES", 2,
		"wrong current passwords on the account page that disable the account; 0: never")
	intVar(&a.LoginPerMinute, "login-rate", "OPSIAM_LOGIN_RATE", 30, "POST /login attempts per minute and client address")
	uintVar(&a.Argon2Time, "argon2-time", "OPSIAM_ARGON2_TIME", 2, "argon2id passes")
	uintVar(&a.Argon2MemoryKiB, "argon2-memory-kib", "OPSIAM_ARGON2_MEMORY_KIB", 19*1024, "argon2id memory in KiB")
	uintVar(&a.Argon2Threads, "argon2-threads", "OPSIAM_ARGON2_THREADS", 1, "argon2id lanes")
}

// validateAuth names every bad SMTP or sign-in setting.
func (c Config) validateAuth() []error {
	var errs []error
	s, a := c.SMTP, c.Auth
	if s.Addr != "" {
		if _, port, err := net.SplitHostPort(s.Addr); err != nil || port == "" {
			errs = append(errs, fmt.Errorf("smtp-addr %q: want HOST:PORT", s.Addr))
		}
		if s.From == "" {
			errs = append(errs, errors.New("smtp-from: required when smtp-addr is set"))
		}
	}
	if s.From != "" {
		if _, err := mail.ParseAddress(s.From); err != nil {
			errs = append(errs, fmt.Errorf("smtp-from %q: not a mail address", s.From))
		}
	}
	if a.LockoutFailures < 1 {
		errs = append(errs, errors.New("lockout-failures: must be at least 1"))
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"lockout-window", a.LockoutWindow}, {"lockout-period", a.LockoutPeriod}, {"session-idle", a.SessionIdle}, {"session-max", a.SessionMax}, {"offline-token-max", a.OfflineTokenMax}} {
		if d.v <= 0 {
			errs = append(errs, fmt.Errorf("%s: must be positive", d.name))
		}
	}
	if a.AccountPasswordFailures < 0 {
		errs = append(errs, errors.New("account-password-failures: must be 0 (off) or more"))
	}
	if a.LoginPerMinute < 1 {
		errs = append(errs, errors.New("login-rate: must be at least 1"))
	}
	if a.Argon2Time < 1 {
		errs = append(errs, errors.New("argon2-time: must be at least 1"))
	}
	if a.Argon2Threads < 1 || a.Argon2Threads > 255 {
		errs = append(errs, errors.New("argon2-threads: must be 1 to 255"))
	}
	if a.Argon2MemoryKiB < 8*a.Argon2Threads || a.Argon2MemoryKiB > 4<<20 {
		errs = append(errs, errors.New("argon2-memory-kib: must be at least 8 per thread and at most 4194304"))
	}
	return errs
}
