package console

import (
	"errors"
	"net/http"
	"slices"

	"opsiam/internal/directory"
	"opsiam/internal/manage"
	"opsiam/internal/store"
)

func (c *Console) mountGroups(mux *http.ServeMux) {
	mux.Handle("GET "+Prefix+"groups", c.page(c.listGroups))
	mux.Handle("GET "+Prefix+"groups/new", c.page(c.newGroup))
	mux.Handle("POST "+Prefix+"groups/new", c.page(c.createGroup))
	mux.Handle("GET "+Prefix+"groups/{id}", c.page(c.showGroup))
	mux.Handle("GET "+Prefix+"groups/{id}/edit", c.page(c.editGroup))
	mux.Handle("POST "+Prefix+"groups/{id}/edit", c.page(c.updateGroup))
	mux.Handle("POST "+Prefix+"groups/{id}/delete", c.page(c.deleteGroup))
	mux.Handle("POST "+Prefix+"groups/{id}/members", c.page(c.addGroupMember))
	mux.Handle("POST "+Prefix+"groups/{id}/members/{user}/remove", c.page(c.removeGroupMember))
	mux.Handle("POST "+Prefix+"groups/{id}/relations", c.page(c.setGroupRelation))
	mux.Handle("POST "+Prefix+"groups/{id}/relations/{other}/remove", c.page(c.removeGroupRelation))
	mux.Handle("POST "+Prefix+"groups/{id}/roles", c.page(c.assignGroupRoles))
}

func groupFields() []string { return []string{"name", "email", "description"} }

// listPage is the data of a simple list with search and cursor paging.
type listPage[T any] struct {
	Q     string
	Items []T
	Next  string
	First bool
	Extra string // list-specific filter value (role type, customer state)
}

func (c *Console) listGroups(w http.ResponseWriter, r *http.Request, v *view) error {
	if err := v.Me.needRead(); err != nil {
		return err
	}
	q := r.URL.Query()
	page, err := c.svc().Store.ListGroups(r.Context(), store.ListQuery{Q: q.Get("q"), Limit: c.cfg.PageSize, Cursor: q.Get("cursor")})
	if err != nil && !v.fieldErrors(err) {
		return err
	}
	if done := q.Get("done"); done != "" && messages.Has(v.Lang, "done."+done) {
		v.Notice = v.T("done." + done)
	}
	v.Title, v.Nav = "groups.title", "groups"
	v.Data = listPage[directory.Group]{Q: q.Get("q"), Items: page.Items, Next: page.Next, First: q.Get("cursor") == ""}
	c.render(w, http.StatusOK, "groups", v)
	return nil
}

type groupForm struct {
	New   bool
	Group directory.Group
}

func (c *Console) renderGroupForm(w http.ResponseWriter, v *view, status int, f groupForm) error {
	v.Nav, v.Data, v.Title = "groups", f, "group.edit"
	if f.New {
		v.Title = "group.new"
	}
	c.render(w, status, "group_form", v)
	return nil
}

func (c *Console) newGroup(w http.ResponseWriter, r *http.Request, v *view) error {
	if err := v.Me.needWrite(); err != nil {
		return err
	}
	return c.renderGroupForm(w, v, http.StatusOK, groupForm{New: true})
}

func groupFromForm(r *http.Request) directory.Group {
	return directory.Group{Name: r.PostFormValue("name"), Email: r.PostFormValue("email"), Description: r.PostFormValue("description")}
}

// createGroup adds a group (G1).
func (c *Console) createGroup(w http.ResponseWriter, r *http.Request, v *view) error {
	if err := v.Me.needWrite(); err != nil {
		return err
	}
	g := groupFromForm(r)
	created, err := c.svc().CreateGroup(r.Context(), actor(r, v), g)
	if err != nil {
		if v.fieldErrors(err, groupFields()...) {
			return c.renderGroupForm(w, v, http.StatusUnprocessableEntity, groupForm{New: true, Group: g})
		}
		return err
	}
	return redirect(w, r, Prefix+"groups/"+string(created.ID)+"?done=created")
}

func (c *Console) readableGroup(r *http.Request, v *view) (directory.Group, error) {
	if err := v.Me.needRead(); err != nil {
		return directory.Group{}, err
	}
	return c.svc().Store.GetGroup(r.Context(), groupID(r))
}

func (c *Console) writableGroup(r *http.Request, v *view) (directory.Group, error) {
	g, err := c.readableGroup(r, v)
	if err != nil {
		return g, err
	}
	return g, v.Me.needWrite()
}

func (c *Console) editGroup(w http.ResponseWriter, r *http.Request, v *view) error {
	g, err := c.writableGroup(r, v)
	if err != nil {
		return err
	}
	return c.renderGroupForm(w, v, http.StatusOK, groupForm{Group: g})
}

// updateGroup saves a group; global is refused by the rules (G4).
func (c *Console) updateGroup(w http.ResponseWriter, r *http.Request, v *view) error {
	old, err := c.writableGroup(r, v)
	if err != nil {
		return err
	}
	in := groupFromForm(r)
	p := manage.GroupPatch{Name: &in.Name, Email: &in.Email, Description: &in.Description}
	_, err = c.svc().UpdateGroup(r.Context(), actor(r, v), old.ID, parseVersion(r.PostFormValue("version")), p)
	if err != nil {
		if v.fieldErrors(err, groupFields()...) {
			in.ID, in.Version = old.ID, old.Version
			return c.renderGroupForm(w, v, http.StatusUnprocessableEntity, groupForm{Group: in})
		}
		return err
	}
	return redirect(w, r, Prefix+"groups/"+string(old.ID)+"?done=saved")
}

// deleteGroup deletes a group after confirmation; global is refused (G4).
func (c *Console) deleteGroup(w http.ResponseWriter, r *http.Request, v *view) error {
	g, err := c.writableGroup(r, v)
	if err != nil {
		return err
	}
	if err := c.svc().DeleteGroup(r.Context(), actor(r, v), g.ID, 0); err != nil {
		return c.groupRefused(w, r, v, g, "", err)
	}
	return redirect(w, r, Prefix+"groups?done=deleted")
}

// relationRow is one relation of a group, seen from that group (G5).
type relationRow struct {
	Other directory.Group
	Type  directory.RelationType
}

// groupPage is the data of a group's detail page (G2).
type groupPage struct {
	Group       directory.Group
	Tab         string
	Members     []directory.User
	MembersNext string
	Relations   []relationRow
	AllGroups   []directory.Group // choices of the relation form
	Roles       []directory.Role
	RoleDlg     assignLists
	Effective   []directory.Role
	Git         []GitMember
	GitOn       bool
	GitError    bool
}

func groupTabs() []string { return []string{"members", "relations", "roles", "effective", "git"} }

func (c *Console) showGroup(w http.ResponseWriter, r *http.Request, v *view) error {
	g, err := c.readableGroup(r, v)
	if err != nil {
		return err
	}
	return c.renderGroup(w, r, v, http.StatusOK, g)
}

func (c *Console) renderGroup(w http.ResponseWriter, r *http.Request, v *view, status int, g directory.Group) error {
	ctx := r.Context()
	q := r.URL.Query()
	p := groupPage{Group: g, Tab: q.Get("tab"), GitOn: c.cfg.GitMembers != nil}
	if !slices.Contains(groupTabs(), p.Tab) {
		p.Tab = "members"
	}
	if done := q.Get("done"); done != "" && messages.Has(v.Lang, "done."+done) {
		v.Notice = v.T("done." + done)
	}
	switch p.Tab {
	case "members":
		page, err := c.svc().Store.ListMembers(ctx, directory.Scope{}, g.ID, store.ListQuery{Limit: c.cfg.PageSize, Cursor: q.Get("cursor")})
		if err != nil {
			return err
		}
		p.Members, p.MembersNext = page.Items, page.Next
	case "relations":
		rels, err := c.svc().Store.GroupRelations(ctx, g.ID)
		if err != nil {
			return err
		}
		for _, rel := range rels {
			row := relationRow{Type: rel.Type}
			other := rel.To
			if rel.To == g.ID && rel.From != g.ID {
				other = rel.From
				row.Type = map[directory.RelationType]directory.RelationType{directory.RelationManage: directory.RelationManaged,
					directory.RelationManaged: directory.RelationManage, directory.RelationBoth: directory.RelationBoth}[rel.Type]
			}
			if row.Other, err = c.svc().Store.GetGroup(ctx, other); err != nil {
				return err
			}
			p.Relations = append(p.Relations, row)
		}
		if v.Me.CanWrite() {
			all, err := c.allGroups(r)
			if err != nil {
				return err
			}
			// Only what the server would accept is offered: no global (G5)
			// and not the group itself.
			for _, o := range all {
				if !o.IsReserved() && o.ID != g.ID {
					p.AllGroups = append(p.AllGroups, o)
				}
			}
		}
	case "roles":
		roles, err := c.svc().Store.GroupRoles(ctx, g.ID)
		if err != nil {
			return err
		}
		p.Roles = roles
		if v.Me.CanWrite() {
			graph, err := c.svc().RoleGraph(ctx)
			if err != nil {
				return err
			}
			p.RoleDlg = roleChoices(graph, roles, "")
		}
	case "effective":
		set, err := c.svc().GroupEffectiveRoles(ctx, g.ID)
		if err != nil {
			return err
		}
		p.Effective = set.Roles()
	case "git":
		if p.GitOn {
			if err := c.loadGit(r, &p); err != nil {
				c.cfg.Log.ErrorContext(ctx, "git members", "group", g.Name, "err", err)
				p.GitError = true
			}
		}
	}
	v.Title, v.Nav, v.Data = "group.title", "groups", p
	c.render(w, status, "group", v)
	return nil
}

// loadGit asks the GitLab target for the group's Git members (P2).
func (c *Console) loadGit(r *http.Request, p *groupPage) error {
	var names []string
	cursor := ""
	for {
		page, err := c.svc().Store.ListMembers(r.Context(), directory.Scope{}, p.Group.ID, store.ListQuery{Limit: store.MaxLimit, Cursor: cursor})
		if err != nil {
			return err
		}
		for _, u := range page.Items {
			names = append(names, u.Username)
		}
		if page.Next == "" {
			break
		}
		cursor = page.Next
	}
	ms, err := c.cfg.GitMembers(r.Context(), p.Group.Name, names)
	p.Git = ms
	return err
}

func (c *Console) allGroups(r *http.Request) ([]directory.Group, error) {
	var out []directory.Group
	cursor := ""
	for {
		page, err := c.svc().Store.ListGroups(r.Context(), store.ListQuery{Limit: store.MaxLimit, Cursor: cursor})
		if err != nil {
			return nil, err
		}
		out = append(out, page.Items...)
		if page.Next == "" {
			return out, nil
		}
		cursor = page.Next
	}
}

// groupRefused shows a refusal on a tab of the group page.
func (c *Console) groupRefused(w http.ResponseWriter, r *http.Request, v *view, g directory.Group, tab string, err error) error {
	if !v.fieldErrors(err, "username", "group_id", "type") {
		return err
	}
	q := r.URL.Query()
	if tab != "" {
		q.Set("tab", tab)
	}
	r.URL.RawQuery = q.Encode()
	return c.renderGroup(w, r, v, http.StatusUnprocessableEntity, g)
}

// addGroupMember adds the user named in the form to the group (G2).
func (c *Console) addGroupMember(w http.ResponseWriter, r *http.Request, v *view) error {
	g, err := c.writableGroup(r, v)
	if err != nil {
		return err
	}
	name := r.PostFormValue("username")
	u, err := c.svc().Store.GetUserByUsername(r.Context(), directory.Scope{}, name)
	if errors.Is(err, store.ErrNotFound) {
		err = directory.FieldErrors{{Field: "username", Code: directory.CodeInvalid, Message: v.T("err.nouser", name)}}
	}
	if err == nil {
		err = c.svc().AddMembers(r.Context(), actor(r, v), g.ID, []directory.UserID{u.ID})
	}
	if err != nil {
		return c.groupRefused(w, r, v, g, "members", err)
	}
	return redirect(w, r, Prefix+"groups/"+string(g.ID)+"?tab=members&done=saved")
}

func (c *Console) removeGroupMember(w http.ResponseWriter, r *http.Request, v *view) error {
	g, err := c.writableGroup(r, v)
	if err != nil {
		return err
	}
	if err := c.svc().RemoveMember(r.Context(), actor(r, v), g.ID, directory.UserID(r.PathValue("user"))); err != nil {
		return c.groupRefused(w, r, v, g, "members", err)
	}
	return redirect(w, r, Prefix+"groups/"+string(g.ID)+"?tab=members&done=saved")
}

// setGroupRelation relates the group to another (G5); global is refused
// with the rule's message next to the field.
func (c *Console) setGroupRelation(w http.ResponseWriter, r *http.Request, v *view) error {
	g, err := c.writableGroup(r, v)
	if err != nil {
		return err
	}
	t := directory.RelationType(r.PostFormValue("type"))
	if !t.Valid() {
		err = directory.FieldErrors{{Field: "type", Code: directory.CodeInvalid, Message: v.T("err.relationtype")}}
	} else {
		err = c.svc().SetRelation(r.Context(), actor(r, v), g.ID, directory.GroupID(r.PostFormValue("group_id")), t)
	}
	if err != nil {
		return c.groupRefused(w, r, v, g, "relations", err)
	}
	return redirect(w, r, Prefix+"groups/"+string(g.ID)+"?tab=relations&done=saved")
}

func (c *Console) removeGroupRelation(w http.ResponseWriter, r *http.Request, v *view) error {
	g, err := c.writableGroup(r, v)
	if err != nil {
		return err
	}
	if err := c.svc().RemoveRelation(r.Context(), actor(r, v), g.ID, directory.GroupID(r.PathValue("other"))); err != nil {
		return c.groupRefused(w, r, v, g, "relations", err)
	}
	return redirect(w, r, Prefix+"groups/"+string(g.ID)+"?tab=relations&done=saved")
}

// assignGroupRoles applies the roles assign dialog of a group (R3, C2).
func (c *Console) assignGroupRoles(w http.ResponseWriter, r *http.Request, v *view) error {
	g, err := c.writableGroup(r, v)
	if err != nil {
		return err
	}
	roles, err := c.svc().Store.GroupRoles(r.Context(), g.ID)
	if err != nil {
		return err
	}
	add, remove := diff(roleIDs(roles), r.PostForm["assigned"])
	if len(add) > 0 {
		if err := c.svc().AssignGroupRoles(r.Context(), actor(r, v), g.ID, add); err != nil {
			return c.groupRefused(w, r, v, g, "roles", err)
		}
	}
	for _, id := range remove {
		if err := c.svc().UnassignGroupRole(r.Context(), actor(r, v), g.ID, id); err != nil {
			return c.groupRefused(w, r, v, g, "roles", err)
		}
	}
	return redirect(w, r, Prefix+"groups/"+string(g.ID)+"?tab=roles&done=saved")
}
