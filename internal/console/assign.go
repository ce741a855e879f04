package console

import (
	"net/http"

	"opsiam/internal/directory"
)

// diff returns what the assign dialog added to and removed from have: the
// posted "assigned" list is the whole new set (U11).
func diff[ID ~string](have []ID, want []string) (add, remove []ID) {
	h, wnt := map[ID]bool{}, map[ID]bool{}
	for _, x := range have {
		h[x] = true
	}
	for _, w := range want {
		x := ID(w)
		if x != "" && !wnt[x] {
			wnt[x] = true
			if !h[x] {
				add = append(add, x)
			}
		}
	}
	for _, x := range have {
		if !wnt[x] {
			remove = append(remove, x)
		}
	}
	return add, remove
}

// roleIDs lists the ids of roles.
func roleIDs(roles []directory.Role) []directory.RoleID {
	ids := make([]directory.RoleID, len(roles))
	for i, r := range roles {
		ids[i] = r.ID
	}
	return ids
}

// assignUserGroups applies the groups assign dialog of a user: each group
// added or left is one manage call (and one transaction with its audit
// record); global is never offered (U4).
func (c *Console) assignUserGroups(w http.ResponseWriter, r *http.Request, v *view) error {
	u, err := c.writableUser(r, v)
	if err != nil {
		return err
	}
	groups, err := c.svc().Store.UserGroups(r.Context(), u.ID)
	if err != nil {
		return err
	}
	var have []directory.GroupID
	for _, g := range groups {
		if !g.IsReserved() {
			have = append(have, g.ID)
		}
	}
	add, remove := diff(have, r.PostForm["assigned"])
	a := actor(r, v)
	for _, id := range add {
		if err := c.svc().AddMembers(r.Context(), a, id, []directory.UserID{u.ID}); err != nil {
			return c.refusedTab(w, r, v, u, "groups", err)
		}
	}
	for _, id := range remove {
		if err := c.svc().RemoveMember(r.Context(), a, id, u.ID); err != nil {
			return c.refusedTab(w, r, v, u, "groups", err)
		}
	}
	return redirect(w, r, Prefix+"users/"+string(u.ID)+"?tab=groups&done=saved")
}

// assignUserRoles applies the roles assign dialog of a user (R3); a
// customer role without a customer is refused by the rules (C2).
func (c *Console) assignUserRoles(w http.ResponseWriter, r *http.Request, v *view) error {
	u, err := c.writableUser(r, v)
	if err != nil {
		return err
	}
	roles, err := c.svc().Store.UserRoles(r.Context(), u.ID)
	if err != nil {
		return err
	}
	add, remove := diff(roleIDs(roles), r.PostForm["assigned"])
	a := actor(r, v)
	if len(add) > 0 {
		if err := c.svc().AssignUserRoles(r.Context(), a, u.ID, add); err != nil {
			return c.refusedTab(w, r, v, u, "roles", err)
		}
	}
	for _, id := range remove {
		if err := c.svc().UnassignUserRole(r.Context(), a, u.ID, id); err != nil {
			return c.refusedTab(w, r, v, u, "roles", err)
		}
	}
	return redirect(w, r, Prefix+"users/"+string(u.ID)+"?tab=roles&done=saved")
}

// refusedTab shows a refusal on the given tab of the user page.
func (c *Console) refusedTab(w http.ResponseWriter, r *http.Request, v *view, u directory.User, tab string, err error) error {
	q := r.URL.Query()
	q.Set("tab", tab)
	r.URL.RawQuery = q.Encode()
	return c.refused(w, r, v, u, err)
}
