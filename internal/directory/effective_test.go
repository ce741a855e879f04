package directory

import (
	"slices"
	"testing"
)

func TestEffective(t *testing.T) {
	// SRE-Team contains Night Shift, which contains the pre-installed
	// Site Reliability Engineer, which contains its primitives.
	g := testGraph([]string{"SRE-Team", "Night Shift", "Unused"},
		[2]string{"SRE-Team", "Night Shift"}, [2]string{"Night Shift", RoleNameSiteReliabilityEngineer})
	tests := []struct {
		name   string
		grants Grants
		want   []string
	}{
		{"no grants: only the implicit user role", Grants{}, []string{"user"}},
		{"direct primitive", Grants{Direct: []RoleID{RoleNameItsmViewer}}, []string{"itsm_viewer", "user"}},
		{"direct pre-installed with its primitives", Grants{Direct: []RoleID{RoleNameCustomerManager}},
			[]string{"customer", "Customer Manager", "customer_admin", "user"}},
		{"through a group whose role contains a role that contains another",
			Grants{Groups: []GroupGrant{{Group: "g1", GroupName: "ops", Roles: []RoleID{"SRE-Team"}}}},
			[]string{"automation_manager", "calendar_user", "itsm_manager", "Night Shift", "repository_admin",
				"Site Reliability Engineer", "SRE-Team", "user", "user_viewer"}},
		{"direct, groups and duplicates are united",
			Grants{Direct: []RoleID{RoleNameFreeUser, RoleNameFreeUser}, Groups: []GroupGrant{
				{Group: "g1", Roles: []RoleID{RoleNameCustomerUser}}, {Group: "g2", Roles: []RoleID{RoleNameCustomer, RoleNameFreeUser}}}},
			[]string{"customer", "Customer User", "free_user", "user"}},
		{"unknown ids are ignored", Grants{Direct: []RoleID{"gone"}, Groups: []GroupGrant{{Roles: []RoleID{"also gone"}}}},
			[]string{"user"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			eff := g.Effective(tc.grants)
			if got := eff.Names(); !slices.Equal(got, tc.want) {
				t.Fatalf("effective roles %v, want %v", got, tc.want)
			}
			if eff.Len() != len(tc.want) || len(eff.IDs()) != len(tc.want) || len(eff.Roles()) != len(tc.want) {
				t.Errorf("Len %d, IDs %d, Roles %d, want %d", eff.Len(), len(eff.IDs()), len(eff.Roles()), len(tc.want))
			}
			for _, n := range tc.want {
				r, _ := g.ByName(n)
				if !eff.Has(r.ID) || !eff.HasName(n) {
					t.Errorf("Has/HasName(%s) false", n)
				}
			}
			if eff.Has("Unused") || eff.HasName("unused") {
				t.Error("a role nobody holds is in the set")
			}
		})
	}
}

func TestEffectiveWithoutUserRole(t *testing.T) {
	g := NewRoleGraph([]Role{{ID: "a", Name: "a", Type: RoleCustom}, {ID: "u", Name: "user", Type: RoleCustom}}, nil)
	if got := g.Effective(Grants{}).Len(); got != 0 {
		t.Fatalf("a graph without the user primitive gave %d roles", got)
	}
}

func TestExpand(t *testing.T) {
	g := testGraph([]string{"A", "B"}, [2]string{"A", "B"}, [2]string{"B", RoleNameOutpost})
	tests := []struct {
		name string
		ids  []RoleID
		want []string
	}{
		{"nothing", nil, []string{}},
		{"a group's effective roles, without the implicit user role", []RoleID{"A"},
			[]string{"A", "automation_auditor", "B", "Outpost", RoleNameOutpostAgent}},
		{"a leaf", []RoleID{RoleNameFreeUser}, []string{"free_user"}},
		{"several and unknown", []RoleID{RoleNameCustomerUser, "nope", RoleNameItsmUser}, []string{"customer", "Customer User", "itsm_user"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := g.Expand(tc.ids...).Names(); !slices.Equal(got, tc.want) {
				t.Fatalf("Expand = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestZeroRoleSet(t *testing.T) {
	var s RoleSet
	if s.Has("x") || s.HasName("user") || s.Len() != 0 || len(s.IDs()) != 0 || len(s.Roles()) != 0 || s.Permits(PermUserRead) {
		t.Fatal("the zero RoleSet is not empty")
	}
}
