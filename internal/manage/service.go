package manage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"opsiam/internal/auth"
	"opsiam/internal/directory"
	"opsiam/internal/seal"
	"opsiam/internal/store"
)

// DefaultTimezone is the time zone of a new user when neither the request
// nor the configuration names one (U1).
const DefaultTimezone = "UTC"

// Service holds the use cases of the directory. Every change opens one
// transaction in which it checks the rules of package directory, writes the
// change, an audit record (O1) and its outbox events (P1), STYLE P3.
type Service struct {
	Store  store.Store
	Graphs *RoleGraphs
	Hasher auth.Hasher
	Now    func() time.Time
	// Timezone is the server default for users created without one (U1);
	// empty means DefaultTimezone.
	Timezone string
	// EndSessions, when set, runs in the transaction that disables or
	// deletes a user, so that the applications end their own sessions of
	// that user at once (U7, A5): serve sets it to the OpenID Connect
	// provider's back-channel logout of every sign-in of the user.
	EndSessions func(ctx context.Context, tx store.Tx, id directory.UserID) error
	// IdPSecrets seals the client secrets of upstream identity providers
	// (issue 18) under the key-encryption key; nil refuses to store one.
	IdPSecrets *seal.Box
	// InsecureIssuer accepts http upstream issuers on loopback addresses
	// (--insecure-issuer, development and tests).
	InsecureIssuer bool
}

// endSessions runs the EndSessions hook, if any.
func (s *Service) endSessions(ctx context.Context, tx store.Tx, id directory.UserID) error {
	if s.EndSessions == nil {
		return nil
	}
	return s.EndSessions(ctx, tx, id)
}

// record is a as the actor fields of an audit record.
func (a Caller) record() store.AuditRecord {
	return store.AuditRecord{ActorID: string(a.ID), ActorName: a.Username, Source: a.Source}
}

// tombstones runs the tombstone use cases (D1–D3) on the Service's clock.
func (s *Service) tombstones() Tombstones { return Tombstones{Now: s.Now} }

func (s *Service) now() time.Time {
	if s.Now == nil {
		return time.Now().UTC()
	}
	return s.Now().UTC()
}

func (s *Service) timezone() string {
	if s.Timezone != "" {
		return s.Timezone
	}
	return DefaultTimezone
}

// RoleGraph returns the current role graph for reads: the cached one of
// Graphs, or a fresh load when the Service has no cache.
func (s *Service) RoleGraph(ctx context.Context) (*directory.RoleGraph, error) {
	if s.Graphs == nil {
		return Load(ctx, s.Store)
	}
	return s.Graphs.Get(ctx)
}

func (s *Service) graph(ctx context.Context) (*directory.RoleGraph, error) { return s.RoleGraph(ctx) }

// audit appends one audit record for a change, with before and after as JSON.
func (s *Service) audit(ctx context.Context, tx store.Tx, a Caller, action, targetType, targetID string, before, after any) error {
	rec := store.AuditRecord{At: s.now(), ActorID: string(a.ID), ActorName: a.Username, Action: action,
		TargetType: targetType, TargetID: targetID, Source: a.Source}
	var err error
	if rec.Before, err = marshalOrNil(before); err != nil {
		return err
	}
	if rec.After, err = marshalOrNil(after); err != nil {
		return err
	}
	return tx.AppendAudit(ctx, rec)
}

func marshalOrNil(v any) (json.RawMessage, error) {
	if v == nil {
		return nil, nil
	}
	return json.Marshal(v)
}

// enqueue adds one outbox event; payload is marshalled to JSON.
func enqueue(ctx context.Context, tx store.Tx, topic, aggregate string, payload any) error {
	b, err := json.Marshal(payload)
	if err != nil {
		return err
	}
	_, err = tx.Enqueue(ctx, store.Event{Topic: topic, Aggregate: aggregate, Payload: b})
	return err
}

// fieldError returns a single field error.
func fieldError(field, code, format string, args ...any) error {
	return directory.FieldErrors{{Field: field, Code: code, Message: fmt.Sprintf(format, args...)}}
}

// notFoundAs turns ErrNotFound of a referenced item into a field error, so
// that a request naming an unknown id is told which field is wrong (O2).
func notFoundAs(err error, field, what string, id any) error {
	if errors.Is(err, store.ErrNotFound) {
		return fieldError(field, directory.CodeInvalid, "%s %q does not exist.", what, fmt.Sprint(id))
	}
	return err
}

// checkVersion refuses a change whose If-Match version is not the stored
// one; want 0 means the caller sent no If-Match.
func checkVersion(have, want int64) error {
	if want != 0 && have != want {
		return store.ErrStale
	}
	return nil
}

// hasCustomerRole reports whether set holds a role that makes a customer
// user (C2), so that only such changes pay for the check of every user.
func hasCustomerRole(set directory.RoleSet) bool {
	return set.HasName(directory.RoleNameCustomer) || set.HasName(directory.RoleNameCustomerUser) ||
		set.HasName(directory.RoleNameCustomerManager)
}

// checkCustomerOf refuses the change being made in tx if u's effective
// roles after it make u a customer user without a customer (C2). g must be
// the graph read through tx.
func checkCustomerOf(ctx context.Context, tx store.Tx, g *directory.RoleGraph, u directory.User) error {
	grants, err := tx.UserGrants(ctx, u.ID)
	if err != nil {
		return err
	}
	if err := directory.CheckCustomer(g.Effective(grants), u.CustomerID); err != nil {
		var fe directory.FieldErrors
		if errors.As(err, &fe) {
			for i := range fe {
				fe[i].Message = fmt.Sprintf("User %q: %s", u.Username, fe[i].Message)
			}
			return fe
		}
		return err
	}
	return nil
}

// checkMembers runs checkCustomerOf for every member of group.
func checkMembers(ctx context.Context, tx store.Tx, g *directory.RoleGraph, group directory.GroupID) error {
	cursor := ""
	for {
		page, err := tx.ListMembers(ctx, directory.Scope{}, group, store.ListQuery{Limit: store.MaxLimit, Cursor: cursor})
		if err != nil {
			return err
		}
		for _, u := range page.Items {
			if u.CustomerID != "" {
				continue
			}
			if err := checkCustomerOf(ctx, tx, g, u); err != nil {
				return err
			}
		}
		if page.Next == "" {
			return nil
		}
		cursor = page.Next
	}
}

// checkRoleHolders runs checkCustomerOf for every user who holds role
// directly or through a group.
func checkRoleHolders(ctx context.Context, tx store.Tx, g *directory.RoleGraph, role directory.RoleID) error {
	cursor := ""
	for {
		page, err := tx.RoleUsers(ctx, directory.Scope{}, role, store.ListQuery{Limit: store.MaxLimit, Cursor: cursor})
		if err != nil {
			return err
		}
		for _, u := range page.Items {
			if u.CustomerID == "" {
				if err := checkCustomerOf(ctx, tx, g, u); err != nil {
					return err
				}
			}
		}
		if page.Next == "" {
			break
		}
		cursor = page.Next
	}
	groups, err := tx.RoleGroups(ctx, role)
	if err != nil {
		return err
	}
	for _, grp := range groups {
		if err := checkMembers(ctx, tx, g, grp.ID); err != nil {
			return err
		}
	}
	return nil
}
