// Package httpapi serves the administration REST API under /api/v1 (SPEC §7,
// issue 3): users, groups, roles, customers and their links, billing (B1),
// bulk actions (U6), the "why" view (R6), the audit log (O1), platform
// tokens (A6), access decisions for applications (C3–C5, G6, G7) and the
// OpenAPI document.
//
// Every handler returns an error; problem.go turns errors into RFC 9457
// problem documents in one place. Requests are authenticated by a list of
// Credentials (platform tokens here, session cookies from the sign-in code);
// cookie-based credentials also pass CSRF protection for unsafe methods.
// Authorization comes from the caller's effective roles (R5); whoever may
// not read a thing gets 404, not 403, so existence does not leak.
//
// The package parses, calls package manage (which owns transactions,
// audit records and outbox events) and writes; it holds no SQL.
package httpapi
