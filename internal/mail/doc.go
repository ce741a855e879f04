// Package mail sends the platform's mails (A4, U9): the Mailer interface,
// an SMTP sender (github.com/wneessen/go-mail), a development mailbox that
// logs mails and keeps the latest ones for the /dev/mail page when no SMTP
// server is configured, the bilingual (Japanese and English) mail
// templates, and the provisioning Target that turns mail.* outbox events
// into mails with fresh single-use links.
//
// The development mailbox keeps mails in memory only: it exists for the
// embedded default (SQLite, one process), where every request reaches the
// process that sent the mail. A replicated deployment configures SMTP.
package mail
