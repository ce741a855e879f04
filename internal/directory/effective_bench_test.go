package directory

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// benchDirectory builds, deterministically, 1,000 roles in six layers where
// each role contains one to three roles of the next layer (containment
// chains six deep), 5,000 groups holding one to three roles each, and
// 100,000 users with zero to two direct roles and one to five groups.
func benchDirectory() (*RoleGraph, []Grants) {
	const (
		nRoles  = 1000
		nLayers = 6
		nGroups = 5000
		nUsers  = 100_000
	)
	rng := rand.New(rand.NewPCG(2026, 11))
	roles := make([]Role, nRoles)
	layer := func(i int) int { return i * nLayers / nRoles }
	var layerStart [nLayers + 1]int
	for i := range roles {
		roles[i] = Role{ID: RoleID(fmt.Sprintf("role-%04d", i)), Name: fmt.Sprintf("role %04d", i), Type: RoleCustom}
		layerStart[layer(i)+1] = i + 1
	}
	roles[nRoles-1] = Role{ID: "role-user", Name: RoleNameUser, Type: RolePrimitive}
	var edges []Containment
	for i := range roles {
		l := layer(i)
		if l == nLayers-1 {
			continue
		}
		lo, hi := layerStart[l+1], layerStart[l+2]
		for range 1 + rng.IntN(3) {
			edges = append(edges, Containment{Parent: roles[i].ID, Child: roles[lo+rng.IntN(hi-lo)].ID})
		}
	}
	g := NewRoleGraph(roles, edges)
	randomRoles := func(n int) []RoleID {
		ids := make([]RoleID, n)
		for k := range ids {
			ids[k] = roles[rng.IntN(nRoles)].ID
		}
		return ids
	}
	groups := make([]GroupGrant, nGroups)
	for i := range groups {
		groups[i] = GroupGrant{Group: GroupID(fmt.Sprintf("group-%04d", i)), GroupName: fmt.Sprintf("group %d", i),
			Roles: randomRoles(1 + rng.IntN(3))}
	}
	users := make([]Grants, nUsers)
	for i := range users {
		gs := make([]GroupGrant, 1+rng.IntN(5))
		for k := range gs {
			gs[k] = groups[rng.IntN(nGroups)]
		}
		users[i] = Grants{Direct: randomRoles(rng.IntN(3)), Groups: gs}
	}
	return g, users
}

func TestBenchDirectoryShape(t *testing.T) {
	if testing.Short() {
		t.Skip("builds 100,000 users")
	}
	g, users := benchDirectory()
	top := g.Expand("role-0000")
	if top.Len() < 6 {
		t.Fatalf("a top role expands to %d roles, want a chain six deep", top.Len())
	}
	if len(users) != 100_000 || !g.Effective(users[0]).HasName(RoleNameUser) {
		t.Fatal("users lack the implicit user role")
	}
}

func BenchmarkEffectiveRoles(b *testing.B) {
	g, users := benchDirectory()
	b.ReportAllocs()
	total, i := 0, 0
	for b.Loop() {
		total += len(g.Effective(users[i]).bits)
		if i++; i == len(users) {
			i = 0
		}
	}
	if total == 0 {
		b.Fatal("no roles computed")
	}
}
