package scim

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"

	filter "github.com/scim2/filter-parser/v2"

	"opsiam/internal/directory"
	"opsiam/internal/manage"
	"opsiam/internal/store"
)

// groupInput is what a SCIM Group representation says.
type groupInput struct {
	displayName, externalID string
	hasExternalID           bool
	members                 []directory.UserID // nil: the representation names none
	hasMembers              bool
}

// groupObject is the SCIM representation of g (RFC 7643 §4.2).
func (s *Server) groupObject(g directory.Group, members []directory.User, withMembers bool) object {
	res := object{
		"schemas":     []any{SchemaGroup},
		"id":          string(g.ID),
		"displayName": g.Name,
		"meta": object{"resourceType": "Group", "created": stamp(g.CreatedAt), "lastModified": stamp(g.UpdatedAt),
			"location": s.location("Groups", string(g.ID)), "version": etag(g.Version)},
	}
	if g.ExternalID != "" {
		res["externalId"] = g.ExternalID
	}
	if withMembers {
		list := make([]any, 0, len(members))
		for _, u := range members {
			list = append(list, object{"value": string(u.ID), "display": u.Username, "type": "User",
				"$ref": s.location("Users", string(u.ID))})
		}
		res["members"] = list
	}
	return res
}

func parseGroup(m object) (groupInput, error) {
	var in groupInput
	if v, ok := get(m, "displayName"); ok && v != nil {
		s, isText := text(v)
		if !isText {
			return in, badRequest("invalidValue", "displayName must be a string.")
		}
		in.displayName = s
	}
	if v, ok := get(m, "externalId"); ok && v != nil {
		s, isText := text(v)
		if !isText {
			return in, badRequest("invalidValue", "externalId must be a string.")
		}
		in.externalID, in.hasExternalID = s, true
	}
	list, err := values(m, "members")
	if err != nil {
		return in, err
	}
	if _, ok := get(m, "members"); ok {
		in.hasMembers = true
		in.members = []directory.UserID{}
	}
	for _, mv := range list {
		if mv.value == "" {
			return in, badRequest("invalidValue", "members: every member needs a value (the user's id).")
		}
		if id := directory.UserID(mv.value); !slices.Contains(in.members, id) {
			in.members = append(in.members, id)
		}
	}
	return in, nil
}

func (s *Server) members(ctx context.Context, id directory.GroupID) ([]directory.User, error) {
	var out []directory.User
	q := store.ListQuery{Limit: 500}
	for {
		page, err := s.Manage.Store.ListMembers(ctx, directory.Scope{}, id, q)
		if err != nil {
			return nil, err
		}
		out = append(out, page.Items...)
		if page.Next == "" {
			return out, nil
		}
		q.Cursor = page.Next
	}
}

func (s *Server) renderGroup(ctx context.Context, g directory.Group, withMembers bool) (object, []directory.User, error) {
	var ms []directory.User
	if withMembers {
		var err error
		if ms, err = s.members(ctx, g.ID); err != nil {
			return nil, nil, err
		}
	}
	return s.groupObject(g, ms, withMembers), ms, nil
}

func (s *Server) getGroup(w http.ResponseWriter, r *http.Request, c manage.Caller) error {
	if err := c.NeedRead(); err != nil {
		return err
	}
	p, err := parseProjection(r.URL.Query().Get("attributes"), r.URL.Query().Get("excludedAttributes"))
	if err != nil {
		return err
	}
	g, err := s.Manage.Store.GetGroup(r.Context(), directory.GroupID(r.PathValue("id")))
	if err != nil {
		return err
	}
	res, _, err := s.renderGroup(r.Context(), g, p.wants("members", true))
	if err != nil {
		return err
	}
	writeResource(w, http.StatusOK, p.apply(res, SchemaGroup), g.Version)
	return nil
}

func (s *Server) listGroups(w http.ResponseWriter, r *http.Request, c manage.Caller) error {
	if err := c.NeedRead(); err != nil {
		return err
	}
	p, err := parseList(r)
	if err != nil {
		return err
	}
	var all []directory.Group
	if name := groupNameEq(p.filter); name != "" {
		g, err := s.Manage.Store.GetGroupByName(r.Context(), name)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if err == nil {
			all = append(all, g)
		}
	} else {
		q := store.ListQuery{Limit: 500}
		for {
			page, err := s.Manage.Store.ListGroups(r.Context(), q)
			if err != nil {
				return err
			}
			all = append(all, page.Items...)
			if page.Next == "" {
				break
			}
			q.Cursor = page.Next
		}
	}
	withMembers := p.projection.wants("members", true)
	res := make([]object, 0, len(all))
	for _, g := range all {
		o, _, err := s.renderGroup(r.Context(), g, withMembers)
		if err != nil {
			return err
		}
		res = append(res, o)
	}
	out, err := p.page(res, SchemaGroup)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// groupNameEq returns the name of a filter displayName eq "…" (alone or
// in a conjunction), which the store looks up by index.
func groupNameEq(e filter.Expression) string {
	switch x := e.(type) {
	case *filter.LogicalExpression:
		if x.Operator == filter.AND {
			return cmp.Or(groupNameEq(x.Left), groupNameEq(x.Right))
		}
	case *filter.AttributeExpression:
		if v, ok := x.CompareValue.(string); ok && x.Operator == filter.EQ &&
			strings.EqualFold(x.AttributePath.AttributeName, "displayName") && x.AttributePath.SubAttribute == nil {
			return v
		}
	}
	return ""
}

// checkMembers makes sure every id names a user, before anything is
// written, so that a bad member list changes nothing.
func (s *Server) checkMembers(ctx context.Context, ids []directory.UserID) error {
	for _, id := range ids {
		if _, err := s.Manage.Store.GetUser(ctx, directory.Scope{}, id); errors.Is(err, store.ErrNotFound) {
			return badRequest("invalidValue", "members: there is no user with id %q.", truncate(string(id), 64))
		} else if err != nil {
			return err
		}
	}
	return nil
}

func (s *Server) createGroup(w http.ResponseWriter, r *http.Request, c manage.Caller) error {
	if err := c.NeedWrite(); err != nil {
		return err
	}
	body, err := decode(w, r)
	if err != nil {
		return err
	}
	in, err := parseGroup(body)
	if err != nil {
		return err
	}
	if err := s.checkMembers(r.Context(), in.members); err != nil {
		return err
	}
	g, err := s.Manage.CreateGroup(r.Context(), c, directory.Group{Name: in.displayName, ExternalID: in.externalID})
	if err != nil {
		return err
	}
	if len(in.members) > 0 {
		if err := s.Manage.AddMembers(r.Context(), c, g.ID, in.members); err != nil {
			// Take the group back, so that a refused member list leaves nothing.
			_ = s.Manage.DeleteGroup(context.WithoutCancel(r.Context()), c, g.ID, 0)
			return err
		}
	}
	res, _, err := s.renderGroup(r.Context(), g, true)
	if err != nil {
		return err
	}
	writeResource(w, http.StatusCreated, res, g.Version)
	return nil
}

// updateGroup is PUT and PATCH of a group (bodyChange tells them apart).
func (s *Server) updateGroup(w http.ResponseWriter, r *http.Request, c manage.Caller) error {
	change, err := bodyChange(w, r, SchemaGroup, parseGroup)
	if err != nil {
		return err
	}
	return s.changeGroup(w, r, c, change)
}

// changeGroup applies what change says the group should become: its name
// and externalId through UpdateGroup, its members as additions and
// removals. Member ids are checked before anything is written.
func (s *Server) changeGroup(w http.ResponseWriter, r *http.Request, c manage.Caller, change func(current object) (groupInput, error)) error {
	if err := c.NeedWrite(); err != nil {
		return err
	}
	want, err := ifMatch(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	g, err := s.Manage.Store.GetGroup(ctx, directory.GroupID(r.PathValue("id")))
	if err != nil {
		return err
	}
	if want != 0 && want != g.Version {
		return store.ErrStale
	}
	current, members, err := s.renderGroup(ctx, g, true)
	if err != nil {
		return err
	}
	in, err := change(current)
	if err != nil {
		return err
	}
	var add, remove []directory.UserID
	if in.hasMembers {
		had := map[directory.UserID]bool{}
		for _, u := range members {
			had[u.ID] = true
		}
		for _, id := range in.members {
			if !had[id] {
				add = append(add, id)
			}
			delete(had, id)
		}
		for id := range had {
			remove = append(remove, id)
		}
	}
	if err := s.checkMembers(ctx, add); err != nil {
		return err
	}
	var p manage.GroupPatch
	if in.displayName != g.Name {
		p.Name = &in.displayName
	}
	if in.hasExternalID && in.externalID != g.ExternalID {
		p.ExternalID = &in.externalID
	}
	if p != (manage.GroupPatch{}) {
		if g, err = s.Manage.UpdateGroup(ctx, c, g.ID, g.Version, p); err != nil {
			return err
		}
	}
	if len(add) > 0 {
		if err := s.Manage.AddMembers(ctx, c, g.ID, add); err != nil {
			return err
		}
	}
	slices.Sort(remove)
	for _, id := range remove {
		if err := s.Manage.RemoveMember(ctx, c, g.ID, id); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	res, _, err := s.renderGroup(ctx, g, true)
	if err != nil {
		return err
	}
	writeResource(w, http.StatusOK, res, g.Version)
	return nil
}

func (s *Server) deleteGroup(w http.ResponseWriter, r *http.Request, c manage.Caller) error {
	want, err := ifMatch(r)
	if err != nil {
		return err
	}
	if err := s.Manage.DeleteGroup(r.Context(), c, directory.GroupID(r.PathValue("id")), want); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
