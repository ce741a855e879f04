package console

import (
	"net/http"
	"strings"

	"opsiam/internal/oidc"
	"opsiam/internal/store"
)

// The Applications area registers the OpenID Connect clients of the
// platform's applications (S1) through oidc.ClientService. It needs
// client.write (user_admin, §8); anyone else gets 404.

func (c *Console) mountApps(mux *http.ServeMux) {
	mux.Handle("GET "+Prefix+"apps", c.page(c.listApps))
	mux.Handle("GET "+Prefix+"apps/new", c.page(c.newApp))
	mux.Handle("POST "+Prefix+"apps/new", c.page(c.createApp))
	mux.Handle("POST "+Prefix+"apps/{id}/delete", c.page(c.deleteApp))
}

func appFields() []string {
	return []string{"client_id", "name", "redirect_uris", "post_logout_redirect_uris", "backchannel_logout_uri",
		"public", "grant_types", "itsm", "access_roles", "claims"}
}

// needApps allows the Applications area: configured and client.write.
func (c *Console) needApps(v *view) error {
	if c.cfg.Clients == nil {
		return errNotFound
	}
	return v.Me.caller().AppsAccess()
}

func (c *Console) listApps(w http.ResponseWriter, r *http.Request, v *view) error {
	if err := c.needApps(v); err != nil {
		return err
	}
	clients, err := c.cfg.Clients.List(r.Context())
	if err != nil {
		return err
	}
	if done := r.URL.Query().Get("done"); done != "" && messages.Has(v.Lang, "done."+done) {
		v.Notice = v.T("done." + done)
	}
	v.Title, v.Nav, v.Data = "apps.title", "apps", clients
	c.render(w, http.StatusOK, "apps", v)
	return nil
}

// appForm is the data of the add form; Secret is set once after a create.
type appForm struct {
	In     oidc.ClientInput
	Secret string
	Client store.OIDCClient
	Claims []string
}

func (c *Console) newApp(w http.ResponseWriter, r *http.Request, v *view) error {
	if err := c.needApps(v); err != nil {
		return err
	}
	in := oidc.ClientInput{GrantTypes: []string{oidc.GrantAuthorizationCode, oidc.GrantRefreshToken}, Claims: oidc.OptionalClaims()}
	v.Title, v.Nav, v.Data = "apps.new", "apps", appForm{In: in, Claims: oidc.OptionalClaims()}
	c.render(w, http.StatusOK, "app_form", v)
	return nil
}

// lines splits a textarea into its non-empty trimmed lines.
func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// createApp registers a client and shows its secret this once (S1).
func (c *Console) createApp(w http.ResponseWriter, r *http.Request, v *view) error {
	if err := c.needApps(v); err != nil {
		return err
	}
	f := r.PostFormValue
	in := oidc.ClientInput{ClientID: strings.TrimSpace(f("client_id")), Name: f("name"), RedirectURIs: lines(f("redirect_uris")),
		PostLogoutRedirectURIs: lines(f("post_logout_redirect_uris")), BackchannelLogoutURI: strings.TrimSpace(f("backchannel_logout_uri")),
		Public: f("public") == "on", GrantTypes: r.PostForm["grant_types"], ITSM: f("itsm") == "on",
		AccessRoles: lines(f("access_roles")), Claims: append([]string{}, r.PostForm["claims"]...)}
	a := actor(r, v)
	client, secret, err := c.cfg.Clients.Create(r.Context(), oidc.Actor{ID: string(a.ID), Name: a.Username, Source: a.Source}, in)
	if err != nil {
		if v.fieldErrors(err, appFields()...) {
			v.Title, v.Nav, v.Data = "apps.new", "apps", appForm{In: in, Claims: oidc.OptionalClaims()}
			c.render(w, http.StatusUnprocessableEntity, "app_form", v)
			return nil
		}
		return err
	}
	v.Title, v.Nav, v.Data = "apps.created", "apps", appForm{Secret: secret, Client: client}
	c.render(w, http.StatusOK, "app_secret", v)
	return nil
}

// deleteApp removes a client after the confirmation dialog.
func (c *Console) deleteApp(w http.ResponseWriter, r *http.Request, v *view) error {
	if err := c.needApps(v); err != nil {
		return err
	}
	a := actor(r, v)
	if err := c.cfg.Clients.Delete(r.Context(), oidc.Actor{ID: string(a.ID), Name: a.Username, Source: a.Source}, r.PathValue("id")); err != nil {
		return err
	}
	return redirect(w, r, Prefix+"apps?done=deleted")
}

// CanApps reports client.write: managing applications (S1, §8).
func (p *principal) CanApps() bool { return p.caller().AppsAccess() == nil }
