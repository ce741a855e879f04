package directory

import "testing"

func TestITSMRole(t *testing.T) {
	var roles []Role
	for _, c := range Catalog() {
		roles = append(roles, Role{ID: RoleID(c.Name), Name: c.Name, Type: c.Type})
	}
	var edges []Containment
	for _, c := range Catalog() {
		for _, child := range c.Contains {
			edges = append(edges, Containment{Parent: RoleID(c.Name), Child: RoleID(child)})
		}
	}
	g := NewRoleGraph(roles, edges)
	tests := []struct {
		name     string
		roles    []RoleID
		customer CustomerID
		want     string
		ok       bool
	}{
		{"admin", []RoleID{RoleNameItsmAdmin}, "", ITSMAdministrator, true},
		{"manager", []RoleID{RoleNameItsmManager}, "", ITSMOperationManager, true},
		{"agent", []RoleID{RoleNameItsmUser}, "", ITSMOperationAgent, true},
		{"viewer", []RoleID{RoleNameItsmViewer}, "", ITSMViewer, true},
		{"highest wins", []RoleID{RoleNameItsmViewer, RoleNameItsmUser, RoleNameItsmManager}, "", ITSMOperationManager, true},
		{"through a pre-installed role", []RoleID{RoleNameSystemAdmin}, "", ITSMAdministrator, true},
		{"no itsm role", []RoleID{RoleNameCalendarUser}, "", "", false},
		{"customer user with itsm_user", []RoleID{RoleNameCustomerUser, RoleNameItsmUser}, "c1", "", false},
		{"customer role without customer is no customer user", []RoleID{RoleNameCustomer, RoleNameItsmUser}, "", ITSMOperationAgent, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := ITSMRole(g.Effective(Grants{Direct: tc.roles}), tc.customer)
			if got != tc.want || ok != tc.ok {
				t.Fatalf("ITSMRole = %q, %v; want %q, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}
