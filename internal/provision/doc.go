// Package provision delivers outbox events (P1) to the systems that must
// hear about directory changes: GitLab, signed webhooks, and the mail
// sender. Changes enqueue events through store.Outbox inside their own
// transaction; the Worker here fans each event out to every Target that
// handles its topic, claims due deliveries under a lease (several replicas
// share one database), delivers them in order per aggregate and target,
// retries failures with exponential back-off and jitter, and marks a
// delivery dead after its attempts. The Outbox service lists deliveries
// and replays or discards dead ones (for /api/v1/outbox). Targets live in
// subpackages (gitlab, webhook) and in package mail. Design and its
// reasons: docs/architecture.md, "Provisioning".
package provision
