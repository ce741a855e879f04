package scim

import (
	"strings"
	"time"

	"opsiam/internal/directory"
	"opsiam/internal/manage"
)

// userInput is what a SCIM User representation says about the directory's
// fields. Attributes this server does not keep are ignored.
type userInput struct {
	userName, externalID, givenName, familyName, email, timezone string
	phoneWork, phoneMobile, address, organization, department    string
	customerCode                                                 string
	hasCustomer, hasExternalID                                   bool
	active                                                       *bool
}

// userObject is the SCIM representation of u (RFC 7643 §4.1).
func (s *Server) userObject(u directory.User, customerCode string, groups []directory.Group, withGroups bool) object {
	res := object{
		"schemas":        []any{SchemaUser, SchemaEnterprise},
		"id":             string(u.ID),
		"userName":       u.Username,
		"name":           object{"givenName": u.FirstName, "familyName": u.LastName, "formatted": strings.TrimSpace(u.FirstName + " " + u.LastName)},
		"displayName":    strings.TrimSpace(u.FirstName + " " + u.LastName),
		"active":         u.Enabled,
		"emails":         []any{object{"value": u.Email, "type": "work", "primary": true}},
		SchemaEnterprise: object{"organization": u.Company, "department": u.Department},
		"meta": object{"resourceType": "User", "created": stamp(u.CreatedAt), "lastModified": stamp(u.UpdatedAt),
			"location": s.location("Users", string(u.ID)), "version": etag(u.Version)},
	}
	if u.ExternalID != "" {
		res["externalId"] = u.ExternalID
	}
	if u.Timezone != "" {
		res["timezone"] = u.Timezone
	}
	var phones []any
	if u.Phone1 != "" {
		phones = append(phones, object{"value": u.Phone1, "type": "work"})
	}
	if u.Phone2 != "" {
		phones = append(phones, object{"value": u.Phone2, "type": "mobile"})
	}
	if phones != nil {
		res["phoneNumbers"] = phones
	}
	if u.Address != "" {
		res["addresses"] = []any{object{"formatted": u.Address, "type": "work"}}
	}
	if customerCode != "" {
		res["schemas"] = append(res["schemas"].([]any), SchemaCustomer)
		res[SchemaCustomer] = object{"customerCode": customerCode}
	}
	if withGroups {
		list := make([]any, 0, len(groups))
		for _, g := range groups {
			list = append(list, object{"value": string(g.ID), "display": g.Name, "$ref": s.location("Groups", string(g.ID))})
		}
		res["groups"] = list
	}
	return res
}

// stamp is a SCIM dateTime; whole seconds in UTC, so that filters compare
// them as text in time order.
func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// parseUser reads a User representation.
func parseUser(m object) (userInput, error) {
	var in userInput
	var err error
	str := func(o object, name, label string) string {
		v, ok := get(o, name)
		if !ok || v == nil || err != nil {
			return ""
		}
		s, isText := text(v)
		if !isText {
			err = badRequest("invalidValue", "%s must be a string.", label)
		}
		return s
	}
	in.userName = str(m, "userName", "userName")
	if v, ok := get(m, "externalId"); ok && v != nil {
		in.hasExternalID = true
		in.externalID = str(m, "externalId", "externalId")
	}
	if name := sub(m, "name", false); name != nil {
		in.givenName = str(name, "givenName", "name.givenName")
		in.familyName = str(name, "familyName", "name.familyName")
	} else if v, ok := get(m, "name"); ok && v != nil {
		return in, badRequest("invalidValue", "name must be an object with givenName and familyName.")
	}
	in.timezone = str(m, "timezone", "timezone")
	if v, ok := get(m, "active"); ok && v != nil {
		b, isBool := boolean(v)
		if !isBool {
			return in, badRequest("invalidValue", "active must be a boolean.")
		}
		in.active = &b
	}
	emails, err2 := values(m, "emails")
	if err2 != nil {
		return in, err2
	}
	in.email = pick(emails, "work")
	phones, err2 := values(m, "phoneNumbers")
	if err2 != nil {
		return in, err2
	}
	for _, p := range phones {
		switch {
		case strings.EqualFold(p.typ, "mobile") && in.phoneMobile == "":
			in.phoneMobile = p.value
		case (strings.EqualFold(p.typ, "work") || p.typ == "") && in.phoneWork == "":
			in.phoneWork = p.value
		}
	}
	if addrs := addresses(m); len(addrs) > 0 {
		in.address = addrs[0]
	}
	if ent := sub(m, SchemaEnterprise, false); ent != nil {
		in.organization = str(ent, "organization", "organization")
		in.department = str(ent, "department", "department")
	}
	if cust := sub(m, SchemaCustomer, false); cust != nil {
		in.hasCustomer = true
		in.customerCode = str(cust, "customerCode", "customerCode")
	}
	return in, err
}

// multiValue is one element of a multi-valued attribute such as emails.
type multiValue struct {
	value, typ string
	primary    bool
}

// values reads the elements of the multi-valued attribute name.
func values(m object, name string) ([]multiValue, error) {
	v, ok := get(m, name)
	if !ok || v == nil {
		return nil, nil
	}
	list, isList := v.([]any)
	if !isList {
		return nil, badRequest("invalidValue", "%s must be a list.", name)
	}
	out := make([]multiValue, 0, len(list))
	for i, el := range list {
		o, isObj := el.(object)
		if !isObj {
			return nil, badRequest("invalidValue", "%s[%d] must be an object with a value.", name, i)
		}
		var mv multiValue
		val, _ := get(o, "value")
		if val != nil {
			s, isText := text(val)
			if !isText {
				return nil, badRequest("invalidValue", "%s[%d].value must be a string.", name, i)
			}
			mv.value = strings.TrimSpace(s)
		}
		t, _ := get(o, "type")
		mv.typ, _ = text(t)
		p, _ := get(o, "primary")
		mv.primary, _ = boolean(p)
		out = append(out, mv)
	}
	return out, nil
}

// pick chooses the value of a multi-valued attribute the directory keeps
// one of: the primary one, else the first of type typ, else the first.
func pick(list []multiValue, typ string) string {
	for _, v := range list {
		if v.primary && v.value != "" {
			return v.value
		}
	}
	for _, v := range list {
		if strings.EqualFold(v.typ, typ) && v.value != "" {
			return v.value
		}
	}
	for _, v := range list {
		if v.value != "" {
			return v.value
		}
	}
	return ""
}

// addresses reads addresses as one line each: formatted, or its parts.
func addresses(m object) []string {
	v, _ := get(m, "addresses")
	list, _ := v.([]any)
	var out []string
	for _, el := range list {
		o, ok := el.(object)
		if !ok {
			continue
		}
		if f, _ := get(o, "formatted"); f != nil {
			if s, ok := text(f); ok && strings.TrimSpace(s) != "" {
				out = append(out, s)
				continue
			}
		}
		var parts []string
		for _, k := range []string{"streetAddress", "postalCode", "locality", "region", "country"} {
			if x, _ := get(o, k); x != nil {
				if s, ok := text(x); ok && s != "" {
					parts = append(parts, s)
				}
			}
		}
		if len(parts) > 0 {
			out = append(out, strings.Join(parts, ", "))
		}
	}
	return out
}

// newUser is the directory user a created SCIM User describes.
func (in userInput) newUser(customer directory.CustomerID) directory.User {
	u := directory.User{Username: in.userName, Email: in.email, FirstName: in.givenName, LastName: in.familyName,
		Enabled: true, Company: in.organization, Department: in.department, Address: in.address,
		Phone1: in.phoneWork, Phone2: in.phoneMobile, Timezone: in.timezone, ExternalID: in.externalID, CustomerID: customer}
	if in.active != nil {
		u.Enabled = *in.active
	}
	return u
}

// patchFrom is the change from old to what in describes: only fields that
// differ are set, so that a change of active alone stays the one change a
// customer administrator may make. active, externalId and the customer
// change only when the representation names them.
func (in userInput) patchFrom(old directory.User, customer directory.CustomerID) manage.UserPatch {
	var p manage.UserPatch
	str := func(dst **string, have, want string) {
		if strings.TrimSpace(have) != strings.TrimSpace(want) {
			*dst = &want
		}
	}
	str(&p.Username, old.Username, in.userName)
	if strings.EqualFold(old.Username, in.userName) {
		p.Username = nil // user names compare ignoring case (U2)
	}
	str(&p.Email, old.Email, in.email)
	str(&p.FirstName, old.FirstName, in.givenName)
	str(&p.LastName, old.LastName, in.familyName)
	str(&p.Company, old.Company, in.organization)
	str(&p.Department, old.Department, in.department)
	str(&p.Address, old.Address, in.address)
	str(&p.Phone1, old.Phone1, in.phoneWork)
	str(&p.Phone2, old.Phone2, in.phoneMobile)
	if in.timezone != "" {
		str(&p.Timezone, old.Timezone, in.timezone)
	}
	if in.hasExternalID {
		str(&p.ExternalID, old.ExternalID, in.externalID)
	}
	if in.active != nil && *in.active != old.Enabled {
		p.Enabled = in.active
	}
	if in.hasCustomer && customer != old.CustomerID {
		p.CustomerID = &customer
	}
	return p
}
