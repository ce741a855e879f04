package mail

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// Message is one plain-text mail.
type Message struct {
	To      string
	Subject string
	Text    string
}

// Mailer sends mails. Send returns once the server accepted the mail.
type Mailer interface {
	Send(ctx context.Context, m Message) error
}

// SMTP sends through an SMTP server: STARTTLS when the server offers it,
// authentication when a user name is set (refused without TLS unless the
// server is on the loopback interface).
type SMTP struct {
	Addr     string // HOST:PORT
	Username string
	Password string
	From     string
	Timeout  time.Duration // per mail; default 30 s
}

var _ Mailer = (*SMTP)(nil)

// Send delivers m over one SMTP connection.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	host, portStr, err := net.SplitHostPort(s.Addr)
	if err != nil {
		return fmt.Errorf("smtp-addr %q: %w", s.Addr, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return fmt.Errorf("smtp-addr %q: bad port", s.Addr)
	}
	timeout := s.Timeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	opts := []gomail.Option{gomail.WithPort(port), gomail.WithTLSPolicy(gomail.TLSOpportunistic), gomail.WithTimeout(timeout)}
	if s.Username != "" {
		// The strongest mechanism the server offers; over loopback, where
		// the password never leaves the host, plain text without TLS too.
		mech := gomail.SMTPAuthAutoDiscover
		if ip := net.ParseIP(host); host == "localhost" || (ip != nil && ip.IsLoopback()) {
			mech = gomail.SMTPAuthPlainNoEnc
		}
		opts = append(opts, gomail.WithSMTPAuth(mech), gomail.WithUsername(s.Username), gomail.WithPassword(s.Password))
	}
	c, err := gomail.NewClient(host, opts...)
	if err != nil {
		return err
	}
	msg := gomail.NewMsg()
	if err := msg.From(s.From); err != nil {
		return fmt.Errorf("smtp-from %q: %w", s.From, err)
	}
	if err := msg.To(m.To); err != nil {
		return fmt.Errorf("recipient %q: %w", m.To, err)
	}
	msg.Subject(m.Subject)
	msg.SetDate()
	msg.SetMessageID()
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	return c.DialAndSendWithContext(ctx, msg)
}

// Stored is a mail kept by the development mailbox.
type Stored struct {
	Message
	At time.Time
}

// DevMailbox is the sender of the embedded default (A4): it logs each mail
// and keeps the latest Max in memory for the /dev/mail page.
type DevMailbox struct {
	Log *slog.Logger
	Max int // default 100
	Now func() time.Time

	mu   sync.Mutex
	msgs []Stored
}

var _ Mailer = (*DevMailbox)(nil)

// Send logs m and keeps it.
func (d *DevMailbox) Send(ctx context.Context, m Message) error {
	now := time.Now
	if d.Now != nil {
		now = d.Now
	}
	if d.Log != nil {
		d.Log.InfoContext(ctx, "mail (no SMTP configured; see /dev/mail)", "to", m.To, "subject", m.Subject, "text", m.Text)
	}
	max := d.Max
	if max <= 0 {
		max = 100
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.msgs = append(d.msgs, Stored{Message: m, At: now()})
	if len(d.msgs) > max {
		d.msgs = append([]Stored(nil), d.msgs[len(d.msgs)-max:]...)
	}
	return nil
}

// List returns the kept mails, newest first.
func (d *DevMailbox) List() []Stored {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]Stored, len(d.msgs))
	for i, m := range d.msgs {
		out[len(out)-1-i] = m
	}
	return out
}
