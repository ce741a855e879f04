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
	Items                               []store.AuditRecord
	Next                                string
	First                               bool
	Params                              string
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
		p.Items, p.Next = page.Items, page.Next
	} else {
		v.fieldErrors(fe, "since", "until")
	}
	v.Title, v.Nav, v.Data = "audit.title", "audit", p
	c.render(w, http.StatusOK, "audit", v)
	return nil
}
