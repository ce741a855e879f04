// Package manage holds opsiam's use cases: each loads what it needs through
// the store, checks it with the rules of package directory, and writes the
// change (with, as later issues add them, its audit record and outbox
// events) in one transaction (STYLE P3). HTTP handlers, the console and the
// CLI call it; it never sees a request.
package manage
