package store

import (
	"context"
	"encoding/json"
	"time"
)

// AuditRecord is one entry of the audit log (O1): who did what to which
// target, when, from where, and the target before and after the change.
// It is written in the same transaction as the change it records.
type AuditRecord struct {
	ID         string // set by the store
	At         time.Time
	ActorID    string // user id; empty for the system itself
	ActorName  string // user name at the time, kept for deleted actors
	Action     string // e.g. "user.create", "group.member_add", "auth.sign_in"
	TargetType string // "user", "group", "role", "customer", …
	TargetID   string
	Source     string          // client address
	Before     json.RawMessage // JSON of the target before; empty for a create
	After      json.RawMessage // JSON of the target after; empty for a delete
}

// AuditQuery filters and pages the audit log, newest first. Cursor paging
// as in ListQuery.
type AuditQuery struct {
	ActorID  string
	TargetID string
	Action   string
	Since    time.Time // inclusive; zero: no bound
	Until    time.Time // exclusive; zero: no bound
	Limit    int
	Cursor   string
}

// Audit keeps the audit log. Records are only ever appended.
type Audit interface {
	AppendAudit(ctx context.Context, r AuditRecord) error
	ListAudit(ctx context.Context, q AuditQuery) (Page[AuditRecord], error)
}
