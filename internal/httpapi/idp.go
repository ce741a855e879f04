package httpapi

import (
	"net/http"
	"net/url"
	"time"

	"opsiam/internal/directory"
	"opsiam/internal/manage"
)

// Upstream identity providers (issue 18, SPEC §9):
// /identity-providers (client.write, reads included, decided in manage)
// and a user's links /users/{id}/identities (read: whoever may read the
// user; link and unlink: user.write and the user's whole power).

// providerInput is the body of a create, PUT or PATCH: the fields present
// are set, the others kept. client_secret is write-only.
type providerInput struct {
	Name         *string               `json:"name"`
	Type         *string               `json:"type"`
	Issuer       *string               `json:"issuer"`
	ClientID     *string               `json:"client_id"`
	ClientSecret *string               `json:"client_secret"`
	Scopes       *[]string             `json:"scopes"`
	CustomerID   *directory.CustomerID `json:"customer_id"`
	Domains      *[]string             `json:"domains"`
	AutoCreate   *bool                 `json:"auto_create"`
	RoleIDs      *[]directory.RoleID   `json:"role_ids"`
	Enabled      *bool                 `json:"enabled"`
	Mandatory    *bool                 `json:"mandatory"`
}

func (in providerInput) patch() manage.ProviderPatch {
	return manage.ProviderPatch{Name: in.Name, Type: in.Type, Issuer: in.Issuer, ClientID: in.ClientID,
		ClientSecret: in.ClientSecret, Scopes: in.Scopes, CustomerID: in.CustomerID, Domains: in.Domains,
		AutoCreate: in.AutoCreate, RoleIDs: in.RoleIDs, Enabled: in.Enabled, Mandatory: in.Mandatory}
}

// providerView is a provider as the API shows it, with the redirect URI
// to register at the provider; never the secret.
type providerView struct {
	directory.IdentityProvider
	RedirectURI string `json:"redirect_uri"`
}

func (a *API) providerView(p directory.IdentityProvider) providerView {
	return providerView{IdentityProvider: p, RedirectURI: a.BaseURL + "/login/idp/" + url.PathEscape(p.ID) + "/callback"}
}

func (a *API) listIdentityProviders(w http.ResponseWriter, r *http.Request) error {
	ps, err := a.Manage.ListIdentityProviders(r.Context(), actor(r))
	if err != nil {
		return err
	}
	out := list[providerView]{Items: make([]providerView, len(ps))}
	for i, p := range ps {
		out.Items[i] = a.providerView(p)
	}
	return writeJSON(w, http.StatusOK, out)
}

func (a *API) createIdentityProvider(w http.ResponseWriter, r *http.Request) error {
	if err := actor(r).AppsAccess(); err != nil {
		return err
	}
	var in providerInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	p, err := a.Manage.CreateIdentityProvider(r.Context(), actor(r), in.patch())
	if err != nil {
		return err
	}
	w.Header().Set("Location", Prefix+"/identity-providers/"+url.PathEscape(p.ID))
	return writeVersioned(w, http.StatusCreated, p.Version, a.providerView(p))
}

func (a *API) getIdentityProvider(w http.ResponseWriter, r *http.Request) error {
	p, err := a.Manage.GetIdentityProvider(r.Context(), actor(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeVersioned(w, http.StatusOK, p.Version, a.providerView(p))
}

func (a *API) updateIdentityProvider(w http.ResponseWriter, r *http.Request) error {
	if _, err := a.Manage.GetIdentityProvider(r.Context(), actor(r), r.PathValue("id")); err != nil {
		return err
	}
	var in providerInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	version, err := ifMatch(r)
	if err != nil {
		return err
	}
	p, err := a.Manage.UpdateIdentityProvider(r.Context(), actor(r), r.PathValue("id"), version, in.patch())
	if err != nil {
		return err
	}
	return writeVersioned(w, http.StatusOK, p.Version, a.providerView(p))
}

func (a *API) deleteIdentityProvider(w http.ResponseWriter, r *http.Request) error {
	if err := a.Manage.DeleteIdentityProvider(r.Context(), actor(r), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// identityView is one link of a user to an upstream account.
type identityView struct {
	ProviderID   string    `json:"provider_id"`
	ProviderName string    `json:"provider_name"`
	Subject      string    `json:"subject"`
	Email        string    `json:"email"`
	CreatedAt    time.Time `json:"created_at"`
}

func viewIdentity(id directory.Identity) identityView {
	return identityView{ProviderID: id.ProviderID, ProviderName: id.ProviderName, Subject: id.Subject, Email: id.Email, CreatedAt: id.CreatedAt}
}

func (a *API) userIdentities(w http.ResponseWriter, r *http.Request) error {
	ids, err := a.Manage.UserIdentities(r.Context(), actor(r), userID(r))
	if err != nil {
		return err
	}
	out := list[identityView]{Items: make([]identityView, len(ids))}
	for i, id := range ids {
		out.Items[i] = viewIdentity(id)
	}
	return writeJSON(w, http.StatusOK, out)
}

// linkIdentity links the user to an upstream account:
// {"provider_id": "...", "subject": "..."}.
func (a *API) linkIdentity(w http.ResponseWriter, r *http.Request) error {
	if _, _, err := a.Manage.ReadUser(r.Context(), actor(r), userID(r)); err != nil {
		return err
	}
	var in struct {
		ProviderID string `json:"provider_id"`
		Subject    string `json:"subject"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	id, err := a.Manage.LinkIdentity(r.Context(), actor(r), userID(r), in.ProviderID, in.Subject)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, viewIdentity(id))
}

func (a *API) unlinkIdentity(w http.ResponseWriter, r *http.Request) error {
	if _, _, err := a.Manage.ReadUser(r.Context(), actor(r), userID(r)); err != nil {
		return err
	}
	if err := a.Manage.UnlinkIdentity(r.Context(), actor(r), userID(r), r.PathValue("provider_id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
