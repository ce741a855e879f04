package scim

import (
	"fmt"
	"net/http"
	"strings"

	filter "github.com/scim2/filter-parser/v2"
)

// patchOp is one operation of a PATCH request (RFC 7644 §3.5.2).
type patchOp struct {
	op    string // add, replace or remove (any case: Entra ID sends "Replace")
	path  string
	value any
}

// readOnly lists the attributes a PATCH may not touch.
var readOnly = map[string]bool{"id": true, "meta": true, "groups": true, "schemas": true}

// parsePatch reads the body of a PATCH request.
func parsePatch(body object) ([]patchOp, error) {
	ops, _ := get(body, "Operations")
	list, ok := ops.([]any)
	if !ok || len(list) == 0 {
		return nil, badRequest("invalidSyntax", "A PATCH needs Operations, a non-empty list (RFC 7644 §3.5.2).")
	}
	if len(list) > maxOps {
		return nil, badRequest("invalidValue", "A PATCH may hold at most %d operations.", maxOps)
	}
	out := make([]patchOp, 0, len(list))
	for i, raw := range list {
		m, ok := raw.(object)
		if !ok {
			return nil, badRequest("invalidSyntax", "Operations[%d] is not an object.", i)
		}
		opv, _ := get(m, "op")
		op, _ := text(opv)
		op = strings.ToLower(op)
		if op != "add" && op != "replace" && op != "remove" {
			return nil, badRequest("invalidSyntax", "Operations[%d].op must be add, replace or remove; %q is not.", i, truncate(fmt.Sprint(opv), 32))
		}
		pv, _ := get(m, "path")
		path, _ := text(pv)
		value, hasValue := get(m, "value")
		if op != "remove" && !hasValue {
			return nil, badRequest("invalidValue", "Operations[%d] (%s) needs a value.", i, op)
		}
		if op == "remove" && path == "" {
			return nil, badRequest("noTarget", "Operations[%d] (remove) needs a path.", i)
		}
		out = append(out, patchOp{op: op, path: path, value: value})
	}
	return out, nil
}

// bodyChange reads the body of a PUT or a PATCH into what the resource
// should become: for PUT the representation sent, for PATCH the current
// representation (given to the function) with the operations applied. Both
// are then read by parse, so PUT and PATCH meet the same checks.
func bodyChange[T any](w http.ResponseWriter, r *http.Request, core string, parse func(object) (T, error)) (func(current object) (T, error), error) {
	body, err := decode(w, r)
	if err != nil {
		return nil, err
	}
	if r.Method != http.MethodPatch {
		in, err := parse(body)
		if err != nil {
			return nil, err
		}
		return func(object) (T, error) { return in, nil }, nil
	}
	ops, err := parsePatch(body)
	if err != nil {
		return nil, err
	}
	return func(current object) (T, error) {
		if err := applyPatch(current, ops, core); err != nil {
			var zero T
			return zero, err
		}
		return parse(current)
	}, nil
}

// applyPatch applies ops to res (a full representation of a resource of
// schema core) in order.
func applyPatch(res object, ops []patchOp, core string) error {
	for i, op := range ops {
		if err := applyOp(res, op, core); err != nil {
			return fmt.Errorf("Operations[%d]: %w", i, err)
		}
	}
	return nil
}

func applyOp(res object, op patchOp, core string) error {
	if op.path == "" {
		// A value without a path holds attributes to add or replace; its
		// keys may be paths themselves (Entra ID sends "name.givenName").
		m, ok := op.value.(object)
		if !ok {
			return badRequest("invalidValue", "An %s without a path needs an object value.", op.op)
		}
		for k, v := range m {
			if ext, isObj := v.(object); isObj && isSchemaURI(k) {
				for ek, ev := range ext {
					if err := applyOp(res, patchOp{op: op.op, path: k + ":" + ek, value: ev}, core); err != nil {
						return err
					}
				}
				continue
			}
			if err := applyOp(res, patchOp{op: op.op, path: k, value: v}, core); err != nil {
				return err
			}
		}
		return nil
	}
	p, err := filter.ParsePath([]byte(op.path))
	if err != nil {
		return badRequest("invalidPath", "The path %q is not a SCIM attribute path.", truncate(op.path, 128))
	}
	if readOnly[strings.ToLower(p.AttributePath.AttributeName)] && p.AttributePath.URI() == "" {
		return badRequest("mutability", "%s is read-only.", p.AttributePath.AttributeName)
	}
	c := container(res, p.AttributePath, core, op.op != "remove")
	if c == nil {
		return nil // removing from an extension that is not there
	}
	name := p.AttributePath.AttributeName
	// "name.givenName" parses as attribute name with sub-attribute givenName.
	subName := p.AttributePath.SubAttributeName()
	if p.ValueExpression != nil {
		return applyFiltered(c, name, p.ValueExpression, p.SubAttributeName(), op)
	}
	switch op.op {
	case "remove":
		if subName != "" {
			if o := sub(c, name, false); o != nil {
				drop(o, subName)
			}
			return nil
		}
		if list, ok := op.value.([]any); ok { // Entra ID: remove members listed in the value
			return removeListed(c, name, list)
		}
		drop(c, name)
	case "add", "replace":
		if subName != "" {
			put(sub(c, name, true), subName, op.value)
			return nil
		}
		cur, exists := get(c, name)
		if curList, isList := cur.([]any); exists && isList && op.op == "add" {
			put(c, name, append(curList, asList(op.value)...))
			return nil
		}
		if curObj, isObj := cur.(object); exists && isObj {
			if v, ok := op.value.(object); ok { // merge into a complex attribute
				for k, x := range v {
					put(curObj, k, x)
				}
				return nil
			}
		}
		if _, isList := cur.([]any); isList {
			put(c, name, asList(op.value))
			return nil
		}
		put(c, name, op.value)
	}
	return nil
}

// isSchemaURI reports whether k is a schema URI (an extension's key).
func isSchemaURI(k string) bool {
	return strings.EqualFold(k, SchemaEnterprise) || strings.EqualFold(k, SchemaCustomer) ||
		strings.EqualFold(k, SchemaUser) || strings.EqualFold(k, SchemaGroup)
}

func asList(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	return []any{v}
}

// applyFiltered applies op to the elements of the multi-valued attribute
// name that match expr, such as emails[type eq "work"].value. An add or
// replace that matches nothing creates the element when the filter is a
// plain "attr eq value" (Entra ID adds phoneNumbers[type eq "mobile"].value
// this way).
func applyFiltered(c object, name string, expr filter.Expression, subName string, op patchOp) error {
	cur, _ := get(c, name)
	list, _ := cur.([]any)
	var kept []any
	hit := false
	for _, el := range list {
		o, ok := el.(object)
		if !ok {
			kept = append(kept, el)
			continue
		}
		m, err := matches(expr, o, "")
		if err != nil {
			return err
		}
		if !m {
			kept = append(kept, el)
			continue
		}
		hit = true
		switch {
		case op.op == "remove" && subName == "":
			continue // drop the element
		case op.op == "remove":
			o = cloneObject(o)
			drop(o, subName)
		case subName != "":
			o = cloneObject(o)
			put(o, subName, op.value)
		default:
			v, isObj := op.value.(object)
			if !isObj {
				return badRequest("invalidValue", "The value for %s[…] must be an object.", name)
			}
			o = cloneObject(o)
			for k, x := range v {
				put(o, k, x)
			}
		}
		kept = append(kept, o)
	}
	if !hit && op.op != "remove" {
		x, isEq := expr.(*filter.AttributeExpression)
		if !isEq || x.Operator != filter.EQ || x.AttributePath.SubAttribute != nil {
			return badRequest("noTarget", "No value of %s matches the filter.", name)
		}
		el := object{x.AttributePath.AttributeName: x.CompareValue}
		if subName != "" {
			el[subName] = op.value
		} else if v, isObj := op.value.(object); isObj {
			for k, val := range v {
				put(el, k, val)
			}
		}
		kept = append(kept, el)
	}
	if kept == nil {
		kept = []any{}
	}
	put(c, name, kept)
	return nil
}

// removeListed removes the elements of name whose value is one of the
// values in list (Entra ID sends a member removal as path "members" with
// the members in the value).
func removeListed(c object, name string, list []any) error {
	gone := map[string]bool{}
	for _, el := range list {
		o, ok := el.(object)
		if !ok {
			return badRequest("invalidValue", "The values to remove from %s must be objects with a value.", name)
		}
		v, _ := get(o, "value")
		s, _ := text(v)
		gone[s] = true
	}
	cur, _ := get(c, name)
	var kept []any
	for _, el := range asList(cur) {
		if o, ok := el.(object); ok {
			v, _ := get(o, "value")
			if s, _ := text(v); gone[s] {
				continue
			}
		}
		kept = append(kept, el)
	}
	if kept == nil {
		kept = []any{}
	}
	put(c, name, kept)
	return nil
}
