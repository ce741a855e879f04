package console

import (
	"net/http"

	"opsiam/internal/directory"
	"opsiam/internal/manage"
	"opsiam/internal/store"
)

func (c *Console) mountCustomers(mux *http.ServeMux) {
	mux.Handle("GET "+Prefix+"customers", c.page(c.listCustomers))
	mux.Handle("GET "+Prefix+"customers/new", c.page(c.newCustomer))
	mux.Handle("POST "+Prefix+"customers/new", c.page(c.createCustomer))
	mux.Handle("GET "+Prefix+"customers/{id}", c.page(c.editCustomer))
	mux.Handle("POST "+Prefix+"customers/{id}", c.page(c.updateCustomer))
	mux.Handle("POST "+Prefix+"customers/{id}/invalidate", c.page(c.invalidateCustomer))
}

func customerFields() []string {
	return []string{"code", "name", "street", "zip", "city", "country", "url", "comment", "state"}
}

// listCustomers lists customers, optionally of one state (C1).
func (c *Console) listCustomers(w http.ResponseWriter, r *http.Request, v *view) error {
	if err := v.Me.needRead(); err != nil {
		return err
	}
	q := r.URL.Query()
	st := directory.CustomerState(q.Get("state"))
	if !st.Valid() {
		st = ""
	}
	page, err := c.svc().Store.ListCustomers(r.Context(), store.CustomerQuery{ListQuery: store.ListQuery{Q: q.Get("q"),
		Limit: c.cfg.PageSize, Cursor: q.Get("cursor")}, State: st})
	if err != nil && !v.fieldErrors(err) {
		return err
	}
	if done := q.Get("done"); done != "" && messages.Has(v.Lang, "done."+done) {
		v.Notice = v.T("done." + done)
	}
	v.Title, v.Nav = "customers.title", "customers"
	v.Data = listPage[directory.Customer]{Q: q.Get("q"), Items: page.Items, Next: page.Next, First: q.Get("cursor") == "", Extra: string(st)}
	c.render(w, http.StatusOK, "customers", v)
	return nil
}

type customerForm struct {
	New      bool
	Customer directory.Customer
}

func (c *Console) renderCustomerForm(w http.ResponseWriter, v *view, status int, f customerForm) error {
	v.Nav, v.Data, v.Title = "customers", f, "customer.edit"
	if f.New {
		v.Title = "customer.new"
	}
	c.render(w, status, "customer_form", v)
	return nil
}

func (c *Console) newCustomer(w http.ResponseWriter, r *http.Request, v *view) error {
	if err := v.Me.needWrite(); err != nil {
		return err
	}
	return c.renderCustomerForm(w, v, http.StatusOK, customerForm{New: true, Customer: directory.Customer{State: directory.CustomerValid}})
}

func customerFromForm(r *http.Request) directory.Customer {
	f := r.PostFormValue
	return directory.Customer{Code: f("code"), Name: f("name"), Street: f("street"), Zip: f("zip"), City: f("city"),
		Country: f("country"), URL: f("url"), Comment: f("comment"), State: directory.CustomerState(f("state"))}
}

// createCustomer adds a customer (C1).
func (c *Console) createCustomer(w http.ResponseWriter, r *http.Request, v *view) error {
	if err := v.Me.needWrite(); err != nil {
		return err
	}
	in := customerFromForm(r)
	if _, err := c.svc().CreateCustomer(r.Context(), actor(r, v), in); err != nil {
		if v.fieldErrors(err, customerFields()...) {
			return c.renderCustomerForm(w, v, http.StatusUnprocessableEntity, customerForm{New: true, Customer: in})
		}
		return err
	}
	return redirect(w, r, Prefix+"customers?done=created")
}

func (c *Console) readableCustomer(r *http.Request, v *view) (directory.Customer, error) {
	if err := v.Me.needRead(); err != nil {
		return directory.Customer{}, err
	}
	return c.svc().Store.GetCustomer(r.Context(), customerID(r))
}

// editCustomer shows a customer; writers get the edit form.
func (c *Console) editCustomer(w http.ResponseWriter, r *http.Request, v *view) error {
	cu, err := c.readableCustomer(r, v)
	if err != nil {
		return err
	}
	if done := r.URL.Query().Get("done"); done != "" && messages.Has(v.Lang, "done."+done) {
		v.Notice = v.T("done." + done)
	}
	return c.renderCustomerForm(w, v, http.StatusOK, customerForm{Customer: cu})
}

// updateCustomer saves a customer; its code never changes (C1).
func (c *Console) updateCustomer(w http.ResponseWriter, r *http.Request, v *view) error {
	old, err := c.readableCustomer(r, v)
	if err != nil {
		return err
	}
	if err := v.Me.needWrite(); err != nil {
		return err
	}
	in := customerFromForm(r)
	p := manage.CustomerPatch{Name: &in.Name, Street: &in.Street, Zip: &in.Zip, City: &in.City, Country: &in.Country,
		URL: &in.URL, Comment: &in.Comment, State: &in.State}
	if _, err := c.svc().UpdateCustomer(r.Context(), actor(r, v), old.ID, parseVersion(r.PostFormValue("version")), p); err != nil {
		if v.fieldErrors(err, customerFields()...) {
			in.ID, in.Code, in.Version = old.ID, old.Code, old.Version
			return c.renderCustomerForm(w, v, http.StatusUnprocessableEntity, customerForm{Customer: in})
		}
		return err
	}
	return redirect(w, r, Prefix+"customers/"+string(old.ID)+"?done=saved")
}

// invalidateCustomer makes a customer invalid; customers are never deleted (C1).
func (c *Console) invalidateCustomer(w http.ResponseWriter, r *http.Request, v *view) error {
	old, err := c.readableCustomer(r, v)
	if err != nil {
		return err
	}
	if err := v.Me.needWrite(); err != nil {
		return err
	}
	st := directory.CustomerInvalid
	if _, err := c.svc().UpdateCustomer(r.Context(), actor(r, v), old.ID, 0, manage.CustomerPatch{State: &st}); err != nil {
		if v.fieldErrors(err, customerFields()...) {
			return c.renderCustomerForm(w, v, http.StatusUnprocessableEntity, customerForm{Customer: old})
		}
		return err
	}
	return redirect(w, r, Prefix+"customers?done=invalidated")
}
