package scim

import (
	"fmt"
	"strings"

	filter "github.com/scim2/filter-parser/v2"
)

// caseExact lists the attributes whose string values compare exactly
// (RFC 7643: id, externalId and meta.version are caseExact); every other
// string compares ignoring case.
var caseExact = map[string]bool{"id": true, "externalid": true, "version": true}

// parseFilter parses a filter parameter; the error is an invalidFilter.
func parseFilter(s string) (filter.Expression, error) {
	if len(s) > maxFilter {
		return nil, &scimError{status: 400, scimType: "invalidFilter", detail: fmt.Sprintf("The filter is longer than %d bytes.", maxFilter)}
	}
	e, err := filter.ParseFilter([]byte(s))
	if err != nil {
		return nil, &scimError{status: 400, scimType: "invalidFilter", detail: fmt.Sprintf("The filter %q is not valid SCIM filter syntax (RFC 7644 §3.4.2.2).", truncate(s, 200))}
	}
	return e, nil
}

// matches evaluates e against res, a resource of the schema core.
func matches(e filter.Expression, res object, core string) (bool, error) {
	switch x := e.(type) {
	case *filter.LogicalExpression:
		l, err := matches(x.Left, res, core)
		if err != nil {
			return false, err
		}
		if x.Operator == filter.AND && !l || x.Operator == filter.OR && l {
			return l, nil
		}
		return matches(x.Right, res, core)
	case *filter.NotExpression:
		v, err := matches(x.Expression, res, core)
		return !v, err
	case *filter.ValuePath:
		for _, el := range elements(res, x.AttributePath, core) {
			if o, ok := el.(object); ok {
				if m, err := matches(x.ValueFilter, o, ""); err != nil || m {
					return m, err
				}
			}
		}
		return false, nil
	case *filter.AttributeExpression:
		return compareAt(res, x, core)
	}
	return false, &scimError{status: 400, scimType: "invalidFilter", detail: "The filter uses an expression this server does not evaluate."}
}

// elements returns the values at an attribute path without its
// sub-attribute: the elements of a multi-valued attribute, or the one value.
func elements(res object, p filter.AttributePath, core string) []any {
	c := container(res, p, core, false)
	if c == nil {
		return nil
	}
	v, ok := get(c, p.AttributeName)
	if !ok || v == nil {
		return nil
	}
	if list, isList := v.([]any); isList {
		return list
	}
	return []any{v}
}

// leaves returns the values a filter's attribute path names: for a
// sub-attribute, that sub-attribute of each element; for a multi-valued
// complex attribute named alone, each element's "value" (RFC 7644
// §3.4.2.2: "emails co x" means emails.value).
func leaves(res object, p filter.AttributePath, core string) []any {
	var out []any
	for _, el := range elements(res, p, core) {
		o, isObj := el.(object)
		switch {
		case p.SubAttribute != nil && isObj:
			if v, ok := get(o, *p.SubAttribute); ok {
				out = append(out, v)
			}
		case p.SubAttribute == nil && isObj:
			if v, ok := get(o, "value"); ok {
				out = append(out, v)
			}
		case p.SubAttribute == nil:
			out = append(out, el)
		}
	}
	return out
}

func compareAt(res object, x *filter.AttributeExpression, core string) (bool, error) {
	name := strings.ToLower(x.AttributePath.AttributeName)
	if x.AttributePath.SubAttribute != nil {
		name = strings.ToLower(*x.AttributePath.SubAttribute)
	}
	values := leaves(res, x.AttributePath, core)
	if x.Operator == filter.PR {
		for _, v := range values {
			if s, isText := v.(string); v != nil && (!isText || s != "") {
				return true, nil
			}
		}
		return false, nil
	}
	for _, v := range values {
		ok, err := compare(v, x.Operator, x.CompareValue, caseExact[name])
		if err != nil || ok {
			return ok, err
		}
	}
	// ne holds for an absent attribute too.
	return x.Operator == filter.NE && len(values) == 0, nil
}

// compare applies op to a resource value and a filter's compare value.
func compare(v any, op filter.CompareOperator, want any, exact bool) (bool, error) {
	switch w := want.(type) {
	case bool:
		b, ok := boolean(v)
		switch op {
		case filter.EQ:
			return ok && b == w, nil
		case filter.NE:
			return !ok || b != w, nil
		}
		return false, &scimError{status: 400, scimType: "invalidFilter", detail: fmt.Sprintf("Operator %q does not apply to a boolean.", op)}
	case nil:
		switch op {
		case filter.EQ:
			return v == nil, nil
		case filter.NE:
			return v != nil, nil
		}
		return false, &scimError{status: 400, scimType: "invalidFilter", detail: fmt.Sprintf("Operator %q does not apply to null.", op)}
	case string:
		s, ok := v.(string)
		if !ok {
			if b, isBool := v.(bool); isBool {
				s, ok = fmt.Sprint(b), true
			}
		}
		if !ok {
			return op == filter.NE, nil
		}
		if !exact {
			s, w = strings.ToLower(s), strings.ToLower(w)
		}
		switch op {
		case filter.EQ:
			return s == w, nil
		case filter.NE:
			return s != w, nil
		case filter.CO:
			return strings.Contains(s, w), nil
		case filter.SW:
			return strings.HasPrefix(s, w), nil
		case filter.EW:
			return strings.HasSuffix(s, w), nil
		case filter.GT:
			return s > w, nil
		case filter.GE:
			return s >= w, nil
		case filter.LT:
			return s < w, nil
		case filter.LE:
			return s <= w, nil
		}
	}
	return false, &scimError{status: 400, scimType: "invalidFilter", detail: fmt.Sprintf("The compare value %v is of a type this server does not filter by.", want)}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
