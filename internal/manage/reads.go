package manage

import (
	"context"
	"time"

	"opsiam/internal/directory"
	"opsiam/internal/store"
)

// EffectiveRoles returns a user's effective roles (R3) from the cached role
// graph and one query for the user's grants (STYLE P14).
func (s *Service) EffectiveRoles(ctx context.Context, uid directory.UserID) (directory.RoleSet, error) {
	g, err := s.graph(ctx)
	if err != nil {
		return directory.RoleSet{}, err
	}
	grants, err := s.Store.UserGrants(ctx, uid)
	if err != nil {
		return directory.RoleSet{}, err
	}
	return g.Effective(grants), nil
}

// GroupEffectiveRoles returns every role a group's roles contain (G2).
func (s *Service) GroupEffectiveRoles(ctx context.Context, gid directory.GroupID) (directory.RoleSet, error) {
	g, err := s.graph(ctx)
	if err != nil {
		return directory.RoleSet{}, err
	}
	roles, err := s.Store.GroupRoles(ctx, gid)
	if err != nil {
		return directory.RoleSet{}, err
	}
	ids := make([]directory.RoleID, len(roles))
	for i, r := range roles {
		ids[i] = r.ID
	}
	return g.Expand(ids...), nil
}

// Why returns the paths that grant role to a user (R6); none when the user
// does not hold it. ErrNotFound for an unknown role.
func (s *Service) Why(ctx context.Context, uid directory.UserID, role directory.RoleID) ([]directory.GrantPath, error) {
	paths, _, err := s.WhyCut(ctx, uid, role)
	return paths, err
}

// WhyCut is Why that also tells whether the paths were cut at
// directory.MaxWhyPaths.
func (s *Service) WhyCut(ctx context.Context, uid directory.UserID, role directory.RoleID) ([]directory.GrantPath, bool, error) {
	g, err := s.graph(ctx)
	if err != nil {
		return nil, false, err
	}
	if _, ok := g.Role(role); !ok {
		return nil, false, store.ErrNotFound
	}
	grants, err := s.Store.UserGrants(ctx, uid)
	if err != nil {
		return nil, false, err
	}
	paths, cut := g.WhyCut(grants, role)
	return paths, cut, nil
}

// FreeRoles lists the roles that effectively contain free_user (B1), the
// input the store needs to filter users by billing class.
func FreeRoles(g *directory.RoleGraph) []directory.RoleID {
	var out []directory.RoleID
	for _, r := range g.Roles() {
		if g.Expand(r.ID).HasName(directory.RoleNameFreeUser) {
			out = append(out, r.ID)
		}
	}
	return out
}

// ListUsers lists the users the caller may read (U5): every user with
// user.read, its own customer's with customer.admin (the scope is derived
// here from the caller, issue 13); ErrNotFound for a caller who may read
// none. A billing filter is resolved through the role graph (B1).
func (s *Service) ListUsers(ctx context.Context, c Caller, q store.UserQuery) (store.Page[directory.User], error) {
	scope, ok := c.ReadScope()
	if !ok {
		return store.Page[directory.User]{}, store.ErrNotFound
	}
	if q.Billing != "" {
		if q.Billing != store.Billed && q.Billing != store.NonBilled {
			return store.Page[directory.User]{}, fieldError("billing", directory.CodeInvalid, "billing must be billed or non_billed.")
		}
		g, err := s.graph(ctx)
		if err != nil {
			return store.Page[directory.User]{}, err
		}
		q.FreeRoles = FreeRoles(g)
	}
	return s.Store.ListUsers(ctx, scope, q)
}

// BillingCounts are the counts of B1.
type BillingCounts struct {
	Billed    int
	NonBilled int
}

// Billing counts billed and non-billed users in scope (B1).
func (s *Service) Billing(ctx context.Context, scope directory.Scope) (BillingCounts, error) {
	g, err := s.graph(ctx)
	if err != nil {
		return BillingCounts{}, err
	}
	free := FreeRoles(g)
	var c BillingCounts
	if c.Billed, err = s.Store.CountUsers(ctx, scope, store.UserFilter{Billing: store.Billed, FreeRoles: free}); err != nil {
		return c, err
	}
	c.NonBilled, err = s.Store.CountUsers(ctx, scope, store.UserFilter{Billing: store.NonBilled, FreeRoles: free})
	return c, err
}

// EffectiveRolesOf returns the effective roles of many users with one
// query for their grants, for pages of users (B1 billed flag).
func (s *Service) EffectiveRolesOf(ctx context.Context, ids []directory.UserID) (map[directory.UserID]directory.RoleSet, error) {
	g, err := s.graph(ctx)
	if err != nil {
		return nil, err
	}
	grants, err := s.Store.UsersGrants(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[directory.UserID]directory.RoleSet, len(grants))
	for id, gr := range grants {
		out[id] = g.Effective(gr)
	}
	return out, nil
}

// SnapshotBilling records today's billed and non-billed counts (B1: the
// report of the billed count over time). The server calls it every hour;
// a later call of the same UTC day replaces the earlier one.
func (s *Service) SnapshotBilling(ctx context.Context) (store.BillingSnapshot, error) {
	c, err := s.Billing(ctx, directory.Scope{})
	if err != nil {
		return store.BillingSnapshot{}, err
	}
	now := s.now()
	snap := store.BillingSnapshot{Day: now.Format(time.DateOnly), Billed: c.Billed, NonBilled: c.NonBilled, TakenAt: now}
	return snap, s.Store.PutBillingSnapshot(ctx, snap)
}
