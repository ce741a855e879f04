package directory

import (
	"slices"
	"testing"
)

func TestSeparation(t *testing.T) {
	g := NewRoleGraph([]Role{
		{ID: "u", Name: RoleNameUser, Type: RolePrimitive},
		{ID: "c", Name: RoleNameCustomer, Type: RolePrimitive},
		{ID: "cu", Name: RoleNameCustomerUser, Type: RolePreInstalled},
		{ID: "itsm", Name: RoleNameItsmUser, Type: RolePrimitive},
	}, []Containment{{Parent: "cu", Child: "c"}})
	customerA := g.Effective(Grants{Direct: []RoleID{"cu"}})
	operator := g.Effective(Grants{Direct: []RoleID{"itsm"}})
	tests := []struct {
		name      string
		subject   Scope
		requester Requester
		want      bool
	}{
		{"operator on customer workflow", Scope{}, Requester{CustomerID: "A", CustomerUser: true}, true},
		{"operator on operator workflow", Scope{}, Requester{}, true},
		{"customer on own customer's workflow", Scope{Customer: "A"}, Requester{CustomerID: "A", CustomerUser: true}, true},
		{"customer on other customer's workflow", Scope{Customer: "A"}, Requester{CustomerID: "B", CustomerUser: true}, false},
		{"customer on operator workflow", Scope{Customer: "A"}, Requester{}, false},
		{"customer on workflow of a non-customer user of its customer", Scope{Customer: "A"}, Requester{CustomerID: "A"}, false},
		{"customer on workflow of a deleted requester", Scope{Customer: "A"}, Requester{}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := CanActOnWorkflow(tc.subject, tc.requester); got != tc.want {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
	if s := SeparationScope(User{CustomerID: "A"}, customerA); s.Customer != "A" {
		t.Fatalf("customer user scope %+v", s)
	}
	if s := SeparationScope(User{CustomerID: "A"}, operator); s.Restricted() {
		t.Fatalf("operator with a customer set is restricted: %+v", s)
	}
	if r := NewRequester(User{CustomerID: "A"}, customerA); !r.CustomerUser {
		t.Fatal("customer user requester not recognised")
	}
}

func TestCatalogItem(t *testing.T) {
	tests := []struct {
		name     string
		customer CustomerID
		groups   []GroupID
		item     CatalogItem
		want     bool
	}{
		{"unrestricted item, operator", "", nil, CatalogItem{}, true},
		{"unrestricted item, customer", "A", nil, CatalogItem{}, true},
		{"item for customer A, user of A", "A", nil, CatalogItem{Customers: []CustomerID{"A"}}, true},
		{"item for customer A, user of B", "B", nil, CatalogItem{Customers: []CustomerID{"A"}}, false},
		{"item for customer A, operator", "", []GroupID{"ops"}, CatalogItem{Customers: []CustomerID{"A"}}, false},
		{"item for group ops, member", "", []GroupID{"x", "ops"}, CatalogItem{Groups: []GroupID{"ops"}}, true},
		{"item for A or ops, member of ops from B", "B", []GroupID{"ops"}, CatalogItem{Customers: []CustomerID{"A"}, Groups: []GroupID{"ops"}}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := CanSeeCatalogItem(tc.customer, tc.groups, tc.item); got != tc.want {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestManagedGroups(t *testing.T) {
	rels := []GroupRelation{
		{From: "a", To: "b", Type: RelationManage},
		{From: "c", To: "a", Type: RelationManaged}, // a manages c
		{From: "d", To: "a", Type: RelationManage},  // d manages a
		{From: "a", To: "a", Type: RelationManage},  // a manages itself
		{From: "e", To: "f", Type: RelationBoth},
	}
	tests := []struct {
		groups []GroupID
		want   []GroupID
	}{
		{[]GroupID{"a"}, []GroupID{"a", "b", "c"}},
		{[]GroupID{"d"}, []GroupID{"a"}},
		{[]GroupID{"f"}, []GroupID{"e"}},
		{[]GroupID{"b"}, nil},
	}
	for _, tc := range tests {
		if got := ManagedGroups(tc.groups, rels); !slices.Equal(got, tc.want) {
			t.Errorf("ManagedGroups(%v) = %v, want %v", tc.groups, got, tc.want)
		}
	}
}
