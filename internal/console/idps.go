package console

import (
	"net/http"
	"slices"
	"strings"

	"opsiam/internal/directory"
	"opsiam/internal/manage"
	"opsiam/internal/store"
)

// The Identity providers area registers customers' own OpenID Connect
// providers (issue 18) through the manage use cases, with the REST API's
// permission: client.write (others get 404). A provider's client secret
// is write-only: the edit form leaves it empty, and an empty field keeps
// the stored one.

func (c *Console) mountIdPs(mux *http.ServeMux) {
	mux.Handle("GET "+Prefix+"idps", c.page(c.listIdPs))
	mux.Handle("GET "+Prefix+"idps/new", c.page(c.newIdP))
	mux.Handle("POST "+Prefix+"idps/new", c.page(c.saveIdP))
	mux.Handle("GET "+Prefix+"idps/{id}", c.page(c.editIdP))
	mux.Handle("POST "+Prefix+"idps/{id}", c.page(c.saveIdP))
	mux.Handle("POST "+Prefix+"idps/{id}/enabled", c.page(c.toggleIdP))
	mux.Handle("POST "+Prefix+"idps/{id}/delete", c.page(c.deleteIdP))
	mux.Handle("POST "+Prefix+"users/{id}/identities", c.page(c.linkIdentity))
	mux.Handle("POST "+Prefix+"users/{id}/identities/{pid}/delete", c.page(c.unlinkIdentity))
}

func idpFields() []string {
	return []string{"name", "issuer", "client_id", "client_secret", "scopes", "customer_id", "domains", "auto_create",
		"role_ids", "enabled", "mandatory", "type"}
}

// idpForm is the data of the add and edit form.
type idpForm struct {
	P         directory.IdentityProvider
	New       bool
	Customers []directory.Customer
	Roles     []directory.Role
	Redirect  string // the redirect URI to register at the provider (edit only)
}

// HasRole reports whether the provider gives role id.
func (f idpForm) HasRole(id directory.RoleID) bool { return slices.Contains(f.P.RoleIDs, id) }

func (c *Console) listIdPs(w http.ResponseWriter, r *http.Request, v *view) error {
	ps, err := c.svc().ListIdentityProviders(r.Context(), actor(r, v))
	if err != nil {
		return err
	}
	if done := r.URL.Query().Get("done"); done != "" && messages.Has(v.Lang, "done."+done) {
		v.Notice = v.T("done." + done)
	}
	v.Title, v.Nav, v.Data = "idps.title", "idps", ps
	c.render(w, http.StatusOK, "idps", v)
	return nil
}

// idpChoices completes f with the customers and roles to choose from.
func (c *Console) idpChoices(r *http.Request, f *idpForm) error {
	cs, err := c.svc().Store.ListCustomers(r.Context(), store.CustomerQuery{ListQuery: store.ListQuery{Limit: store.MaxLimit}})
	if err != nil {
		return err
	}
	rs, err := c.svc().Store.ListRoles(r.Context(), store.RoleQuery{ListQuery: store.ListQuery{Limit: store.MaxLimit}})
	if err != nil {
		return err
	}
	f.Customers, f.Roles = cs.Items, rs.Items
	if f.P.ID != "" && c.cfg.BaseURL != "" {
		f.Redirect = strings.TrimSuffix(c.cfg.BaseURL, "/") + "/login/idp/" + f.P.ID + "/callback"
	}
	return nil
}

func (c *Console) showIdPForm(w http.ResponseWriter, r *http.Request, v *view, status int, f idpForm) error {
	if err := c.idpChoices(r, &f); err != nil {
		return err
	}
	v.Title, v.Nav, v.Data = "idps.edit", "idps", f
	if f.New {
		v.Title = "idps.new"
	}
	c.render(w, status, "idp_form", v)
	return nil
}

func (c *Console) newIdP(w http.ResponseWriter, r *http.Request, v *view) error {
	if err := actor(r, v).AppsAccess(); err != nil {
		return err
	}
	return c.showIdPForm(w, r, v, http.StatusOK, idpForm{New: true,
		P: directory.IdentityProvider{Enabled: true, Scopes: directory.DefaultScopes()}})
}

func (c *Console) editIdP(w http.ResponseWriter, r *http.Request, v *view) error {
	p, err := c.svc().GetIdentityProvider(r.Context(), actor(r, v), r.PathValue("id"))
	if err != nil {
		return err
	}
	return c.showIdPForm(w, r, v, http.StatusOK, idpForm{P: p})
}

// saveIdP creates (no id) or updates a provider from the form: every
// field is sent, so PATCH semantics equal PUT here; an empty secret keeps
// the stored one.
func (c *Console) saveIdP(w http.ResponseWriter, r *http.Request, v *view) error {
	a := actor(r, v)
	if err := a.AppsAccess(); err != nil {
		return err
	}
	f := r.PostFormValue
	fields := func(s string) []string { return strings.Fields(strings.ReplaceAll(s, ",", " ")) }
	p := directory.IdentityProvider{ID: r.PathValue("id"), Name: f("name"), Issuer: strings.TrimSpace(f("issuer")),
		ClientID: strings.TrimSpace(f("client_id")), Scopes: fields(f("scopes")), CustomerID: directory.CustomerID(f("customer_id")),
		Domains: fields(f("domains")), AutoCreate: f("auto_create") == "on", Enabled: f("enabled") == "on", Mandatory: f("mandatory") == "on"}
	for _, id := range r.PostForm["role_ids"] {
		p.RoleIDs = append(p.RoleIDs, directory.RoleID(id))
	}
	pp := manage.ProviderPatch{Name: &p.Name, Issuer: &p.Issuer, ClientID: &p.ClientID, Scopes: &p.Scopes, CustomerID: &p.CustomerID,
		Domains: &p.Domains, AutoCreate: &p.AutoCreate, RoleIDs: &p.RoleIDs, Enabled: &p.Enabled, Mandatory: &p.Mandatory}
	if secret := f("client_secret"); secret != "" || p.ID == "" {
		pp.ClientSecret = &secret
	}
	var err error
	if p.ID == "" {
		_, err = c.svc().CreateIdentityProvider(r.Context(), a, pp)
	} else {
		_, err = c.svc().UpdateIdentityProvider(r.Context(), a, p.ID, parseVersion(f("version")), pp)
	}
	if err != nil {
		if v.fieldErrors(err, idpFields()...) {
			return c.showIdPForm(w, r, v, http.StatusUnprocessableEntity, idpForm{P: p, New: p.ID == ""})
		}
		return err
	}
	if p.ID == "" {
		return redirect(w, r, Prefix+"idps?done=created")
	}
	return redirect(w, r, Prefix+"idps?done=saved")
}

// toggleIdP enables or disables a provider (field enabled: on or off).
func (c *Console) toggleIdP(w http.ResponseWriter, r *http.Request, v *view) error {
	on := r.PostFormValue("enabled") == "on"
	if _, err := c.svc().UpdateIdentityProvider(r.Context(), actor(r, v), r.PathValue("id"), 0, manage.ProviderPatch{Enabled: &on}); err != nil {
		return err
	}
	return redirect(w, r, Prefix+"idps?done=saved")
}

func (c *Console) deleteIdP(w http.ResponseWriter, r *http.Request, v *view) error {
	if err := c.svc().DeleteIdentityProvider(r.Context(), actor(r, v), r.PathValue("id")); err != nil {
		return err
	}
	return redirect(w, r, Prefix+"idps?done=deleted")
}

// linkIdentity links the user to an upstream account (provider and
// subject); manage.LinkIdentity decides (user.write, every permission the
// user holds, a provider of the user's customer).
func (c *Console) linkIdentity(w http.ResponseWriter, r *http.Request, v *view) error {
	if _, err := c.svc().LinkIdentity(r.Context(), actor(r, v), userID(r), r.PostFormValue("provider_id"), r.PostFormValue("subject")); err != nil {
		return err
	}
	return redirect(w, r, Prefix+"users/"+string(userID(r))+"?done=linked")
}

// linkChoices are the providers offered in a user's link form: those
// directory.MayLinkIdentity allows for u, when the viewer may list
// providers and write users; nil otherwise (no form).
func (c *Console) linkChoices(r *http.Request, v *view, u directory.User) ([]directory.IdentityProvider, error) {
	if !v.Me.CanWrite() || !v.Me.CanIdPs() {
		return nil, nil
	}
	ps, err := c.svc().ListIdentityProviders(r.Context(), actor(r, v))
	if err != nil {
		return nil, err
	}
	var out []directory.IdentityProvider
	for _, p := range ps {
		if directory.MayLinkIdentity(p, u) == nil {
			out = append(out, p)
		}
	}
	return out, nil
}

// unlinkIdentity removes a user's link to a provider (user.write).
func (c *Console) unlinkIdentity(w http.ResponseWriter, r *http.Request, v *view) error {
	a := actor(r, v)
	if _, _, err := c.svc().ReadUser(r.Context(), a, userID(r)); err != nil {
		return err
	}
	if err := c.svc().UnlinkIdentity(r.Context(), a, userID(r), r.PathValue("pid")); err != nil {
		return err
	}
	return redirect(w, r, Prefix+"users/"+string(userID(r))+"?done=unlinked")
}

// CanIdPs reports client.write: managing identity providers (issue 18).
func (p *principal) CanIdPs() bool { return p.caller().AppsAccess() == nil }
