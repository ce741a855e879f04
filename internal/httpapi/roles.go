package httpapi

import (
	"net/http"

	"opsiam/internal/directory"
	"opsiam/internal/manage"
	"opsiam/internal/store"
)

func roleID(r *http.Request) directory.RoleID { return directory.RoleID(r.PathValue("id")) }

func (a *API) listRoles(w http.ResponseWriter, r *http.Request) error {
	if err := needDirectoryRead(r); err != nil {
		return err
	}
	lq, err := listQuery(r)
	if err != nil {
		return err
	}
	t := directory.RoleType(r.URL.Query().Get("type"))
	if t != "" && !t.Valid() {
		return invalid("type", directory.CodeInvalid, "type must be primitive, preinstalled or custom.")
	}
	page, err := a.Manage.Store.ListRoles(r.Context(), store.RoleQuery{ListQuery: lq, Type: t})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, newList(page, newRoleView))
}

func (a *API) createRole(w http.ResponseWriter, r *http.Request) error {
	if err := needDirectoryWrite(r); err != nil {
		return err
	}
	var in roleInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	var role directory.Role
	if in.Name != nil {
		role.Name = *in.Name
	}
	if in.Type != nil {
		role.Type = *in.Type
	}
	if in.Description != nil {
		role.Description = *in.Description
	}
	created, err := a.Manage.CreateRole(r.Context(), actor(r), role)
	if err != nil {
		return err
	}
	w.Header().Set("Location", Prefix+"/roles/"+string(created.ID))
	return writeVersioned(w, http.StatusCreated, created.Version, newRoleView(created))
}

func (a *API) getRole(w http.ResponseWriter, r *http.Request) error {
	if err := needDirectoryRead(r); err != nil {
		return err
	}
	role, err := a.Manage.Store.GetRole(r.Context(), roleID(r))
	if err != nil {
		return err
	}
	return writeVersioned(w, http.StatusOK, role.Version, newRoleView(role))
}

func (a *API) existingRole(r *http.Request) error {
	if err := needDirectoryWrite(r); err != nil {
		return err
	}
	_, err := a.Manage.Store.GetRole(r.Context(), roleID(r))
	return err
}

func (a *API) updateRole(w http.ResponseWriter, r *http.Request) error {
	if err := a.existingRole(r); err != nil {
		return err
	}
	var in roleInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	version, err := ifMatch(r)
	if err != nil {
		return err
	}
	role, err := a.Manage.UpdateRole(r.Context(), actor(r), roleID(r), version,
		manage.RolePatch{Name: in.Name, Type: in.Type, Description: in.Description})
	if err != nil {
		return err
	}
	return writeVersioned(w, http.StatusOK, role.Version, newRoleView(role))
}

func (a *API) deleteRole(w http.ResponseWriter, r *http.Request) error {
	if err := a.existingRole(r); err != nil {
		return err
	}
	version, err := ifMatch(r)
	if err != nil {
		return err
	}
	if err := a.Manage.DeleteRole(r.Context(), actor(r), roleID(r), version); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// roleContains lists the roles a role contains directly (R4).
func (a *API) roleContains(w http.ResponseWriter, r *http.Request) error {
	if err := needDirectoryRead(r); err != nil {
		return err
	}
	g, err := a.Manage.RoleGraph(r.Context())
	if err != nil {
		return err
	}
	if _, ok := g.Role(roleID(r)); !ok {
		return store.ErrNotFound
	}
	var roles []directory.Role
	for _, id := range g.Contains(roleID(r)) {
		role, _ := g.Role(id)
		roles = append(roles, role)
	}
	return writeJSON(w, http.StatusOK, list[roleView]{Items: roleViews(roles)})
}

func (a *API) addContains(w http.ResponseWriter, r *http.Request) error {
	if err := a.existingRole(r); err != nil {
		return err
	}
	var in roleIDsInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	if err := a.Manage.AddContains(r.Context(), actor(r), roleID(r), in.RoleIDs); err != nil {
		return err
	}
	return a.roleContains(w, r)
}

func (a *API) removeContains(w http.ResponseWriter, r *http.Request) error {
	if err := a.existingRole(r); err != nil {
		return err
	}
	if err := a.Manage.RemoveContains(r.Context(), actor(r), roleID(r), directory.RoleID(r.PathValue("role_id"))); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// roleUsers lists the users a role is directly assigned to (R4).
func (a *API) roleUsers(w http.ResponseWriter, r *http.Request) error {
	if err := needDirectoryRead(r); err != nil {
		return err
	}
	if _, err := a.Manage.Store.GetRole(r.Context(), roleID(r)); err != nil {
		return err
	}
	lq, err := listQuery(r)
	if err != nil {
		return err
	}
	page, err := a.Manage.Store.RoleUsers(r.Context(), directory.Scope{}, roleID(r), lq)
	if err != nil {
		return err
	}
	out, err := a.userPage(r, page)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

// roleGroups lists the groups a role is directly assigned to (R4).
func (a *API) roleGroups(w http.ResponseWriter, r *http.Request) error {
	if err := needDirectoryRead(r); err != nil {
		return err
	}
	if _, err := a.Manage.Store.GetRole(r.Context(), roleID(r)); err != nil {
		return err
	}
	groups, err := a.Manage.Store.RoleGroups(r.Context(), roleID(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, list[groupView]{Items: groupViews(groups)})
}
