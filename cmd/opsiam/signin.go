package main

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"opsiam/internal/auth"
	"opsiam/internal/config"
	"opsiam/internal/directory"
	"opsiam/internal/mail"
	"opsiam/internal/manage"
	"opsiam/internal/oidc"
	"opsiam/internal/signin"
	"opsiam/internal/store"
)

// hasher builds the argon2id hasher from the configuration (A2).
func hasher(c config.AuthConfig) auth.Hasher {
	p := auth.DefaultParams()
	p.Time, p.MemoryKiB, p.Threads = uint32(c.Argon2Time), uint32(c.Argon2MemoryKiB), uint8(c.Argon2Threads)
	return auth.Hasher{Params: p}
}

// policy builds the sign-in limits from the configuration (A3, A5, A7).
func policy(c config.AuthConfig) auth.Policy {
	p := auth.DefaultPolicy()
	p.Lockout = store.LockoutPolicy{MaxFailures: c.LockoutFailures, Window: c.LockoutWindow, Period: c.LockoutPeriod}
	p.SessionIdle, p.SessionMax = c.SessionIdle, c.SessionMax
	p.AccountPasswordFailures = c.AccountPasswordFailures
	return p
}

// signinParts is what the sign-in issue adds to the server.
type signinParts struct {
	Auth  *auth.Service
	Pages *signin.Handler
	// MailTarget delivers mail.* outbox events; the outbox worker gets it.
	MailTarget *mail.Target
}

// buildSignin makes the sign-in service, the pages and the mail target;
// issuer is the server's public URL (mail links, Secure cookies).
// Without SMTP, mails go to the log and to /dev/mail (served to loopback
// clients only, since its mails hold password links).
func buildSignin(cfg config.Config, issuer string, st store.Store, log *slog.Logger, ms *manage.Service, up *signin.Upstream) (*signinParts, error) {
	svc, err := auth.New(st, hasher(cfg.Auth), policy(cfg.Auth), time.Now)
	if err != nil {
		return nil, err
	}
	// A password change or reset ends the user's application sessions too.
	svc.EndSessions = oidc.EndUserSessions
	// A mandatory identity provider refuses its users' local passwords.
	svc.PasswordAllowed = ms.PasswordAllowed
	var mailer mail.Mailer
	var box *mail.DevMailbox
	if cfg.SMTP.Addr != "" {
		mailer = &mail.SMTP{Addr: cfg.SMTP.Addr, Username: cfg.SMTP.User, Password: string(cfg.SMTP.Password), From: cfg.SMTP.From}
	} else {
		box = &mail.DevMailbox{Log: log}
		mailer = box
		log.Warn("no SMTP server configured: mails go to the log and to /dev/mail (loopback clients only)")
	}
	tmpl, err := mail.LoadTemplates()
	if err != nil {
		return nil, err
	}
	// Passkeys need a host name as RP ID (WebAuthn takes no IP address).
	passkeys, err := auth.NewPasskeys(svc, issuer, "opsiam")
	if err != nil {
		log.Warn("passkeys are off: the issuer's host must be a name such as localhost, not an IP address", "issuer", issuer, "err", err)
		passkeys = nil
	}
	pages, err := signin.New(signin.Config{Auth: svc, Log: log, Secure: strings.HasPrefix(issuer, "https://"), Passkeys: passkeys,
		DevMail: box, LoginPerMinute: cfg.Auth.LoginPerMinute, Console: func(ctx context.Context, u directory.User) bool {
			c, err := ms.UserCaller(ctx, u, "")
			return err == nil && c.UsesConsole()
		}, Upstream: up})
	if err != nil {
		return nil, err
	}
	return &signinParts{Auth: svc, Pages: pages,
		MailTarget: &mail.Target{Users: st, Links: svc, Mailer: mailer, Templates: tmpl, BaseURL: issuer}}, nil
}

// loopbackOnly refuses /dev/mail to clients that are not on this host.
func loopbackOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/dev/mail") {
			host, _, _ := net.SplitHostPort(r.RemoteAddr)
			if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
				http.NotFound(w, r)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// purgeSessions deletes expired sessions every ten minutes until ctx ends.
func purgeSessions(ctx context.Context, svc *auth.Service, log *slog.Logger) {
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := svc.PurgeSessions(ctx); err != nil {
				log.Warn("purging sessions", "err", err)
			}
		}
	}
}
