package scim

import (
	"cmp"
	"net/http"
	"slices"
	"strconv"
	"strings"

	filter "github.com/scim2/filter-parser/v2"
)

// listParams are the query parameters of a list (RFC 7644 §3.4.2).
type listParams struct {
	filter     filter.Expression
	start      int // 1-based
	count      int
	sortBy     *filter.AttributePath
	descending bool
	projection projection
}

func parseList(r *http.Request) (listParams, error) {
	q := r.URL.Query()
	p := listParams{start: 1, count: 100}
	if f := q.Get("filter"); f != "" {
		e, err := parseFilter(f)
		if err != nil {
			return p, err
		}
		p.filter = e
	}
	if v := q.Get("startIndex"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return p, badRequest("invalidValue", "startIndex must be an integer; %q is not.", truncate(v, 32))
		}
		p.start = max(n, 1) // RFC 7644 §3.4.2.4: less than 1 is 1
	}
	if v := q.Get("count"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return p, badRequest("invalidValue", "count must be an integer; %q is not.", truncate(v, 32))
		}
		p.count = min(max(n, 0), maxCount)
	}
	if v := q.Get("sortBy"); v != "" {
		ap, err := filter.ParseAttrPath([]byte(v))
		if err != nil {
			return p, badRequest("invalidValue", "sortBy %q is not an attribute path.", truncate(v, 64))
		}
		p.sortBy = &ap
	}
	switch o := q.Get("sortOrder"); strings.ToLower(o) {
	case "", "ascending":
	case "descending":
		p.descending = true
	default:
		return p, badRequest("invalidValue", "sortOrder must be ascending or descending; %q is not.", truncate(o, 32))
	}
	var err error
	p.projection, err = parseProjection(q.Get("attributes"), q.Get("excludedAttributes"))
	return p, err
}

// page filters, sorts and cuts candidates (resources of schema core)
// according to p, and projects the page.
func (p listParams) page(candidates []object, core string) (object, error) {
	var hits []object
	for _, res := range candidates {
		if p.filter != nil {
			ok, err := matches(p.filter, res, core)
			if err != nil {
				return nil, err
			}
			if !ok {
				continue
			}
		}
		hits = append(hits, res)
	}
	if p.sortBy != nil {
		keyOf := func(res object) string {
			v := leaves(res, *p.sortBy, core)
			if len(v) == 0 {
				return ""
			}
			if s, ok := v[0].(string); ok {
				return strings.ToLower(s)
			}
			if b, ok := v[0].(bool); ok {
				return strconv.FormatBool(b)
			}
			return ""
		}
		slices.SortStableFunc(hits, func(a, b object) int {
			c := cmp.Compare(keyOf(a), keyOf(b))
			if p.descending {
				return -c
			}
			return c
		})
	}
	total := len(hits)
	from := min(p.start-1, total)
	to := min(from+p.count, total)
	items := make([]object, 0, to-from)
	for _, res := range hits[from:to] {
		items = append(items, p.projection.apply(res, core))
	}
	return listResponse(items, total, p.start), nil
}

// projection is the attributes / excludedAttributes of a request
// (RFC 7644 §3.9). id and schemas are always returned.
type projection struct {
	only, except []filter.AttributePath
}

func parseProjection(only, except string) (projection, error) {
	var p projection
	parse := func(list string) ([]filter.AttributePath, error) {
		var out []filter.AttributePath
		for _, name := range strings.Split(list, ",") {
			if name = strings.TrimSpace(name); name == "" {
				continue
			}
			ap, err := filter.ParseAttrPath([]byte(name))
			if err != nil {
				return nil, badRequest("invalidValue", "%q is not an attribute path.", truncate(name, 64))
			}
			out = append(out, ap)
		}
		return out, nil
	}
	var err error
	if p.only, err = parse(only); err != nil {
		return p, err
	}
	p.except, err = parse(except)
	return p, err
}

// wants reports whether the projection returns attribute name at the top
// level of the core schema (for attributes that cost a query, such as a
// user's groups).
func (p projection) wants(name string, byDefault bool) bool {
	for _, ap := range p.except {
		if strings.EqualFold(ap.AttributeName, name) && ap.SubAttribute == nil {
			return false
		}
	}
	if len(p.only) == 0 {
		return byDefault
	}
	for _, ap := range p.only {
		if strings.EqualFold(ap.AttributeName, name) {
			return true
		}
	}
	return false
}

// apply returns res with only the projected attributes.
func (p projection) apply(res object, core string) object {
	if len(p.only) == 0 && len(p.except) == 0 {
		return res
	}
	out := object{}
	if len(p.only) == 0 {
		for k, v := range res {
			out[k] = v
		}
	} else {
		for _, k := range []string{"id", "schemas"} {
			if v, ok := res[k]; ok {
				out[k] = v
			}
		}
		for _, ap := range p.only {
			copyPath(out, res, ap, core)
		}
	}
	for _, ap := range p.except {
		if strings.EqualFold(ap.AttributeName, "id") || strings.EqualFold(ap.AttributeName, "schemas") {
			continue
		}
		c := container(out, ap, core, false)
		if c == nil {
			continue
		}
		if ap.SubAttribute == nil {
			drop(c, ap.AttributeName)
		} else if o := sub(c, ap.AttributeName, false); o != nil {
			o = cloneObject(o)
			drop(o, *ap.SubAttribute)
			put(c, ap.AttributeName, o)
		}
	}
	return out
}

// copyPath copies the attribute (or sub-attribute) at ap from src to dst.
func copyPath(dst, src object, ap filter.AttributePath, core string) {
	from := container(src, ap, core, false)
	if from == nil {
		return
	}
	v, ok := get(from, ap.AttributeName)
	if !ok {
		return
	}
	to := dst
	if uri := ap.URI(); uri != "" && !strings.EqualFold(uri, core) {
		to = sub(dst, uri, true)
	}
	if ap.SubAttribute == nil {
		to[key(from, ap.AttributeName)] = v
		return
	}
	switch x := v.(type) {
	case object:
		if sv, ok := get(x, *ap.SubAttribute); ok {
			sub(to, key(from, ap.AttributeName), true)[*ap.SubAttribute] = sv
		}
	case []any:
		var list []any
		for _, el := range x {
			if o, ok := el.(object); ok {
				if sv, ok := get(o, *ap.SubAttribute); ok {
					list = append(list, object{*ap.SubAttribute: sv})
				}
			}
		}
		to[key(from, ap.AttributeName)] = list
	}
}

func cloneObject(o object) object {
	c := make(object, len(o))
	for k, v := range o {
		c[k] = v
	}
	return c
}
