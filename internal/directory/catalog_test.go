package directory

import (
	"slices"
	"testing"
)

// catalogData returns the catalogue as roles and containments, each role's
// id being its name, as the server would install it.
func catalogData() ([]Role, []Containment) {
	var roles []Role
	var edges []Containment
	for _, cr := range Catalog() {
		roles = append(roles, Role{ID: RoleID(cr.Name), Name: cr.Name, Type: cr.Type, Description: cr.Description})
		for _, c := range cr.Contains {
			edges = append(edges, Containment{Parent: RoleID(cr.Name), Child: RoleID(c)})
		}
	}
	return roles, edges
}

// testGraph returns the catalogue plus custom roles with the given names
// and containments, written as parent, child pairs of names (= ids).
func testGraph(custom []string, edges ...[2]string) *RoleGraph {
	roles, cs := catalogData()
	for _, n := range custom {
		roles = append(roles, Role{ID: RoleID(n), Name: n, Type: RoleCustom})
	}
	for _, e := range edges {
		cs = append(cs, Containment{Parent: RoleID(e[0]), Child: RoleID(e[1])})
	}
	return NewRoleGraph(roles, cs)
}

func TestCatalog(t *testing.T) {
	cat := Catalog()
	byKey := map[string]CatalogRole{}
	for _, cr := range cat {
		t.Run(cr.Name, func(t *testing.T) {
			if _, dup := byKey[Key(cr.Name)]; dup {
				t.Fatalf("name %q is not unique ignoring case", cr.Name)
			}
			byKey[Key(cr.Name)] = cr
			if errs := ValidateRole(Role{Name: cr.Name, Type: cr.Type, Description: cr.Description}); len(errs) > 0 {
				t.Errorf("does not pass ValidateRole: %v", errs)
			}
			if !cr.Type.Predefined() {
				t.Errorf("type %q is not predefined", cr.Type)
			}
			if cr.Type == RolePrimitive && len(cr.Contains) > 0 {
				t.Errorf("primitive contains %v", cr.Contains)
			}
			if cr.Type == RolePreInstalled && (len(cr.Permits) > 0 || len(cr.Contains) == 0) {
				t.Errorf("pre-installed role must contain primitives and permit nothing itself")
			}
		})
	}
	for _, cr := range cat {
		for _, c := range cr.Contains {
			child, ok := byKey[Key(c)]
			if !ok {
				t.Errorf("%s contains unknown role %q", cr.Name, c)
			} else if child.Type != RolePrimitive {
				t.Errorf("%s contains %q, which is not primitive", cr.Name, c)
			}
		}
	}
	if &Catalog()[0] == &cat[0] {
		t.Error("Catalog does not return a fresh copy")
	}
}

func TestCatalogContents(t *testing.T) {
	tests := []struct {
		role     string
		contains []string
		permits  []Permission
	}{
		{RoleNameSystemSecurityAdmin, []string{"user_admin", "token_admin", "itsm_admin", "repository_admin", "automation_manager", "calendar_user"}, nil},
		{RoleNameSystemAdmin, []string{"user_admin", "itsm_admin", "repository_admin", "automation_manager", "calendar_user"}, nil},
		{RoleNameManager, []string{"user_viewer", "itsm_manager", "automation_auditor", "calendar_user"}, nil},
		{RoleNameSystemDevelopmentEngineer, []string{"repository_admin", "automation_user", "itsm_user", "calendar_user"}, nil},
		{RoleNameSiteReliabilityEngineer, []string{"user_viewer", "repository_admin", "automation_manager", "itsm_manager", "calendar_user"}, nil},
		{RoleNameOutpost, []string{RoleNameOutpostAgent, "automation_auditor"}, nil},
		{RoleNameCustomerUser, []string{"customer"}, nil},
		{RoleNameCustomerManager, []string{"customer", "customer_admin"}, nil},
		{RoleNameUserAdmin, nil, []Permission{PermUserRead, PermUserWrite, PermAuditRead, PermClientWrite, PermBillingRead}},
		{RoleNameUserViewer, nil, []Permission{PermUserRead, PermBillingRead}},
		{RoleNameTokenAdmin, nil, []Permission{PermTokenAdmin}},
		{RoleNameCustomerAdmin, nil, []Permission{PermCustomerAdmin}},
		{RoleNameUser, nil, nil},
		{RoleNameFreeUser, nil, nil},
	}
	cat := Catalog()
	for _, tc := range tests {
		t.Run(tc.role, func(t *testing.T) {
			i := slices.IndexFunc(cat, func(cr CatalogRole) bool { return cr.Name == tc.role })
			if i < 0 {
				t.Fatal("missing from the catalogue")
			}
			if !slices.Equal(cat[i].Contains, tc.contains) || !slices.Equal(cat[i].Permits, tc.permits) {
				t.Errorf("contains %v permits %v, want %v and %v", cat[i].Contains, cat[i].Permits, tc.contains, tc.permits)
			}
		})
	}
	primitives := 0
	for _, cr := range cat {
		if cr.Type == RolePrimitive {
			primitives++
		}
	}
	if primitives != 17 || len(cat) != 25 {
		t.Errorf("%d primitives of %d roles, want 17 of 25", primitives, len(cat))
	}
}

func TestPermits(t *testing.T) {
	g := testGraph([]string{"Auditors", "Helpers"}, [2]string{"Helpers", RoleNameSystemSecurityAdmin})
	tests := []struct {
		name   string
		grants Grants
		perm   Permission
		want   bool
	}{
		{"plain user reads nothing", Grants{}, PermUserRead, false},
		{"viewer reads users", Grants{Direct: []RoleID{RoleNameUserViewer}}, PermUserRead, true},
		{"viewer writes nothing", Grants{Direct: []RoleID{RoleNameUserViewer}}, PermUserWrite, false},
		{"manager reads billing through user_viewer", Grants{Direct: []RoleID{RoleNameManager}}, PermBillingRead, true},
		{"custom role containing a bundle issues tokens", Grants{Direct: []RoleID{"Helpers"}}, PermTokenAdmin, true},
		{"system administrator issues no tokens", Grants{Direct: []RoleID{RoleNameSystemAdmin}}, PermTokenAdmin, false},
		{"customer manager administers its customer", Grants{Groups: []GroupGrant{{Roles: []RoleID{RoleNameCustomerManager}}}}, PermCustomerAdmin, true},
		{"empty custom role permits nothing", Grants{Direct: []RoleID{"Auditors"}}, PermAuditRead, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := g.Effective(tc.grants).Permits(tc.perm); got != tc.want {
				t.Fatalf("Permits(%s) = %v, want %v", tc.perm, got, tc.want)
			}
		})
	}
	// A custom role that merely shares no name with a primitive permits nothing;
	// a non-primitive role named like one (damaged data) permits nothing either.
	fake := NewRoleGraph([]Role{{ID: "x", Name: RoleNameUserAdmin, Type: RoleCustom}}, nil)
	if fake.Expand("x").Permits(PermUserWrite) {
		t.Error("a custom role named user_admin permits user.write")
	}
}
