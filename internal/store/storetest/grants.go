package storetest

import (
	"context"
	"fmt"
	"testing"

	"opsiam/internal/directory"
)

// testUsersGrants checks that the batch form gives, for every user, what
// UserGrants gives for that user alone.
func testUsersGrants(t *testing.T, open Factory) {
	ctx := context.Background()
	s := open(t)
	r1 := mustRole(t, s, "r1", directory.RoleCustom)
	r2 := mustRole(t, s, "r2", directory.RoleCustom)
	g1, g2 := mustGroup(t, s, "g1"), mustGroup(t, s, "g2")
	if err := s.AssignGroupRole(ctx, g1.ID, r1.ID); err != nil {
		t.Fatal(err)
	}
	var ids []directory.UserID
	for i := 0; i < 6; i++ {
		u := mustUser(t, s, fmt.Sprintf("g%d", i))
		ids = append(ids, u.ID)
		if i%2 == 0 {
			s.AssignUserRole(ctx, u.ID, r2.ID)
		}
		if i%3 == 0 {
			s.AddMember(ctx, g1.ID, u.ID)
		}
		if i%3 == 1 {
			s.AddMember(ctx, g2.ID, u.ID)
		}
	}
	batch, err := s.UsersGrants(ctx, append(ids, "unknown"))
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		one, err := s.UserGrants(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(one) != fmt.Sprint(batch[id]) {
			t.Errorf("user %s: batch %+v, alone %+v", id, batch[id], one)
		}
	}
	if g, ok := batch["unknown"]; !ok || len(g.Direct)+len(g.Groups) != 0 {
		t.Errorf("unknown user: %+v %v", g, ok)
	}
}
