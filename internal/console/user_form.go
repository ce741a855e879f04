package console

import (
	"context"
	"errors"
	"net/http"

	"opsiam/internal/directory"
	"opsiam/internal/manage"
	"opsiam/internal/store"
)

// userFields are the form fields of the user form (U1), named as in the API.
func userFields() []string {
	return []string{"username", "email", "first_name", "last_name", "enabled", "email_verified", "otp_required",
		"company", "department", "address", "phone1", "phone2", "note", "customer_id", "timezone"}
}

// userForm is the data of the add and edit forms.
type userForm struct {
	New       bool
	User      directory.User
	Customers []directory.Customer // valid ones, plus the user's current one (C1)
	Zones     []string
}

// customerChoices lists the customers a user form offers: every valid
// customer, and the user's current customer even when it is invalid, so it
// keeps showing and the user can be moved to a valid one (C1).
func (c *Console) customerChoices(ctx context.Context, current directory.CustomerID) ([]directory.Customer, error) {
	var out []directory.Customer
	cursor := ""
	for {
		page, err := c.svc().Store.ListCustomers(ctx, store.CustomerQuery{ListQuery: store.ListQuery{Limit: store.MaxLimit, Cursor: cursor},
			State: directory.CustomerValid})
		if err != nil {
			return nil, err
		}
		out = append(out, page.Items...)
		if page.Next == "" {
			break
		}
		cursor = page.Next
	}
	if current != "" {
		for _, cu := range out {
			if cu.ID == current {
				return out, nil
			}
		}
		cu, err := c.svc().Store.GetCustomer(ctx, current)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		if err == nil {
			out = append(out, cu)
		}
	}
	return out, nil
}

func (c *Console) renderUserForm(w http.ResponseWriter, r *http.Request, v *view, status int, f userForm) error {
	cs, err := c.customerChoices(r.Context(), f.User.CustomerID)
	if err != nil {
		return err
	}
	f.Customers, f.Zones = cs, c.zones
	v.Nav, v.Data = "users", f
	v.Title = "user.edit"
	if f.New {
		v.Title = "user.new"
	}
	c.render(w, status, "user_form", v)
	return nil
}

// newUser shows the add form, but only after the personal-information
// confirmation (U8): without pi=1 it shows the confirmation instead.
func (c *Console) newUser(w http.ResponseWriter, r *http.Request, v *view) error {
	if err := v.Me.needWrite(); err != nil {
		return err
	}
	if r.URL.Query().Get("pi") != "1" {
		v.Title, v.Nav = "pi.title", "users"
		c.render(w, http.StatusOK, "confirm_pi", v)
		return nil
	}
	return c.renderUserForm(w, r, v, http.StatusOK, userForm{New: true,
		User: directory.User{Enabled: true, Timezone: c.defaultZone()}})
}

func (c *Console) defaultZone() string {
	if c.svc().Timezone != "" {
		return c.svc().Timezone
	}
	return manage.DefaultTimezone
}

// patchFromForm reads every field of the user form; unticked boxes are false.
func patchFromForm(r *http.Request, withUsername bool) manage.UserPatch {
	s := func(name string) *string { v := r.PostFormValue(name); return &v }
	b := func(name string) *bool { v := r.PostFormValue(name) == "on"; return &v }
	cid := directory.CustomerID(r.PostFormValue("customer_id"))
	p := manage.UserPatch{Email: s("email"), FirstName: s("first_name"), LastName: s("last_name"), Enabled: b("enabled"),
		OTPRequired: b("otp_required"), Company: s("company"), Department: s("department"), Address: s("address"),
		Phone1: s("phone1"), Phone2: s("phone2"), Note: s("note"), CustomerID: &cid, Timezone: s("timezone")}
	if withUsername {
		p.Username = s("username")
	}
	return p
}

// createUser adds a user (U1–U4) after the confirmation of U8.
func (c *Console) createUser(w http.ResponseWriter, r *http.Request, v *view) error {
	if err := v.Me.needWrite(); err != nil {
		return err
	}
	var u directory.User
	patchFromForm(r, true).Apply(&u)
	if r.PostFormValue("pi") != "1" {
		v.Title, v.Nav = "pi.title", "users"
		v.Error = v.T("pi.required")
		c.render(w, http.StatusUnprocessableEntity, "confirm_pi", v)
		return nil
	}
	return c.saveUser(w, r, v, tombFlow{action: Prefix + "users/new", cancel: Prefix + "users", user: u,
		preview: func() (directory.TombstoneConflict, error) { return c.svc().TombstonesForCreate(r.Context(), u) },
		save: func(res []directory.TombstoneResolution) error {
			created, err := c.svc().CreateUserResolving(r.Context(), actor(r, v), u, res)
			if err != nil {
				return err
			}
			return redirect(w, r, Prefix+"users/"+string(created.ID)+"?done=created")
		},
		form: func(status int) error {
			return c.renderUserForm(w, r, v, status, userForm{New: true, User: u})
		}})
}

// editUser shows the edit form (U9): every field but the user name.
func (c *Console) editUser(w http.ResponseWriter, r *http.Request, v *view) error {
	u, err := c.readableUser(r.Context(), v.Me, userID(r))
	if err != nil {
		return err
	}
	if err := v.Me.needWrite(); err != nil {
		return err
	}
	return c.renderUserForm(w, r, v, http.StatusOK, userForm{User: u})
}

// updateUser saves the edit form; a changed mail address clears "mail
// verified" unless the box is ticked by hand (U9).
func (c *Console) updateUser(w http.ResponseWriter, r *http.Request, v *view) error {
	old, err := c.readableUser(r.Context(), v.Me, userID(r))
	if err != nil {
		return err
	}
	if err := v.Me.needWrite(); err != nil {
		return err
	}
	p := patchFromForm(r, false)
	// Only a change of the box is a decision of the administrator; a new
	// mail address with the box left as it was clears "mail verified" and
	// sends a verification mail (U9).
	verified := r.PostFormValue("email_verified") == "on"
	if verified != old.EmailVerified {
		p.EmailVerified = &verified
	}
	version := parseVersion(r.PostFormValue("version"))
	shown := old
	p.Apply(&shown)
	shown.EmailVerified = verified
	page := Prefix + "users/" + string(old.ID)
	return c.saveUser(w, r, v, tombFlow{action: page + "/edit", cancel: page, user: shown,
		preview: func() (directory.TombstoneConflict, error) {
			return c.svc().TombstonesForUpdate(r.Context(), directory.Scope{}, old.ID, p)
		},
		save: func(res []directory.TombstoneResolution) error {
			u, err := c.svc().UpdateUserResolving(r.Context(), actor(r, v), directory.Scope{}, old.ID, version, p, res)
			if err != nil {
				return err
			}
			return redirect(w, r, Prefix+"users/"+string(u.ID)+"?done=saved")
		},
		form: func(status int) error { return c.renderUserForm(w, r, v, status, userForm{User: shown}) }})
}
