package httpapi

import (
	"net/http"

	"opsiam/internal/directory"
	"opsiam/internal/manage"
	"opsiam/internal/store"
)

func groupID(r *http.Request) directory.GroupID { return directory.GroupID(r.PathValue("id")) }

func listQuery(r *http.Request) (store.ListQuery, error) {
	limit, cursor, err := listParams(r)
	q := r.URL.Query()
	return store.ListQuery{Q: q.Get("q"), Sort: q.Get("sort"), Limit: limit, Cursor: cursor}, err
}

func (a *API) listGroups(w http.ResponseWriter, r *http.Request) error {
	if err := needDirectoryRead(r); err != nil {
		return err
	}
	lq, err := listQuery(r)
	if err != nil {
		return err
	}
	page, err := a.Manage.Store.ListGroups(r.Context(), lq)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, newList(page, newGroupView))
}

func (a *API) createGroup(w http.ResponseWriter, r *http.Request) error {
	if err := needDirectoryWrite(r); err != nil {
		return err
	}
	var in groupInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	var g directory.Group
	for _, f := range []struct{ dst, v *string }{{&g.Name, in.Name}, {&g.Email, in.Email}, {&g.Description, in.Description}, {&g.ExternalID, in.ExternalID}} {
		if f.v != nil {
			*f.dst = *f.v
		}
	}
	created, err := a.Manage.CreateGroup(r.Context(), actor(r), g)
	if err != nil {
		return err
	}
	w.Header().Set("Location", Prefix+"/groups/"+string(created.ID))
	return writeVersioned(w, http.StatusCreated, created.Version, newGroupView(created))
}

func (a *API) getGroup(w http.ResponseWriter, r *http.Request) error {
	if err := needDirectoryRead(r); err != nil {
		return err
	}
	g, err := a.Manage.Store.GetGroup(r.Context(), groupID(r))
	if err != nil {
		return err
	}
	return writeVersioned(w, http.StatusOK, g.Version, newGroupView(g))
}

// existingGroup checks write permission and that the group exists.
func (a *API) existingGroup(r *http.Request) error {
	if err := needDirectoryWrite(r); err != nil {
		return err
	}
	_, err := a.Manage.Store.GetGroup(r.Context(), groupID(r))
	return err
}

func (a *API) updateGroup(w http.ResponseWriter, r *http.Request) error {
	if err := a.existingGroup(r); err != nil {
		return err
	}
	var in groupInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	version, err := ifMatch(r)
	if err != nil {
		return err
	}
	g, err := a.Manage.UpdateGroup(r.Context(), actor(r), groupID(r), version,
		manage.GroupPatch{Name: in.Name, Email: in.Email, Description: in.Description, ExternalID: in.ExternalID})
	if err != nil {
		return err
	}
	return writeVersioned(w, http.StatusOK, g.Version, newGroupView(g))
}

func (a *API) deleteGroup(w http.ResponseWriter, r *http.Request) error {
	if err := a.existingGroup(r); err != nil {
		return err
	}
	version, err := ifMatch(r)
	if err != nil {
		return err
	}
	if err := a.Manage.DeleteGroup(r.Context(), actor(r), groupID(r), version); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) groupMembers(w http.ResponseWriter, r *http.Request) error {
	if err := needDirectoryRead(r); err != nil {
		return err
	}
	if _, err := a.Manage.Store.GetGroup(r.Context(), groupID(r)); err != nil {
		return err
	}
	lq, err := listQuery(r)
	if err != nil {
		return err
	}
	page, err := a.Manage.Store.ListMembers(r.Context(), directory.Scope{}, groupID(r), lq)
	if err != nil {
		return err
	}
	out, err := a.userPage(r, page)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (a *API) addMembers(w http.ResponseWriter, r *http.Request) error {
	if err := a.existingGroup(r); err != nil {
		return err
	}
	var in userIDsInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	if err := a.Manage.AddMembers(r.Context(), actor(r), groupID(r), in.UserIDs); err != nil {
		return err
	}
	r.URL.RawQuery = ""
	return a.groupMembers(w, r)
}

func (a *API) removeMember(w http.ResponseWriter, r *http.Request) error {
	if err := a.existingGroup(r); err != nil {
		return err
	}
	if err := a.Manage.RemoveMember(r.Context(), actor(r), groupID(r), directory.UserID(r.PathValue("user_id"))); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) groupRoles(w http.ResponseWriter, r *http.Request) error {
	if err := needDirectoryRead(r); err != nil {
		return err
	}
	if _, err := a.Manage.Store.GetGroup(r.Context(), groupID(r)); err != nil {
		return err
	}
	roles, err := a.Manage.Store.GroupRoles(r.Context(), groupID(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, list[roleView]{Items: roleViews(roles)})
}

func (a *API) assignGroupRoles(w http.ResponseWriter, r *http.Request) error {
	if err := a.existingGroup(r); err != nil {
		return err
	}
	var in roleIDsInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	if err := a.Manage.AssignGroupRoles(r.Context(), actor(r), groupID(r), in.RoleIDs); err != nil {
		return err
	}
	return a.groupRoles(w, r)
}

func (a *API) unassignGroupRole(w http.ResponseWriter, r *http.Request) error {
	if err := a.existingGroup(r); err != nil {
		return err
	}
	if err := a.Manage.UnassignGroupRole(r.Context(), actor(r), groupID(r), directory.RoleID(r.PathValue("role_id"))); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) groupRelations(w http.ResponseWriter, r *http.Request) error {
	if err := needDirectoryRead(r); err != nil {
		return err
	}
	if _, err := a.Manage.Store.GetGroup(r.Context(), groupID(r)); err != nil {
		return err
	}
	out, err := a.relations(r)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (a *API) setRelation(w http.ResponseWriter, r *http.Request) error {
	if err := a.existingGroup(r); err != nil {
		return err
	}
	var in relationInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	if in.GroupID == "" {
		return invalid("group_id", directory.CodeRequired, "group_id is required.")
	}
	if err := a.Manage.SetRelation(r.Context(), actor(r), groupID(r), in.GroupID, in.Type); err != nil {
		return err
	}
	out, err := a.relations(r)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, out)
}

func (a *API) relations(r *http.Request) (list[relationView], error) {
	rels, err := a.Manage.Store.GroupRelations(r.Context(), groupID(r))
	out := list[relationView]{Items: make([]relationView, len(rels))}
	for i, rel := range rels {
		out.Items[i] = newRelationView(groupID(r), rel)
	}
	return out, err
}

func (a *API) removeRelation(w http.ResponseWriter, r *http.Request) error {
	if err := a.existingGroup(r); err != nil {
		return err
	}
	if err := a.Manage.RemoveRelation(r.Context(), actor(r), groupID(r), directory.GroupID(r.PathValue("group_id"))); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) groupEffectiveRoles(w http.ResponseWriter, r *http.Request) error {
	if err := needDirectoryRead(r); err != nil {
		return err
	}
	if _, err := a.Manage.Store.GetGroup(r.Context(), groupID(r)); err != nil {
		return err
	}
	roles, err := a.Manage.GroupEffectiveRoles(r.Context(), groupID(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, list[roleView]{Items: roleViews(roles.Roles())})
}
