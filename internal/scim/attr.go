package scim

import (
	"strings"

	filter "github.com/scim2/filter-parser/v2"
)

// object is a SCIM resource or complex value as decoded from JSON.
type object = map[string]any

// key returns the key of m that equals name ignoring case (RFC 7643 §2.1:
// attribute names are case-insensitive), or "".
func key(m object, name string) string {
	if _, ok := m[name]; ok {
		return name
	}
	for k := range m {
		if strings.EqualFold(k, name) {
			return k
		}
	}
	return ""
}

// get returns m's attribute name, ignoring case.
func get(m object, name string) (any, bool) {
	k := key(m, name)
	if k == "" {
		return nil, false
	}
	return m[k], true
}

// put sets m's attribute name, replacing one spelled in another case.
func put(m object, name string, v any) {
	if k := key(m, name); k != "" {
		delete(m, k)
	}
	m[name] = v
}

// drop removes m's attribute name, ignoring case.
func drop(m object, name string) {
	if k := key(m, name); k != "" {
		delete(m, k)
	}
}

// sub returns m's complex attribute name as an object, creating it when
// create is true.
func sub(m object, name string, create bool) object {
	v, ok := get(m, name)
	if o, isObj := v.(object); ok && isObj {
		return o
	}
	if !create {
		return nil
	}
	o := object{}
	put(m, name, o)
	return o
}

// container is the object an attribute path starts in: the resource
// itself for its core schema (with or without the URI prefix), or the
// extension object named by the prefix.
func container(res object, p filter.AttributePath, core string, create bool) object {
	uri := p.URI()
	if uri == "" || strings.EqualFold(uri, core) {
		return res
	}
	return sub(res, uri, create)
}

// text returns v as a string when it is one.
func text(v any) (string, bool) {
	s, ok := v.(string)
	return s, ok
}

// boolean returns v as a bool; Microsoft Entra ID sends booleans as the
// strings "True" and "False", which are accepted too.
func boolean(v any) (bool, bool) {
	switch b := v.(type) {
	case bool:
		return b, true
	case string:
		switch strings.ToLower(b) {
		case "true":
			return true, true
		case "false":
			return false, true
		}
	}
	return false, false
}
