package httpapi

import (
	"net/http"
	"time"

	"opsiam/internal/directory"
	"opsiam/internal/manage"
	"opsiam/internal/store"
)

func customerID(r *http.Request) directory.CustomerID { return directory.CustomerID(r.PathValue("id")) }

func (a *API) listCustomers(w http.ResponseWriter, r *http.Request) error {
	if err := needDirectoryRead(r); err != nil {
		return err
	}
	lq, err := listQuery(r)
	if err != nil {
		return err
	}
	st := directory.CustomerState(r.URL.Query().Get("state"))
	if st != "" && !st.Valid() {
		return invalid("state", directory.CodeInvalid, "state must be valid, invalid or invalid_temporarily.")
	}
	page, err := a.Manage.Store.ListCustomers(r.Context(), store.CustomerQuery{ListQuery: lq, State: st})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, newList(page, newCustomerView))
}

func (in customerInput) patch() manage.CustomerPatch {
	return manage.CustomerPatch{Code: in.Code, Name: in.Name, Street: in.Street, Zip: in.Zip, City: in.City,
		Country: in.Country, URL: in.URL, Comment: in.Comment, State: in.State}
}

func (a *API) createCustomer(w http.ResponseWriter, r *http.Request) error {
	if err := needDirectoryWrite(r); err != nil {
		return err
	}
	var in customerInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	var c directory.Customer
	for _, f := range []struct{ dst, v *string }{{&c.Code, in.Code}, {&c.Name, in.Name}, {&c.Street, in.Street},
		{&c.Zip, in.Zip}, {&c.City, in.City}, {&c.Country, in.Country}, {&c.URL, in.URL}, {&c.Comment, in.Comment}} {
		if f.v != nil {
			*f.dst = *f.v
		}
	}
	if in.State != nil {
		c.State = *in.State
	}
	created, err := a.Manage.CreateCustomer(r.Context(), actor(r), c)
	if err != nil {
		return err
	}
	w.Header().Set("Location", Prefix+"/customers/"+string(created.ID))
	return writeVersioned(w, http.StatusCreated, created.Version, newCustomerView(created))
}

func (a *API) getCustomer(w http.ResponseWriter, r *http.Request) error {
	if err := needDirectoryRead(r); err != nil {
		return err
	}
	c, err := a.Manage.Store.GetCustomer(r.Context(), customerID(r))
	if err != nil {
		return err
	}
	return writeVersioned(w, http.StatusOK, c.Version, newCustomerView(c))
}

func (a *API) updateCustomer(w http.ResponseWriter, r *http.Request) error {
	if err := needDirectoryWrite(r); err != nil {
		return err
	}
	if _, err := a.Manage.Store.GetCustomer(r.Context(), customerID(r)); err != nil {
		return err
	}
	var in customerInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	version, err := ifMatch(r)
	if err != nil {
		return err
	}
	c, err := a.Manage.UpdateCustomer(r.Context(), actor(r), customerID(r), version, in.patch())
	if err != nil {
		return err
	}
	return writeVersioned(w, http.StatusOK, c.Version, newCustomerView(c))
}

type billingView struct {
	Billed    int `json:"billed"`
	NonBilled int `json:"non_billed"`
	Total     int `json:"total"`
}

// billing answers the counts of B1 (billing.read).
func (a *API) billing(w http.ResponseWriter, r *http.Request) error {
	c, err := a.Manage.BillingFor(r.Context(), actor(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, billingView{Billed: c.Billed, NonBilled: c.NonBilled, Total: c.Billed + c.NonBilled})
}

// listAudit searches the audit log (O1) by actor, target, action and time
// (RFC 3339 since/until), newest first; as CSV (format=csv or Accept:
// text/csv) it exports every matching record from cursor on, limit aside.
func (a *API) listAudit(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Vary", "Accept")
	if err := actor(r).AuditAccess(); err != nil {
		return err
	}
	limit, cursor, err := listParams(r)
	if err != nil {
		return err
	}
	asCSV, err := wantsCSV(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	aq := store.AuditQuery{ActorID: q.Get("actor_id"), TargetID: q.Get("target_id"), Action: q.Get("action"),
		Limit: limit, Cursor: cursor}
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"since", &aq.Since}, {"until", &aq.Until}} {
		if s := q.Get(p.name); s != "" {
			t, err := time.Parse(time.RFC3339, s)
			if err != nil {
				return invalid(p.name, directory.CodeInvalid, "%s must be an RFC 3339 time such as 2026-01-02T03:04:05Z.", p.name)
			}
			*p.dst = t
		}
	}
	if asCSV {
		return a.exportAudit(w, r, aq)
	}
	page, err := a.Manage.ListAudit(r.Context(), actor(r), aq)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, newList(page, newAuditView))
}

type snapshotView struct {
	Day       string `json:"day"`
	Billed    int    `json:"billed"`
	NonBilled int    `json:"non_billed"`
}

// billingReport answers the billed count over time (B1): one snapshot per
// UTC day, from and to as YYYY-MM-DD (inclusive, optional).
func (a *API) billingReport(w http.ResponseWriter, r *http.Request) error {
	if err := actor(r).BillingAccess(); err != nil {
		return err
	}
	q := r.URL.Query()
	for _, p := range []string{"from", "to"} {
		if s := q.Get(p); s != "" {
			if _, err := time.Parse(time.DateOnly, s); err != nil {
				return invalid(p, directory.CodeInvalid, "%s must be a date such as 2026-01-31.", p)
			}
		}
	}
	snaps, err := a.Manage.BillingReport(r.Context(), actor(r), q.Get("from"), q.Get("to"))
	if err != nil {
		return err
	}
	out := list[snapshotView]{Items: make([]snapshotView, len(snaps))}
	for i, s := range snaps {
		out.Items[i] = snapshotView{Day: s.Day, Billed: s.Billed, NonBilled: s.NonBilled}
	}
	return writeJSON(w, http.StatusOK, out)
}
