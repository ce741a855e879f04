// Package manage holds opsiam's use cases: each loads what it needs through
// the store, checks it with the rules of package directory, and writes the
// change, its audit record (O1) and its outbox events (P1) in one
// transaction (STYLE P3). Service holds the directory use cases (users,
// groups, roles, customers, links, bulk actions, billing, platform tokens)
// and the reads behind the access decisions for applications (C3–C5, G6,
// G7). HTTP handlers, the console and the CLI call it; it never sees a
// request.
package manage
