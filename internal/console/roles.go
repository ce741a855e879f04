package console

import (
	"net/http"
	"slices"

	"opsiam/internal/directory"
	"opsiam/internal/manage"
	"opsiam/internal/store"
)

func (c *Console) mountRoles(mux *http.ServeMux) {
	mux.Handle("GET "+Prefix+"roles", c.page(c.listRoles))
	mux.Handle("GET "+Prefix+"roles/new", c.page(c.newRole))
	mux.Handle("POST "+Prefix+"roles/new", c.page(c.createRole))
	mux.Handle("GET "+Prefix+"roles/{id}", c.page(c.showRole))
	mux.Handle("POST "+Prefix+"roles/{id}/edit", c.page(c.updateRole))
	mux.Handle("POST "+Prefix+"roles/{id}/delete", c.page(c.deleteRole))
	mux.Handle("POST "+Prefix+"roles/{id}/contains", c.page(c.assignContains))
	mux.Handle("POST "+Prefix+"roles/{id}/users", c.page(c.addRoleUser))
}

func roleFields() []string { return []string{"name", "description"} }

// listRoles lists roles with their type (R1); delete is offered only for
// custom roles (R2).
func (c *Console) listRoles(w http.ResponseWriter, r *http.Request, v *view) error {
	if err := v.Me.needRead(); err != nil {
		return err
	}
	q := r.URL.Query()
	t := directory.RoleType(q.Get("type"))
	if !t.Valid() {
		t = ""
	}
	page, err := c.svc().Store.ListRoles(r.Context(), store.RoleQuery{ListQuery: store.ListQuery{Q: q.Get("q"), Limit: c.cfg.PageSize,
		Cursor: q.Get("cursor")}, Type: t})
	if err != nil && !v.fieldErrors(err) {
		return err
	}
	if done := q.Get("done"); done != "" && messages.Has(v.Lang, "done."+done) {
		v.Notice = v.T("done." + done)
	}
	v.Title, v.Nav = "roles.title", "roles"
	v.Data = listPage[directory.Role]{Q: q.Get("q"), Items: page.Items, Next: page.Next, First: q.Get("cursor") == "", Extra: string(t)}
	c.render(w, http.StatusOK, "roles", v)
	return nil
}

func (c *Console) newRole(w http.ResponseWriter, r *http.Request, v *view) error {
	if err := v.Me.needWrite(); err != nil {
		return err
	}
	v.Title, v.Nav, v.Data = "role.new", "roles", directory.Role{}
	c.render(w, http.StatusOK, "role_form", v)
	return nil
}

// createRole adds a custom role (R2).
func (c *Console) createRole(w http.ResponseWriter, r *http.Request, v *view) error {
	if err := v.Me.needWrite(); err != nil {
		return err
	}
	in := directory.Role{Name: r.PostFormValue("name"), Description: r.PostFormValue("description"), Type: directory.RoleCustom}
	created, err := c.svc().CreateRole(r.Context(), actor(r, v), in)
	if err != nil {
		if v.fieldErrors(err, roleFields()...) {
			v.Title, v.Nav, v.Data = "role.new", "roles", in
			c.render(w, http.StatusUnprocessableEntity, "role_form", v)
			return nil
		}
		return err
	}
	return redirect(w, r, Prefix+"roles/"+string(created.ID)+"?done=created")
}

// rolePage is the data of a role's detail page (R4).
type rolePage struct {
	Role      directory.Role
	Tab       string
	Users     []directory.User
	UsersNext string
	Groups    []directory.Group
	Contains  []directory.Role
	Dialog    assignLists
	Drawing   roleDrawing
}

func roleTabs() []string { return []string{"users", "groups", "contains"} }

func (c *Console) readableRole(r *http.Request, v *view) (directory.Role, error) {
	if err := v.Me.needRead(); err != nil {
		return directory.Role{}, err
	}
	return c.svc().Store.GetRole(r.Context(), roleID(r))
}

func (c *Console) showRole(w http.ResponseWriter, r *http.Request, v *view) error {
	role, err := c.readableRole(r, v)
	if err != nil {
		return err
	}
	return c.renderRole(w, r, v, http.StatusOK, role)
}

func (c *Console) renderRole(w http.ResponseWriter, r *http.Request, v *view, status int, role directory.Role) error {
	ctx := r.Context()
	q := r.URL.Query()
	p := rolePage{Role: role, Tab: q.Get("tab")}
	if !slices.Contains(roleTabs(), p.Tab) {
		p.Tab = "users"
	}
	if done := q.Get("done"); done != "" && messages.Has(v.Lang, "done."+done) {
		v.Notice = v.T("done." + done)
	}
	switch p.Tab {
	case "users":
		page, err := c.svc().Store.RoleUsers(ctx, directory.Scope{}, role.ID, store.ListQuery{Limit: c.cfg.PageSize, Cursor: q.Get("cursor")})
		if err != nil {
			return err
		}
		p.Users, p.UsersNext = page.Items, page.Next
	case "groups":
		groups, err := c.svc().Store.RoleGroups(ctx, role.ID)
		if err != nil {
			return err
		}
		p.Groups = groups
	case "contains":
		g, err := c.svc().RoleGraph(ctx)
		if err != nil {
			return err
		}
		for _, id := range g.Contains(role.ID) {
			if child, ok := g.Role(id); ok {
				p.Contains = append(p.Contains, child)
			}
		}
		if v.Me.CanWrite() && role.Type == directory.RoleCustom {
			p.Dialog = roleChoices(g, p.Contains, role.ID)
		}
		p.Drawing = drawRole(g, role.ID)
	}
	v.Title, v.Nav, v.Data = "role.title", "roles", p
	c.render(w, status, "role", v)
	return nil
}

func (c *Console) roleRefused(w http.ResponseWriter, r *http.Request, v *view, role directory.Role, tab string, err error) error {
	if !v.fieldErrors(err, roleFields()...) {
		return err
	}
	if tab != "" {
		q := r.URL.Query()
		q.Set("tab", tab)
		r.URL.RawQuery = q.Encode()
	}
	return c.renderRole(w, r, v, http.StatusUnprocessableEntity, role)
}

// updateRole changes a custom role's description; the name never changes
// and predefined roles are refused by the rules (R2).
func (c *Console) updateRole(w http.ResponseWriter, r *http.Request, v *view) error {
	role, err := c.readableRole(r, v)
	if err != nil {
		return err
	}
	if err := v.Me.needWrite(); err != nil {
		return err
	}
	desc := r.PostFormValue("description")
	if _, err := c.svc().UpdateRole(r.Context(), actor(r, v), role.ID, parseVersion(r.PostFormValue("version")),
		manage.RolePatch{Description: &desc}); err != nil {
		role.Description = desc
		return c.roleRefused(w, r, v, role, "", err)
	}
	return redirect(w, r, Prefix+"roles/"+string(role.ID)+"?done=saved")
}

// deleteRole deletes a custom role after confirmation (R2).
func (c *Console) deleteRole(w http.ResponseWriter, r *http.Request, v *view) error {
	role, err := c.readableRole(r, v)
	if err != nil {
		return err
	}
	if err := v.Me.needWrite(); err != nil {
		return err
	}
	if err := c.svc().DeleteRole(r.Context(), actor(r, v), role.ID, 0); err != nil {
		return c.roleRefused(w, r, v, role, "", err)
	}
	return redirect(w, r, Prefix+"roles?done=deleted")
}

// assignContains applies the containment dialog of a custom role (R2, R3):
// cycles and predefined parents are refused by the rules.
func (c *Console) assignContains(w http.ResponseWriter, r *http.Request, v *view) error {
	role, err := c.readableRole(r, v)
	if err != nil {
		return err
	}
	if err := v.Me.needWrite(); err != nil {
		return err
	}
	g, err := c.svc().RoleGraph(r.Context())
	if err != nil {
		return err
	}
	add, remove := diff(g.Contains(role.ID), r.PostForm["assigned"])
	if len(add) > 0 {
		if err := c.svc().AddContains(r.Context(), actor(r, v), role.ID, add); err != nil {
			return c.roleRefused(w, r, v, role, "contains", err)
		}
	}
	for _, id := range remove {
		if err := c.svc().RemoveContains(r.Context(), actor(r, v), role.ID, id); err != nil {
			return c.roleRefused(w, r, v, role, "contains", err)
		}
	}
	return redirect(w, r, Prefix+"roles/"+string(role.ID)+"?tab=contains&done=saved")
}
