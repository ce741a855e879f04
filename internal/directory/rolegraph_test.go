package directory

import (
	"slices"
	"testing"
)

func TestRoleGraphLookups(t *testing.T) {
	g := NewRoleGraph([]Role{
		{ID: "3", Name: "beta", Type: RoleCustom},
		{ID: "1", Name: "Alpha", Type: RoleCustom},
		{ID: "2", Name: "gamma", Type: RoleCustom},
		{ID: "1", Name: "duplicate id is ignored", Type: RoleCustom},
	}, []Containment{
		{Parent: "1", Child: "2"}, {Parent: "1", Child: "3"}, {Parent: "1", Child: "2"},
		{Parent: "1", Child: "missing"}, {Parent: "missing", Child: "2"}, {Parent: "2", Child: "2"},
	})
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"Role by id", must(g.Role("1")).Name, "Alpha"},
		{"ByName ignores case", must(g.ByName("ALPHA")).ID, RoleID("1")},
		{"ByName trims", must(g.ByName(" beta ")).ID, RoleID("3")},
		{"Roles sorted by name, duplicates dropped", names(g.Roles()), []string{"Alpha", "beta", "gamma"}},
		{"Contains: direct children by name, unknown and self edges ignored", g.Contains("1"), []RoleID{"3", "2"}},
		{"Contains of a leaf", g.Contains("2"), []RoleID{}},
		{"Contains of an unknown role", g.Contains("missing"), []RoleID(nil)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !equalAny(tc.got, tc.want) {
				t.Fatalf("got %v, want %v", tc.got, tc.want)
			}
		})
	}
	if _, ok := g.Role("missing"); ok {
		t.Error("unknown id found")
	}
	if _, ok := g.ByName("delta"); ok {
		t.Error("unknown name found")
	}
}

func must(r Role, ok bool) Role {
	if !ok {
		return Role{Name: "<not found>"}
	}
	return r
}

func names(roles []Role) []string {
	out := make([]string, len(roles))
	for i, r := range roles {
		out[i] = r.Name
	}
	return out
}

func equalAny(a, b any) bool {
	switch a := a.(type) {
	case []string:
		return slices.Equal(a, b.([]string))
	case []RoleID:
		bb := b.([]RoleID)
		return (a == nil) == (bb == nil) && slices.Equal(a, bb)
	default:
		return a == b
	}
}

func TestCheckContain(t *testing.T) {
	g := testGraph([]string{"A", "B", "C", "D"},
		[2]string{"A", "B"}, [2]string{"B", "C"}, [2]string{"C", RoleNameCustomerUser})
	tests := []struct {
		name          string
		parent, child RoleID
		wantCode      string
	}{
		{"custom contains primitive", "D", RoleNameItsmUser, ""},
		{"custom contains pre-installed", "D", RoleNameManager, ""},
		{"custom contains custom", "D", "A", ""},
		{"containing again changes nothing", "A", "B", ""},
		{"shortcut to a grandchild is no cycle", "A", "C", ""},
		{"cycle A→B→C→A refused", "C", "A", CodeCycle},
		{"two-step cycle refused", "B", "A", CodeCycle},
		{"self containment refused", "A", "A", CodeCycle},
		{"pre-installed cannot be given roles", RoleNameManager, "A", CodePredefined},
		{"primitive cannot be given roles", RoleNameItsmUser, RoleNameCustomer, CodePredefined},
		{"unknown parent", "nope", "A", CodeInvalid},
		{"unknown child", "A", "nope", CodeInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := g.CheckContain(tc.parent, tc.child)
			if tc.wantCode == "" {
				wantField(t, err, "", "")
				return
			}
			wantField(t, err, "role_ids", tc.wantCode)
		})
	}
}

func TestClosureSurvivesDamagedCycles(t *testing.T) {
	// Stored data never holds a cycle, but the graph must not loop or lose
	// roles if it does: X→Y→Z→X, and W above the cycle.
	var roles []Role
	for _, n := range []string{"W", "X", "Y", "Z", "leaf"} {
		roles = append(roles, Role{ID: RoleID(n), Name: n, Type: RoleCustom})
	}
	g := NewRoleGraph(roles, []Containment{
		{Parent: "W", Child: "X"}, {Parent: "X", Child: "Y"}, {Parent: "Y", Child: "Z"},
		{Parent: "Z", Child: "X"}, {Parent: "Z", Child: "leaf"},
	})
	tests := []struct {
		from RoleID
		want []RoleID
	}{
		{"W", []RoleID{"leaf", "W", "X", "Y", "Z"}},
		{"Y", []RoleID{"leaf", "X", "Y", "Z"}},
		{"leaf", []RoleID{"leaf"}},
	}
	for _, tc := range tests {
		t.Run(string(tc.from), func(t *testing.T) {
			if got := g.Expand(tc.from).IDs(); !slices.Equal(got, tc.want) {
				t.Fatalf("Expand(%s) = %v, want %v", tc.from, got, tc.want)
			}
		})
	}
}
