package console

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"opsiam/internal/directory"
	"opsiam/internal/store"
)

func (c *Console) mountUsers(mux *http.ServeMux) {
	mux.Handle("GET "+Prefix+"users", c.page(c.listUsers))
	mux.Handle("POST "+Prefix+"users/bulk", c.page(c.bulkUsers))
	mux.Handle("GET "+Prefix+"users/new", c.page(c.newUser))
	mux.Handle("POST "+Prefix+"users/new", c.page(c.createUser))
	mux.Handle("GET "+Prefix+"users/{id}", c.page(c.showUser))
	mux.Handle("GET "+Prefix+"users/{id}/edit", c.page(c.editUser))
	mux.Handle("POST "+Prefix+"users/{id}/edit", c.page(c.updateUser))
	mux.Handle("POST "+Prefix+"users/{id}/delete", c.page(c.deleteUser))
	mux.Handle("POST "+Prefix+"users/{id}/password-reset", c.page(c.resetPassword))
	mux.Handle("POST "+Prefix+"users/{id}/unlock", c.page(c.unlockUser))
	mux.Handle("POST "+Prefix+"users/{id}/token", c.page(c.issueToken))
	mux.Handle("POST "+Prefix+"users/{id}/token/revoke", c.page(c.revokeToken))
	mux.Handle("POST "+Prefix+"users/{id}/groups", c.page(c.assignUserGroups))
	mux.Handle("POST "+Prefix+"users/{id}/roles", c.page(c.assignUserRoles))
}

// userRow is one row of the users list.
type userRow struct {
	directory.User
	Customer string // customer code, for display
}

// usersPage is the data of the users list (U5, U6, B1).
type usersPage struct {
	View       string // "", store.Billed or store.NonBilled: the tree node (B1)
	Q          string
	Rows       []userRow
	Next       string // cursor of the next page
	First      bool   // this is the first page
	CanBulk    bool   // enable, disable, password reset
	CanDelete  bool
	CanAdd     bool
	ViewParams string // query of the current view without cursor
	Sort       string // username, email, name or created_at
	Desc       bool
	Headers    []sortHeader
	Counts     *treeCounts // nil when they cannot be shown cheaply
}

// sortHeader is a sortable column heading: the link that sorts by it
// (ascending, or the other way when it is the current sort).
type sortHeader struct {
	Key, Label, Link, AriaSort string
}

// treeCounts are the counts of the users tree's nodes (B1).
type treeCounts struct {
	All, Billed, NonBilled int
	AsOf                   string // when they were counted; empty: now
}

// userSortKeys maps the console's sort names to the store's.
var userSortKeys = map[string]string{"username": "username", "email": "email", "name": "last_name", "customer": "customer", "created_at": "created_at"}

// listUsers shows the users tree (Users / Billed / Non-billed, B1) with
// search and cursor paging (U5) and the bulk buttons (U6).
func (c *Console) listUsers(w http.ResponseWriter, r *http.Request, v *view) error {
	q := r.URL.Query()
	p := usersPage{View: q.Get("view"), Q: q.Get("q"), First: q.Get("cursor") == "",
		CanBulk: v.Me.CanCustomerActions(), CanDelete: v.Me.CanWrite(), CanAdd: v.Me.CanWrite()}
	if p.View != store.Billed && p.View != store.NonBilled {
		p.View = ""
	}
	params := url.Values{}
	if p.View != "" {
		params.Set("view", p.View)
	}
	if p.Q != "" {
		params.Set("q", p.Q)
	}
	p.Sort, p.Desc = q.Get("sort"), q.Get("order") == "desc"
	if _, ok := userSortKeys[p.Sort]; !ok || (p.Sort == "customer" && p.Q != "") {
		p.Sort = "username" // the search does not sort by customer: by user name then
	}
	if p.Sort != "username" || p.Desc {
		params.Set("sort", p.Sort)
		params.Set("order", map[bool]string{true: "desc", false: "asc"}[p.Desc])
	}
	p.ViewParams = params.Encode()
	for _, h := range []struct{ key, label string }{{"username", "field.username"}, {"name", "users.name"}, {"email", "field.email"}, {"customer", "field.customer_id"}, {"created_at", "user.created"}} {
		link := url.Values{}
		for k, vs := range params {
			link[k] = vs
		}
		desc := h.key == p.Sort && !p.Desc
		link.Set("sort", h.key)
		link.Set("order", map[bool]string{true: "desc", false: "asc"}[desc])
		aria := ""
		if h.key == p.Sort {
			aria = map[bool]string{true: "descending", false: "ascending"}[p.Desc]
		}
		p.Headers = append(p.Headers, sortHeader{Key: h.key, Label: v.T(h.label), Link: "/console/users?" + link.Encode(), AriaSort: aria})
	}
	sortKey := userSortKeys[p.Sort]
	if p.Desc {
		sortKey = "-" + sortKey
	}
	counts, err := c.treeCounts(r, v)
	if err != nil {
		return err
	}
	p.Counts = counts
	uq := store.UserQuery{UserFilter: store.UserFilter{Q: p.Q, Billing: p.View}, Sort: sortKey, Limit: c.cfg.PageSize, Cursor: q.Get("cursor")}
	page, err := c.svc().ListUsers(r.Context(), v.Me.caller(), uq) // the use case derives the scope
	if err != nil {
		if v.fieldErrors(err) {
			page = store.Page[directory.User]{}
		} else {
			return err
		}
	}
	p.Next = page.Next
	codes := customerCodes{}
	for _, u := range page.Items {
		code, err := codes.get(r.Context(), c.svc().Store, u.CustomerID)
		if err != nil {
			return err
		}
		p.Rows = append(p.Rows, userRow{User: u, Customer: code})
	}
	v.Title, v.Nav, v.Data = "users.title", "users", p
	switch p.View {
	case store.Billed:
		v.Title = "users.billed"
	case store.NonBilled:
		v.Title = "users.nonbilled"
	}
	c.render(w, http.StatusOK, "users", v)
	return nil
}

// treeCounts counts the users of the tree's nodes. A customer
// administrator's few users are counted at once; the whole directory's
// counts come from today's billing snapshot (taken at start and hourly),
// because counting a large directory on every page was most of the page's
// time (docs/performance.md).
func (c *Console) treeCounts(r *http.Request, v *view) (*treeCounts, error) {
	scope, ok := v.Me.usersScope()
	if !ok {
		return nil, nil
	}
	if scope.Restricted() {
		n, err := c.svc().Billing(r.Context(), scope)
		if err != nil {
			return nil, err
		}
		return &treeCounts{All: n.Billed + n.NonBilled, Billed: n.Billed, NonBilled: n.NonBilled}, nil
	}
	today := time.Now().UTC().Format(time.DateOnly)
	snaps, err := c.svc().Store.ListBillingSnapshots(r.Context(), today, today)
	if err != nil || len(snaps) == 0 {
		return nil, err
	}
	s := snaps[len(snaps)-1]
	return &treeCounts{All: s.Billed + s.NonBilled, Billed: s.Billed, NonBilled: s.NonBilled, AsOf: v.formatTime(s.TakenAt)}, nil
}

// customerCodes caches the codes of the customers shown on one page.
type customerCodes map[directory.CustomerID]string

func (m customerCodes) get(ctx context.Context, s store.Customers, id directory.CustomerID) (string, error) {
	if id == "" {
		return "", nil
	}
	if code, ok := m[id]; ok {
		return code, nil
	}
	cu, err := s.GetCustomer(ctx, id)
	if err != nil {
		return "", err
	}
	m[id] = cu.Code
	return cu.Code, nil
}

// bulkItem is the outcome of a bulk action for one user.
type bulkItem struct {
	ID       directory.UserID
	Username string
	Error    string
}

type bulkPage struct {
	Action string
	Done   int
	Failed []bulkItem
}

// bulkUsers applies one action to the selected users (U6) and shows, per
// user, what was refused; one refusal does not undo the others.
func (c *Console) bulkUsers(w http.ResponseWriter, r *http.Request, v *view) error {
	action := r.PostFormValue("action")
	scope := directory.Scope{} // the use case decides who may do what to whom (issue 13)
	var ids []directory.UserID
	for _, id := range r.PostForm["id"] {
		ids = append(ids, directory.UserID(id))
	}
	results, err := c.svc().Bulk(r.Context(), actor(r, v), scope, action, ids)
	if err != nil {
		if v.fieldErrors(err) {
			v.Title, v.Nav, v.Data = "bulk.title", "users", bulkPage{Action: action}
			c.render(w, http.StatusUnprocessableEntity, "bulk_result", v)
			return nil
		}
		return err
	}
	p := bulkPage{Action: action}
	for _, res := range results {
		if res.Err == nil {
			p.Done++
			continue
		}
		item := bulkItem{ID: res.ID, Username: string(res.ID)}
		if u, err := c.svc().Store.GetUser(r.Context(), scope, res.ID); err == nil {
			item.Username = u.Username
		}
		ev := &view{Lang: v.Lang, Fields: map[string]string{}}
		if ev.fieldErrors(res.Err) {
			item.Error = joinMessages(ev)
		} else {
			_, key := classify(res.Err)
			item.Error = v.T(key)
			if key == "err.internal" {
				c.cfg.Log.ErrorContext(r.Context(), "bulk item failed", "id", res.ID, "err", res.Err)
			}
		}
		p.Failed = append(p.Failed, item)
	}
	v.Title, v.Nav, v.Data = "bulk.title", "users", p
	c.render(w, http.StatusOK, "bulk_result", v)
	return nil
}

// joinMessages joins every refusal collected on a view.
func joinMessages(v *view) string {
	s := ""
	for _, m := range v.Fields {
		s += m + " "
	}
	for _, m := range v.Errors {
		s += m + " "
	}
	return s
}
