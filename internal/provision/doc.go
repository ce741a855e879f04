// Package provision delivers outbox events (P1) to the systems that must
// hear about directory changes: GitLab, signed webhooks, and the mail
// sender. Changes enqueue events through store.Outbox inside their own
// transaction; the worker here claims them after commit and hands each to
// every Target that handles its topic, with retries and back-off.
package provision
