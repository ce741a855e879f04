// Package storetest is the conformance suite of store.Store: every
// implementation runs it (sqlstore on SQLite and on PostgreSQL), and every
// sub-test gets a fresh, empty, migrated store from the factory.
package storetest

import (
	"context"
	"fmt"
	"testing"

	"opsiam/internal/directory"
	"opsiam/internal/store"
)

// Factory opens a fresh, empty, migrated store for one test and arranges
// its cleanup.
type Factory func(t *testing.T) store.Store

// Run runs the whole suite against stores made by open.
func Run(t *testing.T, open Factory) {
	suites := []struct {
		name string
		fn   func(t *testing.T, open Factory)
	}{
		{"Users", testUsers},
		{"UserPaging", testUserPaging},
		{"UserCustomerSort", testUserCustomerSort},
		{"UserFilters", testUserFilters},
		{"Groups", testGroups},
		{"Roles", testRoles},
		{"Customers", testCustomers},
		{"Links", testLinks},
		{"Transactions", testTransactions},
		{"Concurrency", testConcurrency},
		{"Audit", testAudit},
		{"Outbox", testOutbox},
		{"OIDCClients", testOIDCClients},
		{"OIDCAuthRequests", testOIDCAuthRequests},
		{"OIDCTokens", testOIDCTokens},
		{"TokenRotation", testTokenRotation},
		{"UserSubject", testUserSubject},
		{"SigningKeys", testSigningKeys},
		{"OIDCSignIns", testOIDCSignIns},
		{"Tokens", testTokens},
		{"UserSearch", testUserSearch},
		{"LinkedUserSearch", testLinkedUserSearch},
		{"UsersGrants", testUsersGrants},
		{"BillingSnapshots", testBillingSnapshots},
		{"Lockout", testLockout},
		{"OTPSecrets", testOTPSecrets},
		{"Sessions", testSessions},
		{"MailLinks", testMailLinks},
		{"LoginLookup", testLoginLookup},
		{"Tombstones", testTombstones},
		{"Deliveries", testDeliveries},
		{"Webhooks", testWebhooks},
		{"IdentityProviders", testIdentityProviders},
		{"Identities", testIdentities},
		{"Passkeys", testPasskeys},
		{"PasskeyCeremonies", testPasskeyCeremonies},
	}
	for _, s := range suites {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel() // each suite opens its own stores
			s.fn(t, open)
		})
	}
}

// newUser builds a valid user whose names derive from name.
func newUser(name string) directory.User {
	return directory.User{
		Username:  name,
		Email:     name + "@example.com",
		FirstName: "First " + name,
		LastName:  "Last " + name,
		Enabled:   true,
		Timezone:  "Asia/Tokyo",
	}
}

func mustUser(t *testing.T, s store.Store, name string) directory.User {
	t.Helper()
	u, err := s.CreateUser(context.Background(), newUser(name))
	if err != nil {
		t.Fatalf("create user %s: %v", name, err)
	}
	return u
}

func mustGroup(t *testing.T, s store.Store, name string) directory.Group {
	t.Helper()
	g, err := s.CreateGroup(context.Background(), directory.Group{Name: name})
	if err != nil {
		t.Fatalf("create group %s: %v", name, err)
	}
	return g
}

func mustRole(t *testing.T, s store.Store, name string, typ directory.RoleType) directory.Role {
	t.Helper()
	r, err := s.CreateRole(context.Background(), directory.Role{Name: name, Type: typ})
	if err != nil {
		t.Fatalf("create role %s: %v", name, err)
	}
	return r
}

func mustCustomer(t *testing.T, s store.Store, code string) directory.Customer {
	t.Helper()
	c, err := s.CreateCustomer(context.Background(), directory.Customer{Code: code, Name: "Customer " + code, State: directory.CustomerValid})
	if err != nil {
		t.Fatalf("create customer %s: %v", code, err)
	}
	return c
}

// collect pages through a list and returns every item.
func collect[T any](t *testing.T, list func(cursor string) (store.Page[T], error)) []T {
	t.Helper()
	var out []T
	cursor := ""
	for i := 0; ; i++ {
		if i > 10000 {
			t.Fatal("paging does not end")
		}
		p, err := list(cursor)
		if err != nil {
			t.Fatalf("list: %v", err)
		}
		out = append(out, p.Items...)
		if p.Next == "" {
			return out
		}
		cursor = p.Next
	}
}

func names[T any](items []T, name func(T) string) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = name(it)
	}
	return out
}

func userName(u directory.User) string { return u.Username }

func equal(a, b []string) bool { return fmt.Sprint(a) == fmt.Sprint(b) }
