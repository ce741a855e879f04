package manage

import (
	"context"
	"errors"

	"opsiam/internal/directory"
	"opsiam/internal/provision"
	"opsiam/internal/store"
)

// GroupPatch is a change to a group: nil fields stay as they are.
type GroupPatch struct {
	Name        *string
	Email       *string
	Description *string
	ExternalID  *string
}

func groupPayload(g directory.Group) map[string]string {
	return map[string]string{"group_id": string(g.ID), "name": g.Name}
}

// CreateGroup adds a group (G1) and enqueues group.created (P2).
func (s *Service) CreateGroup(ctx context.Context, a Caller, g directory.Group) (directory.Group, error) {
	if err := a.may(directory.PermUserWrite); err != nil {
		return directory.Group{}, err
	}
	directory.NormalizeGroup(&g)
	g.ID, g.Version = "", 0
	if err := directory.ValidateGroup(g).Err(); err != nil {
		return directory.Group{}, err
	}
	if err := directory.CheckGroupCreate(g); err != nil {
		return directory.Group{}, err
	}
	var created directory.Group
	err := s.Store.InTx(ctx, func(tx store.Tx) error {
		var err error
		if created, err = tx.CreateGroup(ctx, g); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, a, store.ActionGroupCreate, "group", string(created.ID), nil, created); err != nil {
			return err
		}
		return enqueue(ctx, tx, provision.TopicGroupCreated, "group:"+string(created.ID), groupPayload(created))
	})
	return created, err
}

// UpdateGroup changes a group, never global (G4).
func (s *Service) UpdateGroup(ctx context.Context, a Caller, id directory.GroupID, ifVersion int64, p GroupPatch) (directory.Group, error) {
	if err := a.may(directory.PermUserWrite); err != nil {
		return directory.Group{}, err
	}
	var updated directory.Group
	err := s.Store.InTx(ctx, func(tx store.Tx) error {
		old, err := tx.GetGroup(ctx, id)
		if err != nil {
			return err
		}
		if err := checkVersion(old.Version, ifVersion); err != nil {
			return err
		}
		g := old
		for _, f := range []struct{ dst, v *string }{{&g.Name, p.Name}, {&g.Email, p.Email}, {&g.Description, p.Description}, {&g.ExternalID, p.ExternalID}} {
			if f.v != nil {
				*f.dst = *f.v
			}
		}
		directory.NormalizeGroup(&g)
		if err := directory.CheckGroupUpdate(old, g); err != nil {
			return err
		}
		if err := directory.ValidateGroup(g).Err(); err != nil {
			return err
		}
		if updated, err = tx.UpdateGroup(ctx, g); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, a, store.ActionGroupUpdate, "group", string(id), old, updated); err != nil {
			return err
		}
		payload := groupPayload(updated)
		payload["previous_name"] = old.Name // lets targets follow a rename (P2)
		return enqueue(ctx, tx, provision.TopicGroupUpdated, "group:"+string(id), payload)
	})
	return updated, err
}

// DeleteGroup deletes a group, never global (G4).
func (s *Service) DeleteGroup(ctx context.Context, a Caller, id directory.GroupID, ifVersion int64) error {
	if err := a.may(directory.PermUserWrite); err != nil {
		return err
	}
	return s.Store.InTx(ctx, func(tx store.Tx) error {
		old, err := tx.GetGroup(ctx, id)
		if err != nil {
			return err
		}
		if err := checkVersion(old.Version, ifVersion); err != nil {
			return err
		}
		if err := directory.CheckGroupDelete(old); err != nil {
			return err
		}
		if err := tx.LockDirectory(ctx); err != nil {
			return err
		}
		if err := tx.DeleteGroup(ctx, id); err != nil {
			return err
		}
		if err := adminWhole(ctx, tx, "group_id"); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, a, store.ActionGroupDelete, "group", string(id), old, nil); err != nil {
			return err
		}
		return enqueue(ctx, tx, provision.TopicGroupDeleted, "group:"+string(id), groupPayload(old))
	})
}

func memberPayload(g directory.Group, u directory.User) map[string]string {
	return map[string]string{"group_id": string(g.ID), "group_name": g.Name, "user_id": string(u.ID), "username": u.Username}
}

// AddMembers adds users to a group (G2, P2). If the group's roles make its
// members customer users, every added user must have a customer (C2).
// Memberships of global are implicit (U4) and enqueue no events.
func (s *Service) AddMembers(ctx context.Context, a Caller, id directory.GroupID, users []directory.UserID) error {
	if err := a.may(directory.PermUserWrite); err != nil {
		return err
	}
	if len(users) == 0 {
		return fieldError("user_ids", directory.CodeRequired, "user_ids must name at least one user.")
	}
	return s.Store.InTx(ctx, func(tx store.Tx) error {
		if err := tx.LockDirectory(ctx); err != nil {
			return err
		}
		grp, err := tx.GetGroup(ctx, id)
		if err != nil {
			return err
		}
		g, err := Load(ctx, tx)
		if err != nil {
			return err
		}
		roles, err := tx.GroupRoles(ctx, id)
		if err != nil {
			return err
		}
		ids := make([]directory.RoleID, len(roles))
		for i, r := range roles {
			ids[i] = r.ID
		}
		if err := a.mayGrant(g, "Adding users to this group", ids...); err != nil {
			return err
		}
		customerGroup := hasCustomerRole(g.Expand(ids...))
		for _, uid := range users {
			u, err := tx.GetUser(ctx, directory.Scope{}, uid)
			if err != nil {
				return notFoundAs(err, "user_ids", "User", uid)
			}
			if err := tx.AddMember(ctx, id, uid); err != nil {
				return err
			}
			if customerGroup {
				if err := checkCustomerOf(ctx, tx, g, u); err != nil {
					return err
				}
			}
			if err := s.audit(ctx, tx, a, store.ActionGroupMemberAdd, "group", string(id), nil,
				map[string]string{"user_id": string(uid), "username": u.Username}); err != nil {
				return err
			}
			if grp.IsReserved() {
				continue
			}
			if err := enqueue(ctx, tx, provision.TopicMemberAdded, "group:"+string(id), memberPayload(grp, u)); err != nil {
				return err
			}
		}
		return nil
	})
}

// RemoveMember removes a user from a group; nobody leaves global (G4).
func (s *Service) RemoveMember(ctx context.Context, a Caller, id directory.GroupID, uid directory.UserID) error {
	if err := a.may(directory.PermUserWrite); err != nil {
		return err
	}
	return s.Store.InTx(ctx, func(tx store.Tx) error {
		grp, err := tx.GetGroup(ctx, id)
		if err != nil {
			return err
		}
		if grp.IsReserved() {
			return fieldError("group_id", directory.CodeReserved, "Group %q contains every user; nobody can be removed from it.", grp.Name)
		}
		u, err := tx.GetUser(ctx, directory.Scope{}, uid)
		if err != nil {
			return err
		}
		if err := tx.LockDirectory(ctx); err != nil {
			return err
		}
		if err := tx.RemoveMember(ctx, id, uid); err != nil {
			return err
		}
		if err := adminWhole(ctx, tx, "user_id"); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, a, store.ActionGroupMemberRemove, "group", string(id),
			map[string]string{"user_id": string(uid), "username": u.Username}, nil); err != nil {
			return err
		}
		return enqueue(ctx, tx, provision.TopicMemberRemoved, "group:"+string(id), memberPayload(grp, u))
	})
}

// SetRelation relates group from to group to (G5); global takes part in none.
func (s *Service) SetRelation(ctx context.Context, a Caller, from, to directory.GroupID, t directory.RelationType) error {
	if err := a.may(directory.PermUserWrite); err != nil {
		return err
	}
	return s.Store.InTx(ctx, func(tx store.Tx) error {
		f, err := tx.GetGroup(ctx, from)
		if err != nil {
			return err
		}
		g, err := tx.GetGroup(ctx, to)
		if err != nil {
			return notFoundAs(err, "group_id", "Group", to)
		}
		if err := directory.CheckRelation(f, g, t); err != nil {
			return err
		}
		rel := directory.GroupRelation{From: from, To: to, Type: t}
		if err := tx.SetRelation(ctx, rel); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, store.ActionGroupRelationSet, "group", string(from), nil,
			map[string]string{"group_id": string(to), "type": string(t)})
	})
}

// RemoveRelation removes the relation between from and to.
func (s *Service) RemoveRelation(ctx context.Context, a Caller, from, to directory.GroupID) error {
	if err := a.may(directory.PermUserWrite); err != nil {
		return err
	}
	return s.Store.InTx(ctx, func(tx store.Tx) error {
		if _, err := tx.GetGroup(ctx, from); err != nil {
			return err
		}
		err := tx.RemoveRelation(ctx, from, to)
		if errors.Is(err, store.ErrNotFound) { // the relation may have been made from the other side
			err = tx.RemoveRelation(ctx, to, from)
		}
		if err != nil {
			return err
		}
		return s.audit(ctx, tx, a, store.ActionGroupRelationRemove, "group", string(from),
			map[string]string{"group_id": string(to)}, nil)
	})
}
