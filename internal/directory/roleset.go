package directory

import "math/bits"

// bitset is a set of dense role indexes of one RoleGraph.
type bitset []uint64

func (b bitset) set(i int32)      { b[i>>6] |= 1 << (uint(i) & 63) }
func (b bitset) unset(i int32)    { b[i>>6] &^= 1 << (uint(i) & 63) }
func (b bitset) has(i int32) bool { return b[i>>6]&(1<<(uint(i)&63)) != 0 }

// or adds every member of o to b; both have the same length.
func (b bitset) or(o bitset) {
	o = o[:len(b)]
	for k := range b {
		b[k] |= o[k]
	}
}

// each calls fn with every member of b in ascending order.
func (b bitset) each(fn func(i int32)) {
	for k, w := range b {
		for w != 0 {
			fn(int32(k*64 + bits.TrailingZeros64(w)))
			w &= w - 1
		}
	}
}

// RoleSet is a set of roles of one RoleGraph, such as a user's effective
// roles (R3) or a role's expansion. It is a value: copying it is cheap and
// it never changes. The zero RoleSet is empty.
type RoleSet struct {
	g    *RoleGraph
	bits bitset
}

// Has reports whether the role with id is in s (R5: permission checks go
// through effective roles).
func (s RoleSet) Has(id RoleID) bool {
	if s.g == nil {
		return false
	}
	i, ok := s.g.byID[id]
	return ok && s.bits.has(i)
}

// HasName reports whether the role named name (ignoring case, §8) is in s,
// as C2 and B1 ask for customer and free_user.
func (s RoleSet) HasName(name string) bool {
	if s.g == nil {
		return false
	}
	i, ok := s.g.byName[Key(name)]
	return ok && s.bits.has(i)
}

// IDs returns the ids of the roles in s, sorted by role name (the
// effective-roles endpoints of §7).
func (s RoleSet) IDs() []RoleID {
	ids := make([]RoleID, 0, s.Len())
	s.bits.each(func(i int32) { ids = append(ids, s.g.roles[i].ID) })
	return ids
}

// Roles returns the roles in s, sorted by name ignoring case (U11, G2).
func (s RoleSet) Roles() []Role {
	roles := make([]Role, 0, s.Len())
	s.bits.each(func(i int32) { roles = append(roles, s.g.roles[i]) })
	return roles
}

// Names returns the names of the roles in s, sorted ignoring case; the form
// carried in token claims (S2).
func (s RoleSet) Names() []string {
	names := make([]string, 0, s.Len())
	s.bits.each(func(i int32) { names = append(names, s.g.roles[i].Name) })
	return names
}

// Len returns the number of roles in s (U11, G2 tab counts).
func (s RoleSet) Len() int {
	n := 0
	for _, w := range s.bits {
		n += bits.OnesCount64(w)
	}
	return n
}

// Permits reports whether a role in s is a catalogue primitive that permits
// p (R5, §8). Permissions come only from primitives; pre-installed and custom
// roles grant them through the primitives they contain.
func (s RoleSet) Permits(p Permission) bool {
	if s.g == nil {
		return false
	}
	for _, i := range s.g.permits[p] {
		if s.bits.has(i) {
			return true
		}
	}
	return false
}
