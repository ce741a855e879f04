package console

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"opsiam/internal/directory"
	"opsiam/internal/provision"
	"opsiam/internal/store"
)

// The Outbox page shows the deliveries of the provisioning outbox (P1) by
// state — pending, dead, done, discarded — and lets an administrator
// replay a dead (or discarded) delivery or discard a dead one, after a
// confirmation, through provision.Outbox (the service behind
// /api/v1/outbox, which writes the audit record). Like the REST API it
// needs client.write, for reading too, since payloads carry personal
// data; anyone else gets 404.

func (c *Console) mountOutbox(mux *http.ServeMux) {
	mux.Handle("GET "+Prefix+"outbox", c.page(c.outbox))
	mux.Handle("POST "+Prefix+"outbox/replay", c.page(c.replayDelivery))
	mux.Handle("POST "+Prefix+"outbox/discard", c.page(c.discardDelivery))
}

// CanOutbox reports whether the caller sees the Outbox page: the console
// has the outbox service and the caller holds client.write.
func (v *view) CanOutbox() bool { return v.outboxOn && v.Me != nil && v.Me.CanApps() }

func (c *Console) needOutbox(v *view) error {
	if !v.CanOutbox() {
		return errNotFound
	}
	return nil
}

// outboxStates are the filters of the page, in order; dead is the default.
func outboxStates() []store.DeliveryState {
	return []store.DeliveryState{store.DeliveryDead, store.DeliveryPending, store.DeliveryDone, store.DeliveryDiscarded}
}

// outboxPage is the data of the Outbox page.
type outboxPage struct {
	State  string
	States []outboxState
	Items  []provision.DeliveryView
	Next   string
	First  bool
}

type outboxState struct {
	Name  string
	Count int
}

func (c *Console) outbox(w http.ResponseWriter, r *http.Request, v *view) error {
	if err := c.needOutbox(v); err != nil {
		return err
	}
	return c.renderOutbox(w, r, v, http.StatusOK, r.URL.Query().Get("state"), r.URL.Query().Get("cursor"))
}

func (c *Console) renderOutbox(w http.ResponseWriter, r *http.Request, v *view, status int, state, cursor string) error {
	if state == "" {
		state = string(store.DeliveryDead)
	}
	counts, err := c.cfg.Outbox.Counts(r.Context())
	if err != nil {
		return err
	}
	p := outboxPage{State: state, First: cursor == ""}
	known := false
	for _, s := range outboxStates() {
		p.States = append(p.States, outboxState{Name: string(s), Count: counts[s]})
		known = known || string(s) == state
	}
	if !known {
		v.fieldErrors(directory.FieldErrors{{Field: "state", Code: directory.CodeInvalid, Message: v.T("outbox.badstate")}})
		status = http.StatusUnprocessableEntity
	} else {
		page, err := c.cfg.Outbox.List(r.Context(), store.DeliveryQuery{State: store.DeliveryState(state), Limit: c.cfg.PageSize, Cursor: cursor})
		if err != nil {
			if !v.fieldErrors(err, "cursor") {
				return err
			}
			status = http.StatusUnprocessableEntity
		}
		for _, d := range page.Items {
			p.Items = append(p.Items, provision.View(d))
		}
		p.Next = page.Next
	}
	if done := r.URL.Query().Get("done"); done != "" && messages.Has(v.Lang, "outbox.done."+done) {
		v.Notice = v.T("outbox.done." + done)
	}
	v.Title, v.Nav, v.Data = "outbox.title", "outbox", p
	c.render(w, status, "outbox", v)
	return nil
}

func (c *Console) replayDelivery(w http.ResponseWriter, r *http.Request, v *view) error {
	return c.changeDelivery(w, r, v, "replayed", (*provision.Outbox).Replay)
}

func (c *Console) discardDelivery(w http.ResponseWriter, r *http.Request, v *view) error {
	return c.changeDelivery(w, r, v, "discarded", (*provision.Outbox).Discard)
}

// changeDelivery replays or discards the delivery posted as id; the list
// of the state posted as state is shown afterwards. A delivery that is no
// longer dead (replayed, delivered or discarded meanwhile) is a refusal
// shown above the list.
func (c *Console) changeDelivery(w http.ResponseWriter, r *http.Request, v *view, done string,
	fn func(*provision.Outbox, context.Context, provision.Actor, store.DeliveryKey) error) error {
	if err := c.needOutbox(v); err != nil {
		return err
	}
	k, ok := provision.ParseDeliveryID(r.PostFormValue("id"))
	if !ok {
		return errNotFound
	}
	state := r.PostFormValue("state")
	a := actor(r, v)
	err := fn(c.cfg.Outbox, r.Context(), provision.Actor{ID: string(a.ID), Name: a.Username, Source: a.Source}, k)
	switch {
	case errors.Is(err, store.ErrConflict):
		v.Errors = append(v.Errors, v.T("outbox.conflict"))
		return c.renderOutbox(w, r, v, http.StatusConflict, state, "")
	case err != nil:
		return err
	}
	q := url.Values{"state": {state}, "done": {done}}
	return redirect(w, r, Prefix+"outbox?"+q.Encode())
}
