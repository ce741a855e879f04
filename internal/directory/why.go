package directory

import (
	"cmp"
	"slices"
	"strings"
)

// Kinds of a GrantStep (R6).
const (
	StepDirect   = "direct"   // the role is assigned to the user
	StepGroup    = "group"    // the role is assigned to a group of the user
	StepImplicit = "implicit" // the implicit user role every user holds (R3)
	StepContains = "contains" // the previous step's role contains this role
)

// MaxWhyPaths caps the paths Why returns. Containment is acyclic, but a
// wide, deep graph can still hold very many paths to one role; the first
// ones in Why's order explain the grant just as well.
const MaxWhyPaths = 100

// GrantStep is one step of a GrantPath (R6). The first step of a path says
// how the user holds its first role (Kind direct, group or implicit; Group
// and GroupName are set for group); each later step has Kind contains and
// names a role that the previous step's role contains.
type GrantStep struct {
	Kind      string
	Group     GroupID
	GroupName string
	Role      RoleID
	RoleName  string
}

// GrantPath is one way a user holds a role (R6), from the grant to the role,
// such as [group "ops" → role "SRE", contains → role "itsm_manager"].
type GrantPath []GrantStep

// String renders p for logs and tests, such as
// `group ops → SRE → itsm_manager`.
func (p GrantPath) String() string {
	var b strings.Builder
	for i, s := range p {
		switch {
		case i > 0:
			b.WriteString(" → ")
		case s.Kind == StepGroup:
			b.WriteString("group " + s.GroupName + " → ")
		default:
			b.WriteString(s.Kind + " → ")
		}
		b.WriteString(s.RoleName)
	}
	return b.String()
}

// Why returns every path by which a user with grants gr holds target (R6):
// direct assignments first, then groups by name, then the implicit user
// role; from each grant, every simple containment path down to target, with
// children taken in name order. The order is deterministic whatever the
// order of gr, and at most MaxWhyPaths paths are returned. A target the
// user does not hold, or an unknown one, gives nil.
func (g *RoleGraph) Why(gr Grants, target RoleID) []GrantPath {
	paths, _ := g.WhyCut(gr, target)
	return paths
}

// WhyCut is Why that also reports whether there are more than
// MaxWhyPaths paths, so that a page can say the list was cut.
func (g *RoleGraph) WhyCut(gr Grants, target RoleID) ([]GrantPath, bool) {
	t, ok := g.byID[target]
	if !ok {
		return nil, false
	}
	w := whyWalk{g: g, target: t, onPath: make(bitset, g.words)}
	for _, i := range g.sortedIndexes(gr.Direct) {
		w.visit(GrantStep{Kind: StepDirect}, i)
	}
	groups := slices.Clone(gr.Groups)
	slices.SortStableFunc(groups, func(a, b GroupGrant) int {
		return cmp.Or(strings.Compare(Key(a.GroupName), Key(b.GroupName)), strings.Compare(string(a.Group), string(b.Group)))
	})
	for _, grp := range groups {
		for _, i := range g.sortedIndexes(grp.Roles) {
			w.visit(GrantStep{Kind: StepGroup, Group: grp.Group, GroupName: grp.GroupName}, i)
		}
	}
	if g.user >= 0 {
		w.visit(GrantStep{Kind: StepImplicit}, g.user)
	}
	return w.paths, w.cut
}

// sortedIndexes returns the dense indexes of the known ids, ascending and
// without duplicates (that is, in name order).
func (g *RoleGraph) sortedIndexes(ids []RoleID) []int32 {
	idx := make([]int32, 0, len(ids))
	for _, id := range ids {
		if i, ok := g.byID[id]; ok {
			idx = append(idx, i)
		}
	}
	slices.Sort(idx)
	return slices.Compact(idx)
}

// whyWalk enumerates the containment paths to one target.
type whyWalk struct {
	g      *RoleGraph
	target int32
	onPath bitset // roles on the current path, so that only simple paths are taken
	path   GrantPath
	paths  []GrantPath
	cut    bool // a path beyond MaxWhyPaths was found and left out
}

// visit adds role i, reached by step, to the path and follows every child that leads to the
// target (the closure rows prune every branch that does not).
func (w *whyWalk) visit(step GrantStep, i int32) {
	if w.cut || !w.g.row(i).has(w.target) || w.onPath.has(i) {
		return
	}
	r := w.g.roles[i]
	step.Role, step.RoleName = r.ID, r.Name
	w.path = append(w.path, step)
	w.onPath.set(i)
	if i == w.target {
		if len(w.paths) == MaxWhyPaths {
			w.cut = true // one more exists: stop and say so
		} else {
			w.paths = append(w.paths, slices.Clone(w.path))
		}
	} else {
		for _, c := range w.g.children[i] {
			w.visit(GrantStep{Kind: StepContains}, c)
		}
	}
	w.onPath.unset(i)
	w.path = w.path[:len(w.path)-1]
}
