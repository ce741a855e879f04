package directory

// GroupGrant is a group of a user and the roles assigned to that group
// directly (G2). GroupName is carried for the "why" view (R6).
type GroupGrant struct {
	Group     GroupID
	GroupName string
	Roles     []RoleID
}

// Grants is what a user holds before containment is expanded (R3): its
// directly assigned roles and the roles of each of its groups (including
// global, G4). The implicit user role is added by Effective.
type Grants struct {
	Direct []RoleID
	Groups []GroupGrant
}

// Expand returns ids and every role they contain, transitively (R3, G2's
// effective roles of a group). Unknown ids are ignored.
func (g *RoleGraph) Expand(ids ...RoleID) RoleSet {
	s := RoleSet{g: g, bits: make(bitset, g.words)}
	g.addAll(s.bits, ids)
	return s
}

// Effective returns a user's effective roles (R3): its direct roles, the
// roles of its groups, the implicit `user` primitive, and everything those
// contain. It is one union of precomputed closure rows (STYLE P14): no
// recursion, one allocation. Unknown ids are ignored.
func (g *RoleGraph) Effective(gr Grants) RoleSet {
	s := RoleSet{g: g, bits: make(bitset, g.words)}
	if g.user >= 0 {
		s.bits.or(g.row(g.user))
	}
	g.addAll(s.bits, gr.Direct)
	for _, grp := range gr.Groups {
		g.addAll(s.bits, grp.Roles)
	}
	return s
}

// addAll adds the closure of every known id to b.
func (g *RoleGraph) addAll(b bitset, ids []RoleID) {
	for _, id := range ids {
		if i, ok := g.byID[id]; ok && !b.has(i) { // a member's closure is already in b
			b.or(g.row(i))
		}
	}
}
