package console

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"time"

	"opsiam/internal/directory"
	"opsiam/internal/manage"
	"opsiam/internal/store"
)

// option is one entry of an assign dialog list.
type option struct {
	ID, Name, Note string
}

// assignLists splits the choices of an assign dialog (U11).
type assignLists struct {
	Unassigned, Assigned []option
}

// effectiveRow is one effective role with the paths that grant it (R6).
type effectiveRow struct {
	Role  directory.Role
	Paths []string
	Cut   bool // more paths than directory.MaxWhyPaths: the list says so
}

// userPage is the data of a user's detail page (U11).
type userPage struct {
	User      directory.User
	Customer  *directory.Customer
	Billed    bool
	Tab       string
	Groups    []directory.Group
	Roles     []directory.Role
	Effective []effectiveRow
	GroupDlg  assignLists
	RoleDlg   assignLists
	Token     *manage.TokenInfo
	// Identities are the user's links to upstream accounts (issue 18).
	Identities []directory.Identity
	// LinkTo are the providers the link form offers (none: no form).
	LinkTo []directory.IdentityProvider
	// Passkeys are the user's passkeys, and PasskeyRemoval what the viewer
	// may do with them (issue 18).
	Passkeys       []store.Passkey
	PasskeyRemoval passkeyRemoval
}

func userTabs() []string { return []string{"groups", "roles", "effective"} }

func parseVersion(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

// showUser renders the detail page with one tab (groups, roles, effective
// roles) and the actions the caller may take.
func (c *Console) showUser(w http.ResponseWriter, r *http.Request, v *view) error {
	u, err := c.readableUser(r.Context(), v.Me, userID(r))
	if err != nil {
		return err
	}
	return c.renderUser(w, r, v, http.StatusOK, u)
}

func (c *Console) renderUser(w http.ResponseWriter, r *http.Request, v *view, status int, u directory.User) error {
	ctx := r.Context()
	p := userPage{User: u, Tab: r.URL.Query().Get("tab")}
	if !slices.Contains(userTabs(), p.Tab) {
		p.Tab = "groups"
	}
	if done := r.URL.Query().Get("done"); done != "" && messages.Has(v.Lang, "done."+done) {
		v.Notice = v.T("done." + done)
	}
	if u.CustomerID != "" {
		cu, err := c.svc().Store.GetCustomer(ctx, u.CustomerID)
		if err != nil {
			return err
		}
		p.Customer = &cu
	}
	g, err := c.svc().RoleGraph(ctx)
	if err != nil {
		return err
	}
	grants, err := c.svc().Store.UserGrants(ctx, u.ID)
	if err != nil {
		return err
	}
	eff := g.Effective(grants)
	p.Billed = directory.Billed(u, eff)
	// u was read in the viewer's scope (readableUser), as for the groups
	// and roles below: its links and passkeys need no second check.
	if p.Identities, err = c.svc().Store.UserIdentities(ctx, u.ID); err != nil {
		return err
	}
	if p.Passkeys, err = c.svc().Store.UserPasskeys(ctx, u.ID); err != nil {
		return err
	}
	p.PasskeyRemoval = passkeyRemovalFor(v, u)
	if p.LinkTo, err = c.linkChoices(r, v, u); err != nil {
		return err
	}
	switch p.Tab {
	case "groups":
		if p.Groups, err = c.svc().Store.UserGroups(ctx, u.ID); err != nil {
			return err
		}
		if v.Me.CanWrite() {
			if p.GroupDlg, err = c.groupChoices(r, p.Groups); err != nil {
				return err
			}
		}
	case "roles":
		if p.Roles, err = c.svc().Store.UserRoles(ctx, u.ID); err != nil {
			return err
		}
		if v.Me.CanWrite() {
			p.RoleDlg = roleChoices(g, p.Roles, "")
		}
	case "effective":
		for _, role := range eff.Roles() {
			row := effectiveRow{Role: role}
			paths, cut := g.WhyCut(grants, role.ID)
			for _, path := range paths {
				row.Paths = append(row.Paths, path.String())
			}
			row.Cut = cut
			p.Effective = append(p.Effective, row)
		}
	}
	if v.Me.CanToken() {
		t, err := c.svc().TokenOf(ctx, v.Me.caller(), u.ID)
		switch {
		case err == nil:
			p.Token = &t
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
	}
	v.Title, v.Nav, v.Data = "user.title", "users", p
	c.render(w, status, "user", v)
	return nil
}

// groupChoices lists every group but global (whose membership is implicit,
// U4) for the groups assign dialog.
func (c *Console) groupChoices(r *http.Request, assigned []directory.Group) (assignLists, error) {
	var out assignLists
	have := map[directory.GroupID]bool{}
	for _, g := range assigned {
		have[g.ID] = true
	}
	cursor := ""
	for {
		page, err := c.svc().Store.ListGroups(r.Context(), store.ListQuery{Limit: store.MaxLimit, Cursor: cursor})
		if err != nil {
			return out, err
		}
		for _, g := range page.Items {
			if g.IsReserved() {
				continue
			}
			o := option{ID: string(g.ID), Name: g.Name}
			if have[g.ID] {
				out.Assigned = append(out.Assigned, o)
			} else {
				out.Unassigned = append(out.Unassigned, o)
			}
		}
		if page.Next == "" {
			return out, nil
		}
		cursor = page.Next
	}
}

// roleChoices lists every assignable role (all but the implicit user role
// and, for containment, the role itself) for a roles assign dialog.
func roleChoices(g *directory.RoleGraph, assigned []directory.Role, self directory.RoleID) assignLists {
	var out assignLists
	have := map[directory.RoleID]bool{}
	for _, r := range assigned {
		have[r.ID] = true
	}
	for _, r := range g.Roles() {
		if directory.CheckRoleAssign(r) != nil || r.ID == self {
			continue
		}
		o := option{ID: string(r.ID), Name: r.Name, Note: string(r.Type)}
		if have[r.ID] {
			out.Assigned = append(out.Assigned, o)
		} else {
			out.Unassigned = append(out.Unassigned, o)
		}
	}
	return out
}

// writableUser loads a user for a change that needs user.write.
func (c *Console) writableUser(r *http.Request, v *view) (directory.User, error) {
	u, err := c.readableUser(r.Context(), v.Me, userID(r))
	if err != nil {
		return u, err
	}
	return u, v.Me.needWrite()
}

// refused renders the user page again with the refusal of err, or returns
// err when it is not a refusal.
func (c *Console) refused(w http.ResponseWriter, r *http.Request, v *view, u directory.User, err error) error {
	if !v.fieldErrors(err) {
		return err
	}
	return c.renderUser(w, r, v, http.StatusUnprocessableEntity, u)
}

// deleteUser deletes a user after the confirmation dialog; the reserved
// admin is refused by the rules (U10) and the refusal is shown.
func (c *Console) deleteUser(w http.ResponseWriter, r *http.Request, v *view) error {
	u, err := c.writableUser(r, v)
	if err != nil {
		return err
	}
	if err := c.svc().DeleteUser(r.Context(), actor(r, v), directory.Scope{}, u.ID, 0); err != nil {
		return c.refused(w, r, v, u, err)
	}
	return redirect(w, r, Prefix+"users?done=deleted")
}

// resetPassword sends a password-reset mail (A4).
func (c *Console) resetPassword(w http.ResponseWriter, r *http.Request, v *view) error {
	u, err := c.readableUser(r.Context(), v.Me, userID(r))
	if err != nil {
		return err
	}
	scope, ok := v.Me.actionScope()
	if !ok {
		return errForbidden
	}
	if err := c.svc().ResetPassword(r.Context(), actor(r, v), scope, u.ID); err != nil {
		return c.refused(w, r, v, u, err)
	}
	return redirect(w, r, Prefix+"users/"+string(u.ID)+"?done=reset")
}

// unlockUser lifts a lockout (A3).
func (c *Console) unlockUser(w http.ResponseWriter, r *http.Request, v *view) error {
	u, err := c.writableUser(r, v)
	if err != nil {
		return err
	}
	if _, err := c.svc().Unlock(r.Context(), actor(r, v), directory.Scope{}, u.ID); err != nil {
		return c.refused(w, r, v, u, err)
	}
	return redirect(w, r, Prefix+"users/"+string(u.ID)+"?done=unlocked")
}

// tokenPage shows a newly issued platform token once (A6).
type tokenPage struct {
	User  directory.User
	Token string
	Info  manage.TokenInfo
}

// issueToken issues a platform token and shows its text this once (A6).
func (c *Console) issueToken(w http.ResponseWriter, r *http.Request, v *view) error {
	u, err := c.readableUser(r.Context(), v.Me, userID(r))
	if err != nil {
		return err
	}
	if !v.Me.CanToken() {
		return errForbidden
	}
	text, info, err := c.svc().IssueToken(r.Context(), actor(r, v), u.ID, time.Time{})
	if err != nil {
		return c.refused(w, r, v, u, err)
	}
	v.Title, v.Nav, v.Data = "token.title", "users", tokenPage{User: u, Token: text, Info: info}
	c.render(w, http.StatusOK, "user_token", v)
	return nil
}

// revokeToken revokes the user's platform token at once (A6).
func (c *Console) revokeToken(w http.ResponseWriter, r *http.Request, v *view) error {
	u, err := c.readableUser(r.Context(), v.Me, userID(r))
	if err != nil {
		return err
	}
	if !v.Me.CanToken() {
		return errForbidden
	}
	if err := c.svc().RevokeToken(r.Context(), actor(r, v), u.ID); err != nil {
		return c.refused(w, r, v, u, err)
	}
	return redirect(w, r, Prefix+"users/"+string(u.ID)+"?done=revoked")
}
