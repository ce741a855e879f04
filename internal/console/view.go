package console

import (
	_ "embed" // zones.txt
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"opsiam/internal/directory"
	"opsiam/internal/i18n"
	"opsiam/internal/store"
)

// zonesFile lists the IANA time zones offered by the time-zone chooser
// (U1): UTC and the canonical zones of zone1970.tab.
//
//go:embed zones.txt
var zonesFile string

func loadZones() ([]string, error) {
	var zones []string
	for _, z := range strings.Split(zonesFile, "\n") {
		if z = strings.TrimSpace(z); z != "" {
			zones = append(zones, z)
		}
	}
	if len(zones) == 0 {
		return nil, errors.New("console: no time zones embedded")
	}
	return zones, nil
}

// view is the data of every page. Data holds the page's own values.
type view struct {
	Lang   string
	Path   string
	Query  url.Values
	CSRF   string
	Me     *principal
	Title  string // message key of the page title
	Nav    string // the active navigation entry
	Error  string
	Notice string
	// Fields maps a form field to its error message (shown next to it);
	// Errors holds refusals that belong to no field on the page.
	Fields map[string]string
	Errors []string
	Data   any
	// outboxOn tells whether the console has the outbox service (CanOutbox).
	outboxOn bool
}

// T looks a text up in the page's language.
func (v *view) T(id string, args ...any) string { return messages.T(v.Lang, id, args...) }

// TargetType names a kind of audit target ("user", "group", …) in the
// page's language; an unknown kind as it is.
func (v *view) TargetType(kind string) string {
	if messages.Has(v.Lang, "audit.type."+kind) {
		return v.T("audit.type." + kind)
	}
	return kind
}

// RoleDescription is a role's description in the page's language: the
// catalogue's roles have a translation (issue 17, point 11); a custom
// role's description is shown as its administrator wrote it.
func (v *view) RoleDescription(r directory.Role) string {
	if r.Type != directory.RoleCustom && messages.Has(v.Lang, "roledesc."+r.Name) {
		return v.T("roledesc." + r.Name)
	}
	return r.Description
}

// Name is a person's name in the page's language order (i18n.PersonName).
func (v *view) Name(first, last string) string { return i18n.PersonName(v.Lang, first, last) }

// Langs lists the language switch.
func (v *view) Langs() []string { return i18n.Languages }

// LangURL is the current page in language l.
func (v *view) LangURL(l string) string {
	q := url.Values{}
	for k, vs := range v.Query {
		if k != "lang" {
			q[k] = vs
		}
	}
	q.Set("lang", l)
	return v.Path + "?" + q.Encode()
}

// Time renders a time in the viewer's zone.
func (v *view) Time(t time.Time) string { return v.formatTime(t) }

// Field returns the error message of a form field, if any.
func (v *view) Field(name string) string { return v.Fields[name] }

// Label is the translated label of a form field.
func (v *view) Label(field string) string { return v.T("field." + field) }

// fieldErrors puts the refusals of err on the view: each next to its field
// when the page has it (known), the rest in Errors. It reports whether err
// was a refusal (FieldErrors or a uniqueness conflict).
func (v *view) fieldErrors(err error, known ...string) bool {
	var fe directory.FieldErrors
	var ce *store.ConflictError
	switch {
	case errors.As(err, &fe):
	case errors.As(err, &ce):
		fe = directory.FieldErrors{{Field: ce.Field, Code: "taken", Message: ce.Error()}}
	case errors.Is(err, store.ErrStale):
		v.Errors = append(v.Errors, v.T("err.stale"))
		return true
	default:
		return false
	}
	for _, e := range fe {
		field := e.Field
		if field == "customer" {
			field = "customer_id"
		}
		msg := v.fieldMessage(field, e)
		isKnown := false
		for _, k := range known {
			if k == field {
				isKnown = true
			}
		}
		if _, dup := v.Fields[field]; isKnown && !dup {
			v.Fields[field] = msg
		} else {
			v.Errors = append(v.Errors, msg)
		}
	}
	return true
}

// fieldMessage is the text of refusal e shown for the form field field: in
// English the rule's own message; in Japanese a translated message for the
// code and the field's label, followed by the rule's message.
func (v *view) fieldMessage(field string, e directory.FieldError) string {
	if v.Lang == i18n.English && e.Message != "" {
		return e.Message
	}
	// In another language the rule's English sentence is not shown
	// (issue 17, point 11): a message of its own for the field's rule, the
	// limit of a too long value, or the code's general message.
	label := " (" + v.T("field."+field) + ")"
	switch {
	case e.Code == directory.CodeInvalid && messages.Has(v.Lang, "err.invalid."+field):
		return v.T("err.invalid."+field) + label
	case e.Code == directory.CodeTooLong && fieldMax[field] > 0:
		return v.T("err.too_long.max", fieldMax[field]) + label
	case messages.Has(v.Lang, "err."+e.Code):
		return v.T("err."+e.Code) + label
	}
	return e.Message
}

// fieldMax is the length limit of each form field (SPEC §8), for the
// messages of too long values.
var fieldMax = map[string]int{
	"username": directory.MaxUsernameLen, "email": directory.MaxEmailLen, "first_name": directory.MaxPersonNameLen,
	"last_name": directory.MaxPersonNameLen, "company": directory.MaxTextLen, "department": directory.MaxTextLen,
	"address": directory.MaxTextLen, "phone1": directory.MaxPhoneLen, "phone2": directory.MaxPhoneLen,
	"note": directory.MaxNoteLen, "timezone": directory.MaxTimezoneLen, "name": directory.MaxGroupNameLen,
	"description": directory.MaxDescriptionLen, "code": directory.MaxCustomerCodeLen, "street": directory.MaxStreetLen,
	"zip": directory.MaxZipLen, "city": directory.MaxCityLen, "country": directory.MaxCountryLen,
	"url": directory.MaxURLLen, "comment": directory.MaxCommentLen, "external_id": directory.MaxTextLen,
}

// classify maps an error to a status and message key (STYLE P4).
func classify(err error) (int, string) {
	var fe directory.FieldErrors
	var ref *directory.Refusal
	switch {
	case store.Unavailable(err):
		return http.StatusServiceUnavailable, "err.unavailable"
	case errors.Is(err, errNotFound), errors.Is(err, store.ErrNotFound):
		return http.StatusNotFound, "err.notfound"
	case errors.Is(err, errForbidden), errors.As(err, &ref):
		return http.StatusForbidden, "err.forbidden"
	case errors.Is(err, store.ErrStale):
		return http.StatusConflict, "err.stale"
	case errors.As(err, &fe):
		return http.StatusUnprocessableEntity, "err.invalid"
	case errors.Is(err, store.ErrConflict):
		return http.StatusConflict, "err.taken"
	}
	return http.StatusInternalServerError, "err.internal"
}

// fieldArg is what the "text" and "check" form templates take.
type fieldArg struct {
	V     *view
	Name  string
	Type  string
	Value any
	Req   bool
}

// assignArg is what the "assign" dialog template takes.
type assignArg struct {
	V                 *view
	ID, Title, Action string
	Lists             assignLists
}

// roleTableArg is what the "roletable" template takes.
type roleTableArg struct {
	V     *view
	Roles []directory.Role
	ID    string
}

// tombTableArg is what the "tombtable" template takes.
type tombTableArg struct {
	V          *view
	Tombstones []directory.Tombstone
}

// templateFuncs are the template helpers; none marks text as safe HTML
// (STYLE P11).
// pageLink is a list page's link with the list's parameters (an encoded
// query) and a cursor. Built whole, so that html/template escapes the URL
// once instead of escaping the query's = and & as data.
func pageLink(path, params, cursor string) string {
	q, _ := url.ParseQuery(params)
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

func templateFuncs() template.FuncMap {
	return template.FuncMap{
		"join":     strings.Join,
		"pageLink": pageLink,
		"tabs":     func(names ...string) []string { return names },
		"assignArgs": func(v *view, id, title, action string, lists assignLists) assignArg {
			return assignArg{V: v, ID: id, Title: title, Action: action, Lists: lists}
		},
		"tombTableArgs": func(v *view, ts []directory.Tombstone) tombTableArg {
			return tombTableArg{V: v, Tombstones: ts}
		},
		"roleTableArgs": func(v *view, roles []directory.Role, id string) roleTableArg {
			return roleTableArg{V: v, Roles: roles, ID: id}
		},
		"fieldArgs": func(v *view, name, typ string, value any, req bool) fieldArg {
			return fieldArg{V: v, Name: name, Type: typ, Value: value, Req: req}
		},
		"has": func(list []string, s string) bool {
			for _, x := range list {
				if x == s {
					return true
				}
			}
			return false
		},
	}
}
