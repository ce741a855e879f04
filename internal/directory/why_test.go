package directory

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestWhy(t *testing.T) {
	g := testGraph([]string{"SRE", "Oncall"},
		[2]string{"SRE", RoleNameItsmManager}, [2]string{"SRE", "Oncall"}, [2]string{"Oncall", RoleNameItsmManager},
		[2]string{"Oncall", RoleNameSiteReliabilityEngineer})
	ops := GroupGrant{Group: "g-ops", GroupName: "ops", Roles: []RoleID{"SRE"}}
	audit := GroupGrant{Group: "g-audit", GroupName: "Audit", Roles: []RoleID{RoleNameManager, "SRE"}}
	tests := []struct {
		name   string
		grants Grants
		target RoleID
		want   []string
	}{
		{"direct", Grants{Direct: []RoleID{RoleNameItsmViewer}}, RoleNameItsmViewer,
			[]string{"direct → itsm_viewer"}},
		{"via group and contains", Grants{Groups: []GroupGrant{ops}}, RoleNameItsmManager, []string{
			"group ops → SRE → itsm_manager",
			"group ops → SRE → Oncall → itsm_manager",
			"group ops → SRE → Oncall → Site Reliability Engineer → itsm_manager",
		}},
		{"direct first, then groups by name, then implicit",
			Grants{Direct: []RoleID{RoleNameManager}, Groups: []GroupGrant{ops, audit}}, RoleNameManager, []string{
				"direct → Manager",
				"group Audit → Manager",
			}},
		{"same grants in another order give the same paths",
			Grants{Groups: []GroupGrant{audit, ops}}, RoleNameUserViewer, []string{
				"group Audit → Manager → user_viewer",
				"group Audit → SRE → Oncall → Site Reliability Engineer → user_viewer",
				"group ops → SRE → Oncall → Site Reliability Engineer → user_viewer",
			}},
		{"implicit user role", Grants{}, RoleNameUser, []string{"implicit → user"}},
		{"a role the user does not hold", Grants{Groups: []GroupGrant{ops}}, RoleNameCustomer, nil},
		{"an unknown role", Grants{}, "nope", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			paths := g.Why(tc.grants, tc.target)
			got := make([]string, len(paths))
			for i, p := range paths {
				got[i] = p.String()
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("Why =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestWhySteps(t *testing.T) {
	g := testGraph([]string{"SRE"}, [2]string{"SRE", RoleNameItsmManager})
	paths := g.Why(Grants{Groups: []GroupGrant{{Group: "g-ops", GroupName: "ops", Roles: []RoleID{"SRE"}}}}, RoleNameItsmManager)
	want := []GrantPath{{
		{Kind: StepGroup, Group: "g-ops", GroupName: "ops", Role: "SRE", RoleName: "SRE"},
		{Kind: StepContains, Role: RoleNameItsmManager, RoleName: RoleNameItsmManager},
	}}
	if !slices.EqualFunc(paths, want, slices.Equal) {
		t.Fatalf("got %+v, want %+v", paths, want)
	}
}

func TestWhyIsCapped(t *testing.T) {
	// Ten layers of two roles, each containing both roles of the next layer:
	// 2^10 paths from the top to the bottom.
	var roles []Role
	var edges []Containment
	id := func(layer, k int) RoleID { return RoleID(fmt.Sprintf("L%02d-%d", layer, k)) }
	for l := 0; l <= 10; l++ {
		for k := range 2 {
			roles = append(roles, Role{ID: id(l, k), Name: string(id(l, k)), Type: RoleCustom})
			for c := range 2 {
				if l < 10 {
					edges = append(edges, Containment{Parent: id(l, k), Child: id(l+1, c)})
				}
			}
		}
	}
	g := NewRoleGraph(roles, edges)
	if got := len(g.Why(Grants{Direct: []RoleID{id(0, 0)}}, id(10, 0))); got != MaxWhyPaths {
		t.Fatalf("got %d paths, want the cap %d", got, MaxWhyPaths)
	}
	// WhyCut tells that the list was cut; exactly MaxWhyPaths paths are not.
	if paths, cut := g.WhyCut(Grants{Direct: []RoleID{id(0, 0)}}, id(10, 0)); !cut || len(paths) != MaxWhyPaths {
		t.Fatalf("WhyCut: %d paths, cut %v", len(paths), cut)
	}
	if paths, cut := g.WhyCut(Grants{Direct: []RoleID{id(2, 0)}}, id(10, 0)); !cut || len(paths) != MaxWhyPaths { // 2^7 = 128 paths
		t.Fatalf("128 paths: %d listed, cut %v", len(paths), cut)
	}
	if paths, cut := g.WhyCut(Grants{Direct: []RoleID{id(3, 0)}}, id(10, 0)); cut || len(paths) != 64 { // 2^6
		t.Fatalf("64 paths: %d listed, cut %v", len(paths), cut)
	}
}
