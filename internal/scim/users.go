package scim

import (
	"context"
	"errors"
	"net/http"
	"strings"

	filter "github.com/scim2/filter-parser/v2"

	"opsiam/internal/directory"
	"opsiam/internal/manage"
	"opsiam/internal/store"
)

// customers maps customer ids to codes and back for one request.
type customers struct {
	s     *Server
	ctx   context.Context
	codes map[directory.CustomerID]string
}

func (c *customers) code(id directory.CustomerID) (string, error) {
	if id == "" {
		return "", nil
	}
	if code, ok := c.codes[id]; ok {
		return code, nil
	}
	cu, err := c.s.Manage.Store.GetCustomer(c.ctx, id)
	if err != nil {
		return "", err
	}
	if c.codes == nil {
		c.codes = map[directory.CustomerID]string{}
	}
	c.codes[id] = cu.Code
	return cu.Code, nil
}

// id resolves a customerCode of the customer extension.
func (c *customers) id(code string) (directory.CustomerID, error) {
	if code == "" {
		return "", nil
	}
	cu, err := c.s.Manage.Store.GetCustomerByCode(c.ctx, code)
	if errors.Is(err, store.ErrNotFound) {
		return "", badRequest("invalidValue", "%s:customerCode: there is no customer with code %q.", SchemaCustomer, truncate(code, 64))
	}
	return cu.ID, err
}

func (s *Server) customers(ctx context.Context) *customers { return &customers{s: s, ctx: ctx} }

// user reads one user the caller may read, as SCIM.
func (s *Server) user(ctx context.Context, c manage.Caller, id directory.UserID, withGroups bool) (directory.User, directory.Scope, object, error) {
	u, scope, err := s.Manage.ReadUser(ctx, c, id)
	if err != nil {
		return u, scope, nil, err
	}
	res, err := s.render(ctx, s.customers(ctx), u, withGroups)
	return u, scope, res, err
}

func (s *Server) render(ctx context.Context, cs *customers, u directory.User, withGroups bool) (object, error) {
	code, err := cs.code(u.CustomerID)
	if err != nil {
		return nil, err
	}
	var groups []directory.Group
	if withGroups {
		if groups, err = s.Manage.Store.UserGroups(ctx, u.ID); err != nil {
			return nil, err
		}
	}
	return s.userObject(u, code, groups, withGroups), nil
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request, c manage.Caller) error {
	p, err := parseProjection(r.URL.Query().Get("attributes"), r.URL.Query().Get("excludedAttributes"))
	if err != nil {
		return err
	}
	u, _, res, err := s.user(r.Context(), c, directory.UserID(r.PathValue("id")), p.wants("groups", true))
	if err != nil {
		return err
	}
	if m := strings.TrimSpace(r.Header.Get("If-None-Match")); m != "" && m == etag(u.Version) {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	writeResource(w, http.StatusOK, p.apply(res, SchemaUser), u.Version)
	return nil
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request, c manage.Caller) error {
	if _, ok := c.ReadScope(); !ok {
		return store.ErrNotFound
	}
	p, err := parseList(r)
	if err != nil {
		return err
	}
	f := store.UserFilter{}
	if p.filter != nil {
		f = narrowUsers(p.filter)
	}
	var all []directory.User
	q := store.UserQuery{UserFilter: f, Limit: 500}
	for {
		page, err := s.Manage.ListUsers(r.Context(), c, q)
		if err != nil {
			return err
		}
		all = append(all, page.Items...)
		if page.Next == "" {
			break
		}
		q.Cursor = page.Next
	}
	cs := s.customers(r.Context())
	withGroups := p.projection.wants("groups", false) // a query per user: only when asked for
	res := make([]object, 0, len(all))
	for _, u := range all {
		o, err := s.render(r.Context(), cs, u, withGroups)
		if err != nil {
			return err
		}
		res = append(res, o)
	}
	out, err := p.page(res, SchemaUser)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// narrowUsers finds, in a filter, an equality the store can look up by
// index (userName, externalId, emails.value), alone or in a conjunction;
// the whole filter is still evaluated on what the store returns.
func narrowUsers(e filter.Expression) store.UserFilter {
	switch x := e.(type) {
	case *filter.LogicalExpression:
		if x.Operator == filter.AND {
			if f := narrowUsers(x.Left); f.Username != "" || f.ExternalID != "" || f.Email != "" {
				return f
			}
			return narrowUsers(x.Right)
		}
	case *filter.AttributeExpression:
		v, ok := x.CompareValue.(string)
		if x.Operator != filter.EQ || !ok || v == "" || (x.AttributePath.URI() != "" && !strings.EqualFold(x.AttributePath.URI(), SchemaUser)) {
			return store.UserFilter{}
		}
		name, subName := strings.ToLower(x.AttributePath.AttributeName), strings.ToLower(x.AttributePath.SubAttributeName())
		switch {
		case name == "username" && subName == "":
			return store.UserFilter{Username: v}
		case name == "externalid" && subName == "":
			return store.UserFilter{ExternalID: v}
		case name == "emails" && (subName == "value" || subName == ""):
			return store.UserFilter{Email: v}
		}
	}
	return store.UserFilter{}
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request, c manage.Caller) error {
	if err := c.NeedUserWrite(); err != nil {
		return err
	}
	body, err := decode(w, r)
	if err != nil {
		return err
	}
	in, err := parseUser(body)
	if err != nil {
		return err
	}
	cs := s.customers(r.Context())
	cid, err := cs.id(in.customerCode)
	if err != nil {
		return err
	}
	created, err := s.Manage.CreateUser(r.Context(), c, in.newUser(cid))
	if err != nil {
		return err
	}
	res, err := s.render(r.Context(), cs, created, true)
	if err != nil {
		return err
	}
	writeResource(w, http.StatusCreated, res, created.Version)
	return nil
}

// updateUser is PUT and PATCH of a user (bodyChange tells them apart).
func (s *Server) updateUser(w http.ResponseWriter, r *http.Request, c manage.Caller) error {
	change, err := bodyChange(w, r, SchemaUser, parseUser)
	if err != nil {
		return err
	}
	return s.changeUser(w, r, c, change)
}

// changeUser reads the user, lets change say what it should become, and
// writes the difference through UpdateUser, guarded by the version read
// (or the one in If-Match). Without If-Match a change that lost a race is
// computed again, at most three times.
func (s *Server) changeUser(w http.ResponseWriter, r *http.Request, c manage.Caller, change func(current object) (userInput, error)) error {
	want, err := ifMatch(r)
	if err != nil {
		return err
	}
	id := directory.UserID(r.PathValue("id"))
	for attempt := 0; ; attempt++ {
		old, scope, current, err := s.user(r.Context(), c, id, false)
		if err != nil {
			return err
		}
		if want != 0 && want != old.Version {
			return store.ErrStale
		}
		in, err := change(current)
		if err != nil {
			return err
		}
		cs := s.customers(r.Context())
		cid := old.CustomerID
		if in.hasCustomer {
			if cid, err = cs.id(in.customerCode); err != nil {
				return err
			}
		}
		updated := old
		if p := in.patchFrom(old, cid); p != (manage.UserPatch{}) {
			updated, err = s.Manage.UpdateUser(r.Context(), c, scope, id, old.Version, p)
			if errors.Is(err, store.ErrStale) && want == 0 && attempt < 2 {
				continue
			}
			if err != nil {
				return err
			}
		}
		res, err := s.render(r.Context(), cs, updated, true)
		if err != nil {
			return err
		}
		writeResource(w, http.StatusOK, res, updated.Version)
		return nil
	}
}

func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request, c manage.Caller) error {
	want, err := ifMatch(r)
	if err != nil {
		return err
	}
	id := directory.UserID(r.PathValue("id"))
	_, scope, err := s.Manage.ReadUser(r.Context(), c, id)
	if err != nil {
		return err
	}
	if err := s.Manage.DeleteUser(r.Context(), c, scope, id, want); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
