package manage

import (
	"context"

	"opsiam/internal/directory"
	"opsiam/internal/store"
)

// CreateRole adds a custom role (R2: only custom roles are created).
func (s *Service) CreateRole(ctx context.Context, a Caller, r directory.Role) (directory.Role, error) {
	if err := a.may(directory.PermUserWrite); err != nil {
		return directory.Role{}, err
	}
	directory.NormalizeRole(&r)
	if r.Type == "" {
		r.Type = directory.RoleCustom
	}
	r.ID, r.Version = "", 0
	if err := directory.ValidateRole(r).Err(); err != nil {
		return directory.Role{}, err
	}
	if err := directory.CheckRoleCreate(r); err != nil {
		return directory.Role{}, err
	}
	var created directory.Role
	err := s.Store.InTx(ctx, func(tx store.Tx) error {
		var err error
		if created, err = tx.CreateRole(ctx, r); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, store.ActionRoleCreate, "role", string(created.ID), nil, created)
	})
	return created, err
}

// RolePatch is a change to a role; only a custom role's description may
// change (R2), a name or type in the patch must repeat the current one.
type RolePatch struct {
	Name        *string
	Type        *directory.RoleType
	Description *string
}

// UpdateRole changes a custom role's description (R2).
func (s *Service) UpdateRole(ctx context.Context, a Caller, id directory.RoleID, ifVersion int64, p RolePatch) (directory.Role, error) {
	if err := a.may(directory.PermUserWrite); err != nil {
		return directory.Role{}, err
	}
	var updated directory.Role
	err := s.Store.InTx(ctx, func(tx store.Tx) error {
		old, err := tx.GetRole(ctx, id)
		if err != nil {
			return err
		}
		if err := checkVersion(old.Version, ifVersion); err != nil {
			return err
		}
		r := old
		if p.Name != nil {
			r.Name = *p.Name
		}
		if p.Type != nil {
			r.Type = *p.Type
		}
		if p.Description != nil {
			r.Description = *p.Description
		}
		directory.NormalizeRole(&r)
		if err := directory.CheckRoleUpdate(old, r); err != nil {
			return err
		}
		if err := directory.ValidateRole(r).Err(); err != nil {
			return err
		}
		if updated, err = tx.UpdateRole(ctx, r); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, store.ActionRoleUpdate, "role", string(id), old, updated)
	})
	return updated, err
}

// DeleteRole deletes a custom role (R2).
func (s *Service) DeleteRole(ctx context.Context, a Caller, id directory.RoleID, ifVersion int64) error {
	if err := a.may(directory.PermUserWrite); err != nil {
		return err
	}
	return s.Store.InTx(ctx, func(tx store.Tx) error {
		old, err := tx.GetRole(ctx, id)
		if err != nil {
			return err
		}
		if err := checkVersion(old.Version, ifVersion); err != nil {
			return err
		}
		if err := directory.CheckRoleDelete(old); err != nil {
			return err
		}
		if err := tx.LockDirectory(ctx); err != nil {
			return err
		}
		if err := tx.DeleteRole(ctx, id); err != nil {
			return err
		}
		if err := adminWhole(ctx, tx, "role_id"); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, store.ActionRoleDelete, "role", string(id), old, nil)
	})
}

// AddContains makes custom role parent contain children (R2, R3): cycles
// are refused, and a change that makes holders of parent customer users
// needs each of them to have a customer (C2).
func (s *Service) AddContains(ctx context.Context, a Caller, parent directory.RoleID, children []directory.RoleID) error {
	if err := a.may(directory.PermUserWrite); err != nil {
		return err
	}
	if len(children) == 0 {
		return fieldError("role_ids", directory.CodeRequired, "role_ids must name at least one role.")
	}
	return s.Store.InTx(ctx, func(tx store.Tx) error {
		if err := tx.LockDirectory(ctx); err != nil {
			return err
		}
		if _, err := tx.GetRole(ctx, parent); err != nil {
			return err
		}
		g0, err := Load(ctx, tx)
		if err != nil {
			return err
		}
		if err := a.mayGrant(g0, "Putting these roles inside this role", children...); err != nil {
			return err
		}
		customer := false
		for _, child := range children {
			g, err := Load(ctx, tx) // each edge checked against the ones added before it
			if err != nil {
				return err
			}
			if err := g.CheckContain(parent, child); err != nil {
				return err
			}
			customer = customer || hasCustomerRole(g.Expand(child))
			if err := tx.AddContainment(ctx, parent, child); err != nil {
				return err
			}
			if err := s.audit(ctx, tx, a, store.ActionRoleContainsAdd, "role", string(parent), nil,
				map[string]string{"role_id": string(child)}); err != nil {
				return err
			}
		}
		if !customer {
			return nil
		}
		g, err := Load(ctx, tx)
		if err != nil {
			return err
		}
		for _, r := range g.Roles() { // every role that now contains parent
			if g.Expand(r.ID).Has(parent) {
				if err := checkRoleHolders(ctx, tx, g, r.ID); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// RemoveContains removes child from custom role parent (R2).
func (s *Service) RemoveContains(ctx context.Context, a Caller, parent, child directory.RoleID) error {
	if err := a.may(directory.PermUserWrite); err != nil {
		return err
	}
	return s.Store.InTx(ctx, func(tx store.Tx) error {
		p, err := tx.GetRole(ctx, parent)
		if err != nil {
			return err
		}
		if p.Type != directory.RoleCustom {
			return fieldError("role_ids", directory.CodePredefined,
				"Role %q is predefined and contains exactly the roles of the catalogue.", p.Name)
		}
		if err := tx.LockDirectory(ctx); err != nil {
			return err
		}
		if err := tx.RemoveContainment(ctx, parent, child); err != nil {
			return err
		}
		if err := adminWhole(ctx, tx, "role_id"); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, store.ActionRoleContainsRemove, "role", string(parent),
			map[string]string{"role_id": string(child)}, nil)
	})
}

// loadRoles resolves role ids for an assignment, refusing unknown ids and
// the implicit user role (field role_ids).
func loadRoles(ctx context.Context, tx store.Tx, ids []directory.RoleID) ([]directory.Role, error) {
	if len(ids) == 0 {
		return nil, fieldError("role_ids", directory.CodeRequired, "role_ids must name at least one role.")
	}
	roles := make([]directory.Role, 0, len(ids))
	for _, id := range ids {
		r, err := tx.GetRole(ctx, id)
		if err != nil {
			return nil, notFoundAs(err, "role_ids", "Role", id)
		}
		if err := directory.CheckRoleAssign(r); err != nil {
			return nil, err
		}
		roles = append(roles, r)
	}
	return roles, nil
}

// AssignUserRoles assigns roles to a user directly (R3); a customer role
// needs the user to have a customer (C2).
func (s *Service) AssignUserRoles(ctx context.Context, a Caller, uid directory.UserID, ids []directory.RoleID) error {
	if err := a.may(directory.PermUserWrite); err != nil {
		return err
	}
	return s.Store.InTx(ctx, func(tx store.Tx) error {
		if err := tx.LockDirectory(ctx); err != nil {
			return err
		}
		u, err := tx.GetUser(ctx, directory.Scope{}, uid)
		if err != nil {
			return err
		}
		roles, err := loadRoles(ctx, tx, ids)
		if err != nil {
			return err
		}
		g0, err := Load(ctx, tx)
		if err != nil {
			return err
		}
		if err := a.mayGrant(g0, "Assigning these roles", ids...); err != nil {
			return err
		}
		for _, r := range roles {
			if err := tx.AssignUserRole(ctx, uid, r.ID); err != nil {
				return err
			}
			if err := s.audit(ctx, tx, a, store.ActionUserRoleAssign, "user", string(uid), nil,
				map[string]string{"role_id": string(r.ID), "role": r.Name}); err != nil {
				return err
			}
		}
		g, err := Load(ctx, tx)
		if err != nil {
			return err
		}
		return checkCustomerOf(ctx, tx, g, u)
	})
}

// UnassignUserRole removes a direct role assignment of a user.
func (s *Service) UnassignUserRole(ctx context.Context, a Caller, uid directory.UserID, rid directory.RoleID) error {
	if err := a.may(directory.PermUserWrite); err != nil {
		return err
	}
	return s.Store.InTx(ctx, func(tx store.Tx) error {
		if err := tx.LockDirectory(ctx); err != nil {
			return err
		}
		if _, err := tx.GetUser(ctx, directory.Scope{}, uid); err != nil {
			return err
		}
		if err := tx.UnassignUserRole(ctx, uid, rid); err != nil {
			return err
		}
		if err := adminWhole(ctx, tx, "role_id"); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, store.ActionUserRoleUnassign, "user", string(uid), map[string]string{"role_id": string(rid)}, nil)
	})
}

// AssignGroupRoles assigns roles to a group (R3); a customer role needs
// every member to have a customer (C2).
func (s *Service) AssignGroupRoles(ctx context.Context, a Caller, gid directory.GroupID, ids []directory.RoleID) error {
	if err := a.may(directory.PermUserWrite); err != nil {
		return err
	}
	return s.Store.InTx(ctx, func(tx store.Tx) error {
		if err := tx.LockDirectory(ctx); err != nil {
			return err
		}
		if _, err := tx.GetGroup(ctx, gid); err != nil {
			return err
		}
		roles, err := loadRoles(ctx, tx, ids)
		if err != nil {
			return err
		}
		g0, err := Load(ctx, tx)
		if err != nil {
			return err
		}
		if err := a.mayGrant(g0, "Giving this group these roles", ids...); err != nil {
			return err
		}
		for _, r := range roles {
			if err := tx.AssignGroupRole(ctx, gid, r.ID); err != nil {
				return err
			}
			if err := s.audit(ctx, tx, a, store.ActionGroupRoleAssign, "group", string(gid), nil,
				map[string]string{"role_id": string(r.ID), "role": r.Name}); err != nil {
				return err
			}
		}
		g, err := Load(ctx, tx)
		if err != nil {
			return err
		}
		if !hasCustomerRole(g.Expand(ids...)) {
			return nil
		}
		return checkMembers(ctx, tx, g, gid)
	})
}

// UnassignGroupRole removes a role from a group.
func (s *Service) UnassignGroupRole(ctx context.Context, a Caller, gid directory.GroupID, rid directory.RoleID) error {
	if err := a.may(directory.PermUserWrite); err != nil {
		return err
	}
	return s.Store.InTx(ctx, func(tx store.Tx) error {
		if _, err := tx.GetGroup(ctx, gid); err != nil {
			return err
		}
		if err := tx.LockDirectory(ctx); err != nil {
			return err
		}
		if err := tx.UnassignGroupRole(ctx, gid, rid); err != nil {
			return err
		}
		if err := adminWhole(ctx, tx, "role_id"); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, store.ActionGroupRoleUnassign, "group", string(gid), map[string]string{"role_id": string(rid)}, nil)
	})
}
