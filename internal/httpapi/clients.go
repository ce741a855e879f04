package httpapi

import (
	"context"
	"net/http"
	"net/url"

	"opsiam/internal/oidc"
	"opsiam/internal/store"
)

// The OpenID Connect clients of SPEC §7 (/api/v1/clients, S1). Managing
// them needs client.write (user_admin: "manage OIDC clients, webhooks,
// provisioning"), for reading too, since a client's settings decide where
// sign-ins go; others get 404 like the webhooks.

// ClientManager registers relying parties: validation, secrets and the
// audit record of each change (O1, P3). *oidc.ClientService satisfies it.
type ClientManager interface {
	List(ctx context.Context) ([]store.OIDCClient, error)
	Get(ctx context.Context, id string) (store.OIDCClient, error)
	// Create returns the client and its secret, shown once (empty for a
	// public client).
	Create(ctx context.Context, actor oidc.Actor, in oidc.ClientInput) (store.OIDCClient, string, error)
	// Update replaces the settings of client id; a client made
	// confidential gets a new secret, returned once.
	Update(ctx context.Context, actor oidc.Actor, id string, in oidc.ClientInput) (store.OIDCClient, string, error)
	RotateSecret(ctx context.Context, actor oidc.Actor, id string) (string, error)
	Delete(ctx context.Context, actor oidc.Actor, id string) error
}

// clients checks client.write and returns the client service; nil answers 404.
func (a *API) clients(r *http.Request) (ClientManager, error) {
	if err := needClientWrite(r); err != nil {
		return nil, err
	}
	if a.Clients == nil {
		return nil, store.ErrNotFound
	}
	return a.Clients, nil
}

func oidcActor(r *http.Request) oidc.Actor {
	a := actor(r)
	return oidc.Actor{ID: string(a.ID), Name: a.Username, Source: a.Source}
}

// clientWithSecret is a client with its secret, shown only in the answer
// that made the secret.
type clientWithSecret struct {
	oidc.ClientView
	ClientSecret string `json:"client_secret,omitempty"`
}

func (a *API) listClients(w http.ResponseWriter, r *http.Request) error {
	s, err := a.clients(r)
	if err != nil {
		return err
	}
	cs, err := s.List(r.Context())
	if err != nil {
		return err
	}
	out := list[oidc.ClientView]{Items: make([]oidc.ClientView, len(cs))}
	for i, c := range cs {
		out.Items[i] = clientView(c)
	}
	return writeJSON(w, http.StatusOK, out)
}

// createClient registers a client; its secret is in this answer only.
func (a *API) createClient(w http.ResponseWriter, r *http.Request) error {
	s, err := a.clients(r)
	if err != nil {
		return err
	}
	var in oidc.ClientInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	c, secret, err := s.Create(r.Context(), oidcActor(r), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", Prefix+"/clients/"+url.PathEscape(c.ID))
	return writeJSON(w, http.StatusCreated, clientWithSecret{ClientView: clientView(c), ClientSecret: secret})
}

func (a *API) getClient(w http.ResponseWriter, r *http.Request) error {
	s, err := a.clients(r)
	if err != nil {
		return err
	}
	c, err := s.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, clientView(c))
}

// updateClient sets the fields present in the body and keeps the others
// (PUT and PATCH alike, as everywhere in this API). The answer carries
// client_secret only when the change made a public client confidential.
func (a *API) updateClient(w http.ResponseWriter, r *http.Request) error {
	s, err := a.clients(r)
	if err != nil {
		return err
	}
	cur, err := s.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	in := oidc.ClientInput{ClientID: cur.ID, Name: cur.Name, RedirectURIs: cur.RedirectURIs,
		PostLogoutRedirectURIs: cur.PostLogoutRedirectURIs, BackchannelLogoutURI: cur.BackchannelLogoutURI,
		Public: cur.Public, GrantTypes: cur.GrantTypes, ITSM: cur.ITSM, AccessRoles: cur.AccessRoles, Claims: cur.Claims,
		AccessAPI: cur.AccessAPI, ResourceServer: cur.ResourceServer, IDTokenAlg: cur.IDTokenAlg}
	if in.Claims == nil {
		in.Claims = []string{}
	}
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	c, secret, err := s.Update(r.Context(), oidcActor(r), cur.ID, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, clientWithSecret{ClientView: clientView(c), ClientSecret: secret})
}

func (a *API) deleteClient(w http.ResponseWriter, r *http.Request) error {
	s, err := a.clients(r)
	if err != nil {
		return err
	}
	if err := s.Delete(r.Context(), oidcActor(r), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type clientSecretView struct {
	ClientSecret string `json:"client_secret"`
}

// rotateClientSecret makes a new secret, shown in this answer only; the
// old one stops working at once.
func (a *API) rotateClientSecret(w http.ResponseWriter, r *http.Request) error {
	s, err := a.clients(r)
	if err != nil {
		return err
	}
	secret, err := s.RotateSecret(r.Context(), oidcActor(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, clientSecretView{ClientSecret: secret})
}

// clientView is the API form of c, with empty lists rather than null.
func clientView(c store.OIDCClient) oidc.ClientView {
	v := oidc.NewClientView(c)
	for _, l := range []*[]string{&v.RedirectURIs, &v.PostLogoutRedirectURIs, &v.GrantTypes, &v.AccessRoles, &v.Claims} {
		if *l == nil {
			*l = []string{}
		}
	}
	return v
}
