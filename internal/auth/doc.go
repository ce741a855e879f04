// Package auth holds how people prove who they are: password hashing
// (argon2id, A2) and, as the sign-in issue lands, one-time codes, lockout,
// sessions, mail links and platform tokens. It uses the store for state and
// the directory for rules; it knows nothing of HTTP.
package auth
