package directory

import (
	"cmp"
	"slices"
	"strings"
)

// RoleGraph is the in-memory graph of roles and their containment (R3). It
// gives every role a dense index and precomputes, once, each role's
// transitive closure (the role and everything it contains) as a bitset, so
// that effective roles are unions of bitsets and never a query or a
// recursion per role (STYLE P14).
//
// A RoleGraph is immutable once built and safe for concurrent use. Build a
// new one when roles or containments change.
type RoleGraph struct {
	roles    []Role           // dense index order: by Key(Name), then by ID
	byID     map[RoleID]int32 // role id to dense index
	byName   map[string]int32 // Key(Name) to dense index; the first role wins on a clash
	children [][]int32        // direct children, ascending (that is, by name)
	words    int              // uint64 words in one bitset
	closure  []uint64         // row i (words long): role i and every role it contains
	user     int32            // index of the implicit user primitive, -1 when absent
	permits  map[Permission][]int32
}

// NewRoleGraph builds the graph of roles and the containments between them
// (R3). Duplicate role ids keep the first role; containments naming an
// unknown role, or a role containing itself, are ignored. Stored data never
// holds a cycle (CheckContain refuses them), but should it, the closure is
// still computed correctly.
func NewRoleGraph(roles []Role, edges []Containment) *RoleGraph {
	type keyed struct {
		key  string
		role Role
	}
	uniq := make([]keyed, 0, len(roles))
	seen := make(map[RoleID]struct{}, len(roles))
	for _, r := range roles {
		if _, dup := seen[r.ID]; dup {
			continue
		}
		seen[r.ID] = struct{}{}
		uniq = append(uniq, keyed{Key(r.Name), r})
	}
	slices.SortFunc(uniq, func(a, b keyed) int {
		return cmp.Or(strings.Compare(a.key, b.key), strings.Compare(string(a.role.ID), string(b.role.ID)))
	})
	n := len(uniq)
	g := &RoleGraph{
		roles:    make([]Role, n),
		byID:     make(map[RoleID]int32, n),
		byName:   make(map[string]int32, n),
		children: make([][]int32, n),
		words:    (n + 63) / 64,
		user:     -1,
		permits:  make(map[Permission][]int32),
	}
	for i, k := range uniq {
		g.roles[i] = k.role
		g.byID[k.role.ID] = int32(i)
		if _, clash := g.byName[k.key]; !clash {
			g.byName[k.key] = int32(i)
		}
	}
	for _, e := range edges {
		p, okP := g.byID[e.Parent]
		c, okC := g.byID[e.Child]
		if okP && okC && p != c {
			g.children[p] = append(g.children[p], c)
		}
	}
	for i := range g.children {
		slices.Sort(g.children[i])
		g.children[i] = slices.Compact(g.children[i])
	}
	g.computeClosure()
	if i, ok := g.byName[RoleNameUser]; ok && g.roles[i].Type == RolePrimitive {
		g.user = i
	}
	for _, cr := range Catalog() {
		i, ok := g.byName[Key(cr.Name)]
		if !ok || g.roles[i].Type != RolePrimitive {
			continue
		}
		for _, p := range cr.Permits {
			g.permits[p] = append(g.permits[p], i)
		}
	}
	return g
}

// row returns the closure bitset of role i.
func (g *RoleGraph) row(i int32) bitset {
	off := int(i) * g.words
	return bitset(g.closure[off : off+g.words : off+g.words])
}

// computeClosure fills the closure rows. Roles are finished leaves first
// (Kahn's order on the reversed graph), so a role's row is itself plus the
// union of its children's finished rows: O(edges × words) for the acyclic
// graphs that CheckContain guarantees. Roles on or above a cycle, which only
// damaged data can hold, get a walk of their own.
func (g *RoleGraph) computeClosure() {
	n := len(g.roles)
	g.closure = make([]uint64, n*g.words)
	pending := make([]int32, n) // children not yet finished
	parents := make([][]int32, n)
	queue := make([]int32, 0, n)
	for p, cs := range g.children {
		pending[p] = int32(len(cs))
		for _, c := range cs {
			parents[c] = append(parents[c], int32(p))
		}
		if len(cs) == 0 {
			queue = append(queue, int32(p))
		}
	}
	done := make([]bool, n)
	for len(queue) > 0 {
		i := queue[len(queue)-1]
		queue = queue[:len(queue)-1]
		row := g.row(i)
		row.set(i)
		for _, c := range g.children[i] {
			row.or(g.row(c))
		}
		done[i] = true
		for _, p := range parents[i] {
			if pending[p]--; pending[p] == 0 {
				queue = append(queue, p)
			}
		}
	}
	for i := range n {
		if !done[i] {
			g.walkClosure(int32(i), done)
		}
	}
}

// walkClosure fills row i by a depth-first walk, reusing finished rows.
func (g *RoleGraph) walkClosure(i int32, done []bool) {
	row := g.row(i)
	row.set(i)
	stack := []int32{i}
	for len(stack) > 0 {
		x := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, c := range g.children[x] {
			if row.has(c) {
				continue
			}
			row.set(c)
			if done[c] {
				row.or(g.row(c))
			} else {
				stack = append(stack, c)
			}
		}
	}
}

// Role returns the role with id (R1).
func (g *RoleGraph) Role(id RoleID) (Role, bool) {
	i, ok := g.byID[id]
	if !ok {
		return Role{}, false
	}
	return g.roles[i], true
}

// ByName returns the role named name, compared ignoring case (§8: role names
// are unique ignoring case).
func (g *RoleGraph) ByName(name string) (Role, bool) {
	i, ok := g.byName[Key(name)]
	if !ok {
		return Role{}, false
	}
	return g.roles[i], true
}

// Roles returns every role of the graph, sorted by name ignoring case (R1,
// the console's role list).
func (g *RoleGraph) Roles() []Role { return slices.Clone(g.roles) }

// Contains returns the roles that parent contains directly, sorted by name
// (the "roles it contains" tab of R4). Use Expand for the transitive set.
func (g *RoleGraph) Contains(parent RoleID) []RoleID {
	i, ok := g.byID[parent]
	if !ok {
		return nil
	}
	ids := make([]RoleID, len(g.children[i]))
	for k, c := range g.children[i] {
		ids[k] = g.roles[c].ID
	}
	return ids
}

// CheckContain decides whether parent may be given child to contain (R2,
// R3). It refuses, as FieldErrors on field role_ids: an unknown role
// (invalid); a parent that is not a Custom role, because predefined roles
// contain exactly what the catalogue says (predefined); and a containment
// that would close a cycle: the role itself, or a child that already
// contains the parent, directly or not (cycle). Containing a role that is
// already contained is allowed (it changes nothing).
func (g *RoleGraph) CheckContain(parent, child RoleID) error {
	p, okP := g.byID[parent]
	c, okC := g.byID[child]
	switch {
	case !okP:
		return fieldErr("role_ids", CodeInvalid, "Role %q does not exist.", string(parent))
	case !okC:
		return fieldErr("role_ids", CodeInvalid, "Role %q does not exist.", string(child))
	}
	pr, cr := g.roles[p], g.roles[c]
	switch {
	case pr.Type != RoleCustom:
		return fieldErr("role_ids", CodePredefined,
			"Role %q is predefined and contains exactly the roles of the catalogue; only custom roles can be given roles to contain.", pr.Name)
	case p == c:
		return fieldErr("role_ids", CodeCycle, "Role %q cannot contain itself.", pr.Name)
	case g.row(c).has(p):
		return fieldErr("role_ids", CodeCycle,
			"Role %q cannot contain %q, because %q already contains %q: that would be a cycle.", pr.Name, cr.Name, cr.Name, pr.Name)
	}
	return nil
}
