package directory

import "slices"

// SeparationScope is what a user may see of customer-separated records
// (C3, C5): a customer user is restricted to its own customer; every one
// else (an operator) sees all customers. Applications use it to filter their
// own queries.
func SeparationScope(u User, eff RoleSet) Scope {
	if IsCustomerUser(eff, u.CustomerID) {
		return Scope{Customer: u.CustomerID}
	}
	return Scope{}
}

// Requester is the user who requested a workflow, as far as separation
// cares: its customer and whether it is a customer user. A requester that
// no longer exists is the zero value.
type Requester struct {
	CustomerID   CustomerID
	CustomerUser bool
}

// NewRequester describes u (with effective roles eff) as a requester.
func NewRequester(u User, eff RoleSet) Requester {
	return Requester{CustomerID: u.CustomerID, CustomerUser: IsCustomerUser(eff, u.CustomerID)}
}

// CanActOnWorkflow decides C3: a subject restricted to a customer may see
// and act on a workflow only if a customer user of that same customer
// requested it; an unrestricted subject (an operator) may act on all.
func CanActOnWorkflow(subject Scope, requester Requester) bool {
	if !subject.Restricted() {
		return true
	}
	return requester.CustomerUser && requester.CustomerID == subject.Customer
}

// CatalogItem is what the access API knows of a service-catalog entry
// (C4). Without Customers and Groups everyone sees it (the default of the
// product); with either, only users of one of those customers or members of
// one of those groups do.
type CatalogItem struct {
	Customers []CustomerID
	Groups    []GroupID
}

// CanSeeCatalogItem decides C4 for a user with customer and groups.
func CanSeeCatalogItem(customer CustomerID, groups []GroupID, item CatalogItem) bool {
	if len(item.Customers) == 0 && len(item.Groups) == 0 {
		return true
	}
	if customer != "" && slices.Contains(item.Customers, customer) {
		return true
	}
	for _, g := range groups {
		if slices.Contains(item.Groups, g) {
			return true
		}
	}
	return false
}

// ManagedGroups returns the groups that one of groups manages through rels
// (G5, G6), sorted and without duplicates. A relation of a group to itself
// counts: members of a self-managing group see each other.
func ManagedGroups(groups []GroupID, rels []GroupRelation) []GroupID {
	var out []GroupID
	for _, rel := range rels {
		for _, pair := range rel.Manages() {
			if slices.Contains(groups, pair[0]) {
				out = append(out, pair[1])
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
