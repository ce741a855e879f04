package httpapi

import (
	"context"
	"net/http"

	"opsiam/internal/directory"
	"opsiam/internal/provision"
	"opsiam/internal/provision/gitlab"
	"opsiam/internal/provision/webhook"
	"opsiam/internal/store"
)

// The outbox (P1) and webhook endpoints (P3) of SPEC §7. Both need
// client.write (user_admin: "manage OIDC clients, webhooks, provisioning"),
// for reading too, since payloads carry personal data; others get 404.

func needClientWrite(r *http.Request) error { return actor(r).AppsAccess() }

func provActor(r *http.Request) provision.Actor {
	a := actor(r)
	return provision.Actor{ID: string(a.ID), Name: a.Username, Source: a.Source}
}

// deliveryKey reads the {id} of an outbox path ("SEQ:TARGET").
func deliveryKey(r *http.Request) (store.DeliveryKey, error) {
	k, ok := provision.ParseDeliveryID(r.PathValue("id"))
	if !ok {
		return k, store.ErrNotFound
	}
	return k, nil
}

func (a *API) outbox(r *http.Request) (*provision.Outbox, error) {
	if err := needClientWrite(r); err != nil {
		return nil, err
	}
	if a.Outbox == nil {
		return nil, store.ErrNotFound
	}
	return a.Outbox, nil
}

// listOutbox lists deliveries, filtered by state and target, cursor paged.
func (a *API) listOutbox(w http.ResponseWriter, r *http.Request) error {
	o, err := a.outbox(r)
	if err != nil {
		return err
	}
	limit, cursor, err := listParams(r)
	if err != nil {
		return err
	}
	st := store.DeliveryState(r.URL.Query().Get("state"))
	switch st {
	case "", store.DeliveryPending, store.DeliveryDone, store.DeliveryDead, store.DeliveryDiscarded:
	default:
		return invalid("state", directory.CodeInvalid, "state must be pending, done, dead or discarded.")
	}
	page, err := o.List(r.Context(), store.DeliveryQuery{State: st, Target: r.URL.Query().Get("target"), Limit: limit, Cursor: cursor})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, newList(page, provision.View))
}

func (a *API) getDelivery(w http.ResponseWriter, r *http.Request) error {
	o, err := a.outbox(r)
	if err != nil {
		return err
	}
	k, err := deliveryKey(r)
	if err != nil {
		return err
	}
	d, err := o.Get(r.Context(), k)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, provision.View(d))
}

// replayDelivery makes a dead or discarded delivery pending again (P1);
// 409 for a pending or done one.
func (a *API) replayDelivery(w http.ResponseWriter, r *http.Request) error {
	return a.changeDelivery(w, r, (*provision.Outbox).Replay)
}

// discardDelivery gives a dead delivery up; 409 for a pending or done one.
func (a *API) discardDelivery(w http.ResponseWriter, r *http.Request) error {
	return a.changeDelivery(w, r, (*provision.Outbox).Discard)
}

func (a *API) changeDelivery(w http.ResponseWriter, r *http.Request,
	fn func(*provision.Outbox, context.Context, provision.Actor, store.DeliveryKey) error) error {
	o, err := a.outbox(r)
	if err != nil {
		return err
	}
	k, err := deliveryKey(r)
	if err != nil {
		return err
	}
	if err := fn(o, r.Context(), provActor(r), k); err != nil {
		return err
	}
	d, err := o.Get(r.Context(), k)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, provision.View(d))
}

func (a *API) webhooks(r *http.Request) (*webhook.Service, error) {
	if err := needClientWrite(r); err != nil {
		return nil, err
	}
	if a.Webhooks == nil {
		return nil, store.ErrNotFound
	}
	return a.Webhooks, nil
}

type webhookInput struct {
	URL         *string  `json:"url"`
	Description *string  `json:"description"`
	EventTypes  []string `json:"event_types"`
	Enabled     *bool    `json:"enabled"`
}

// apply sets the fields present in the body on in.
func (b webhookInput) apply(in *webhook.Input) {
	if b.URL != nil {
		in.URL = *b.URL
	}
	if b.Description != nil {
		in.Description = *b.Description
	}
	if b.EventTypes != nil {
		in.EventTypes = b.EventTypes
	}
	if b.Enabled != nil {
		in.Enabled = *b.Enabled
	}
}

func (a *API) listWebhooks(w http.ResponseWriter, r *http.Request) error {
	s, err := a.webhooks(r)
	if err != nil {
		return err
	}
	eps, err := s.List(r.Context())
	if err != nil {
		return err
	}
	out := list[webhook.EndpointView]{Items: make([]webhook.EndpointView, len(eps))}
	for i, e := range eps {
		out.Items[i] = webhook.View(e, false)
	}
	return writeJSON(w, http.StatusOK, out)
}

// createWebhook adds an endpoint; its signing secret is in this answer only.
func (a *API) createWebhook(w http.ResponseWriter, r *http.Request) error {
	s, err := a.webhooks(r)
	if err != nil {
		return err
	}
	var body webhookInput
	if err := decodeJSON(w, r, &body); err != nil {
		return err
	}
	in := webhook.Input{Enabled: true}
	body.apply(&in)
	ep, err := s.Create(r.Context(), provActor(r), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", Prefix+"/webhooks/"+ep.ID)
	return writeJSON(w, http.StatusCreated, webhook.View(ep, true))
}

func (a *API) getWebhook(w http.ResponseWriter, r *http.Request) error {
	s, err := a.webhooks(r)
	if err != nil {
		return err
	}
	ep, err := s.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, webhook.View(ep, false))
}

func (a *API) updateWebhook(w http.ResponseWriter, r *http.Request) error {
	s, err := a.webhooks(r)
	if err != nil {
		return err
	}
	cur, err := s.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	var body webhookInput
	if err := decodeJSON(w, r, &body); err != nil {
		return err
	}
	in := webhook.Input{URL: cur.URL, Description: cur.Description, EventTypes: cur.EventTypes, Enabled: cur.Enabled}
	body.apply(&in)
	ep, err := s.Update(r.Context(), provActor(r), cur.ID, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, webhook.View(ep, false))
}

func (a *API) deleteWebhook(w http.ResponseWriter, r *http.Request) error {
	s, err := a.webhooks(r)
	if err != nil {
		return err
	}
	if err := s.Delete(r.Context(), provActor(r), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type secretView struct {
	Secret string `json:"secret"`
}

// rotateWebhookSecret makes a new signing secret, shown in this answer only.
func (a *API) rotateWebhookSecret(w http.ResponseWriter, r *http.Request) error {
	s, err := a.webhooks(r)
	if err != nil {
		return err
	}
	secret, err := s.RotateSecret(r.Context(), provActor(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, secretView{Secret: secret})
}

// groupGitMembers is the Git members tab of a group (G2, P2): every member
// of the GitLab group with its Git role, and "No Access" for an opsiam
// member that GitLab does not list. The reserved group global is not
// mirrored to GitLab and lists nobody.
func (a *API) groupGitMembers(w http.ResponseWriter, r *http.Request) error {
	if err := needDirectoryRead(r); err != nil {
		return err
	}
	g, err := a.Manage.Store.GetGroup(r.Context(), groupID(r))
	if err != nil {
		return err
	}
	if a.GitLab == nil {
		return &httpError{Status: http.StatusNotFound, Title: "not found", Detail: "GitLab provisioning is not configured."}
	}
	out := list[gitlab.Member]{Items: []gitlab.Member{}}
	if g.IsReserved() {
		return writeJSON(w, http.StatusOK, out)
	}
	var names []string
	cursor := ""
	for {
		page, err := a.Manage.Store.ListMembers(r.Context(), directory.Scope{}, g.ID, store.ListQuery{Limit: store.MaxLimit, Cursor: cursor})
		if err != nil {
			return err
		}
		for _, u := range page.Items {
			names = append(names, u.Username)
		}
		if cursor = page.Next; cursor == "" {
			break
		}
	}
	members, err := a.GitLab.Members(r.Context(), g.Name, names)
	if err != nil {
		return &httpError{Status: http.StatusBadGateway, Title: "GitLab failed", Detail: "GitLab did not answer the member list.", Cause: err}
	}
	out.Items = append(out.Items, members...)
	return writeJSON(w, http.StatusOK, out)
}
