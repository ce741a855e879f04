package console

import (
	"errors"
	"net/http"
	"net/url"
	"time"

	"opsiam/internal/directory"
	"opsiam/internal/store"
)

// auditPage is the data of the audit log page (O1).
type auditPage struct {
	Actor, Action, Target, Since, Until string
	Items                               []auditRow
	Next                                string
	First                               bool
	Params                              string
	CSV                                 string // the REST API's CSV export of the same filter
}

// auditRow is a record with its actor and target named and linked.
type auditRow struct {
	store.AuditRecord
	ActorLink  string // the actor's console page; empty when it is gone or the system
	TargetName string // the target's current name; empty when it is gone
	TargetLink string
}

// names resolves the actors and targets of a page of records to names and
// console links, once per id.
func (c *Console) names(r *http.Request, items []store.AuditRecord) []auditRow {
	ctx := r.Context()
	st := c.svc().Store
	type named struct{ name, link string }
	seen := map[string]named{}
	lookup := func(kind, id string) named {
		if id == "" {
			return named{}
		}
		if n, ok := seen[kind+"/"+id]; ok {
			return n
		}
		var n named
		switch kind {
		case "user":
			if u, err := st.GetUser(ctx, directory.Scope{}, directory.UserID(id)); err == nil {
				n = named{u.Username, Prefix + "users/" + id}
			}
		case "group":
			if g, err := st.GetGroup(ctx, directory.GroupID(id)); err == nil {
				n = named{g.Name, Prefix + "groups/" + id}
			}
		case "role":
			if ro, err := st.GetRole(ctx, directory.RoleID(id)); err == nil {
				n = named{ro.Name, Prefix + "roles/" + id}
			}
		case "customer":
			if cu, err := st.GetCustomer(ctx, directory.CustomerID(id)); err == nil {
				n = named{cu.Code + " — " + cu.Name, Prefix + "customers/" + id}
			}
		}
		seen[kind+"/"+id] = n
		return n
	}
	out := make([]auditRow, len(items))
	for i, it := range items {
		a, t := lookup("user", it.ActorID), lookup(it.TargetType, it.TargetID)
		out[i] = auditRow{AuditRecord: it, ActorLink: a.link, TargetName: t.name, TargetLink: t.link}
	}
	return out
}

// audit lists the audit log newest first, filtered by actor (user name),
// action, target id and a date range in the viewer's time zone (O1).
func (c *Console) audit(w http.ResponseWriter, r *http.Request, v *view) error {
	if !v.Me.CanAudit() {
		return errNotFound
	}
	q := r.URL.Query()
	p := auditPage{Actor: q.Get("actor"), Action: q.Get("action"), Target: q.Get("target"), Since: q.Get("since"),
		Until: q.Get("until"), First: q.Get("cursor") == ""}
	params := url.Values{}
	for k, val := range map[string]string{"actor": p.Actor, "action": p.Action, "target": p.Target, "since": p.Since, "until": p.Until} {
		if val != "" {
			params.Set(k, val)
		}
	}
	p.Params = params.Encode()
	aq := store.AuditQuery{Action: p.Action, TargetID: p.Target, Limit: c.cfg.PageSize, Cursor: q.Get("cursor")}
	loc, err := time.LoadLocation(v.Me.User.Timezone)
	if err != nil {
		loc = time.UTC
	}
	var fe directory.FieldErrors
	for _, d := range []struct {
		field, val string
		dst        *time.Time
		add        int
	}{{"since", p.Since, &aq.Since, 0}, {"until", p.Until, &aq.Until, 1}} {
		if d.val == "" {
			continue
		}
		t, err := time.ParseInLocation("2006-01-02", d.val, loc)
		if err != nil {
			fe = append(fe, directory.FieldError{Field: d.field, Code: directory.CodeInvalid, Message: v.T("err.date")})
			continue
		}
		*d.dst = t.AddDate(0, 0, d.add)
	}
	ok := len(fe) == 0
	if p.Actor != "" && ok {
		u, err := c.svc().Store.GetUserByUsername(r.Context(), directory.Scope{}, p.Actor)
		switch {
		case errors.Is(err, store.ErrNotFound):
			aq.ActorID = "-" // no user has this id: an unknown actor matches nothing
		case err != nil:
			return err
		default:
			aq.ActorID = string(u.ID)
		}
	}
	if ok {
		page, err := c.svc().ListAudit(r.Context(), v.Me.caller(), aq)
		if err != nil && !v.fieldErrors(err, "cursor") {
			return err
		}
		p.Items, p.Next = c.names(r, page.Items), page.Next
		csv := url.Values{"format": {"csv"}}
		for k, val := range map[string]string{"actor_id": aq.ActorID, "action": aq.Action, "target_id": aq.TargetID} {
			if val != "" {
				csv.Set(k, val)
			}
		}
		if !aq.Since.IsZero() {
			csv.Set("since", aq.Since.UTC().Format(time.RFC3339))
		}
		if !aq.Until.IsZero() {
			csv.Set("until", aq.Until.UTC().Format(time.RFC3339))
		}
		p.CSV = "/api/v1/audit?" + csv.Encode()
	} else {
		v.fieldErrors(fe, "since", "until")
	}
	v.Title, v.Nav, v.Data = "audit.title", "audit", p
	c.render(w, http.StatusOK, "audit", v)
	return nil
}
