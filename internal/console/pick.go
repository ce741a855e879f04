package console

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"opsiam/internal/directory"
	"opsiam/internal/store"
)

// pickUsers answers the pickers of the console (issue 17, point 10): the
// first 20 users the caller may read whose user name, mail, name or
// customer code starts with q, as JSON for a <datalist>. The search runs on
// the server, so the list works for any number of users.
func (c *Console) pickUsers(w http.ResponseWriter, r *http.Request, v *view) error {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	type option struct {
		Value string `json:"value"`
		Label string `json:"label"`
	}
	out := []option{}
	if q != "" {
		page, err := c.svc().ListUsers(r.Context(), v.Me.caller(), store.UserQuery{UserFilter: store.UserFilter{Q: q}, Limit: 20})
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		for _, u := range page.Items {
			out = append(out, option{Value: u.Username, Label: v.Name(u.FirstName, u.LastName) + " <" + u.Email + ">"})
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	return json.NewEncoder(w).Encode(out)
}

// addRoleUser gives the role to the user named in the form (R3), from
// the role's users tab.
func (c *Console) addRoleUser(w http.ResponseWriter, r *http.Request, v *view) error {
	role, err := c.readableRole(r, v)
	if err != nil {
		return err
	}
	if err := v.Me.needWrite(); err != nil {
		return err
	}
	name := r.PostFormValue("username")
	u, err := c.svc().Store.GetUserByUsername(r.Context(), directory.Scope{}, name)
	if errors.Is(err, store.ErrNotFound) {
		err = directory.FieldErrors{{Field: "username", Code: directory.CodeInvalid, Message: v.T("err.nouser", name)}}
	}
	if err == nil {
		err = c.svc().AssignUserRoles(r.Context(), actor(r, v), u.ID, []directory.RoleID{role.ID})
	}
	if err != nil {
		if !v.fieldErrors(err, "username") {
			return err
		}
		return c.renderRole(w, r, v, http.StatusUnprocessableEntity, role)
	}
	return redirect(w, r, Prefix+"roles/"+string(role.ID)+"?tab=users&done=saved")
}
