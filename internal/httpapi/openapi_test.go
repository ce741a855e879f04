package httpapi_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"opsiam/internal/httpapi"
)

// oaDoc is the part of an OpenAPI 3.1 document the checker reads.
type oaDoc struct {
	OpenAPI string `json:"openapi"`
	Paths   map[string]map[string]struct {
		Responses map[string]struct {
			Content map[string]struct {
				Schema json.RawMessage `json:"schema"`
			} `json:"content"`
		} `json:"responses"`
	} `json:"paths"`
	Components struct {
		Schemas map[string]json.RawMessage `json:"schemas"`
	} `json:"components"`
}

func loadDoc(t testing.TB) *oaDoc {
	var d oaDoc
	if err := json.Unmarshal(httpapi.OpenAPIDoc(), &d); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	return &d
}

// template finds the document path that serves path: literal segments
// win over {wildcards}, as in net/http's ServeMux.
func (d *oaDoc) template(path string) (string, bool) {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	best, bestWild := "", 1<<30
	for tmpl := range d.Paths {
		ts := strings.Split(strings.Trim(tmpl, "/"), "/")
		if len(ts) != len(segs) {
			continue
		}
		wild, ok := 0, true
		for i := range ts {
			if strings.HasPrefix(ts[i], "{") {
				wild++
			} else if ts[i] != segs[i] {
				ok = false
				break
			}
		}
		if ok && wild < bestWild {
			best, bestWild = tmpl, wild
		}
	}
	return best, best != ""
}

// checkResponse validates one real answer against the document: the
// operation exists, the status is documented (or default), and the body
// matches the schema of its content type.
func (d *oaDoc) checkResponse(method, path string, status int, contentType string, body []byte) error {
	tmpl, ok := d.template(strings.TrimPrefix(path, "/api/v1"))
	if !ok {
		if status == 404 {
			return nil // an unknown path: nothing to check against
		}
		return fmt.Errorf("path %s is not in the document", path)
	}
	op, ok := d.Paths[tmpl][strings.ToLower(method)]
	if !ok {
		return fmt.Errorf("%s %s is not in the document", method, tmpl)
	}
	r, ok := op.Responses[fmt.Sprint(status)]
	if !ok {
		if r, ok = op.Responses["default"]; !ok || status < 400 {
			return fmt.Errorf("%s %s: status %d not documented", method, tmpl, status)
		}
	}
	if len(body) == 0 {
		if len(r.Content) > 0 {
			return fmt.Errorf("%s %s %d: empty body, document promises content", method, tmpl, status)
		}
		return nil
	}
	ct, _, _ := strings.Cut(contentType, ";")
	c, ok := r.Content[ct]
	if !ok {
		return fmt.Errorf("%s %s %d: content type %s not documented", method, tmpl, status, ct)
	}
	if ct == "text/csv" {
		return nil // documented as a string; the export tests parse it
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return err
	}
	return d.validate(c.Schema, v, "$")
}

// validate checks v against schema: the subset of JSON Schema 2020-12 the
// document uses ($ref, type (one or a list), properties, required,
// additionalProperties false, items, enum, format date-time).
func (d *oaDoc) validate(raw json.RawMessage, v any, at string) error {
	var s struct {
		Ref        string                     `json:"$ref"`
		Type       json.RawMessage            `json:"type"`
		Properties map[string]json.RawMessage `json:"properties"`
		Required   []string                   `json:"required"`
		AddProps   *bool                      `json:"additionalProperties"`
		Items      json.RawMessage            `json:"items"`
		Enum       []any                      `json:"enum"`
		Format     string                     `json:"format"`
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		return fmt.Errorf("%s: bad schema: %v", at, err)
	}
	if s.Ref != "" {
		name := strings.TrimPrefix(s.Ref, "#/components/schemas/")
		ref, ok := d.Components.Schemas[name]
		if !ok {
			return fmt.Errorf("%s: unknown $ref %s", at, s.Ref)
		}
		return d.validate(ref, v, at)
	}
	if len(s.Type) > 0 {
		var types []string
		if json.Unmarshal(s.Type, &types) != nil {
			var one string
			json.Unmarshal(s.Type, &one)
			types = []string{one}
		}
		if !slices.Contains(types, jsonTypeOf(v)) && !(jsonTypeOf(v) == "integer" && slices.Contains(types, "number")) {
			return fmt.Errorf("%s: %s, want %v", at, jsonTypeOf(v), types)
		}
	}
	if len(s.Enum) > 0 && !slices.Contains(s.Enum, v) {
		return fmt.Errorf("%s: %v not in %v", at, v, s.Enum)
	}
	if str, ok := v.(string); ok && s.Format == "date-time" {
		if _, err := time.Parse(time.RFC3339Nano, str); err != nil {
			return fmt.Errorf("%s: %q is not a date-time", at, str)
		}
	}
	switch x := v.(type) {
	case map[string]any:
		for _, k := range s.Required {
			if _, ok := x[k]; !ok {
				return fmt.Errorf("%s: required %q missing", at, k)
			}
		}
		for k, val := range x {
			ps, ok := s.Properties[k]
			if !ok {
				if s.AddProps != nil && !*s.AddProps {
					return fmt.Errorf("%s: property %q not in the schema", at, k)
				}
				continue
			}
			if err := d.validate(ps, val, at+"."+k); err != nil {
				return err
			}
		}
	case []any:
		if len(s.Items) > 0 {
			for i, it := range x {
				if err := d.validate(s.Items, it, fmt.Sprintf("%s[%d]", at, i)); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func jsonTypeOf(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case float64:
		if x == float64(int64(x)) {
			return "integer"
		}
		return "number"
	case []any:
		return "array"
	}
	return "object"
}

// TestOpenAPIMatchesRoutes: the document's paths and methods are exactly
// the mounted routes.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	t.Parallel() // each test has its own database and server (issue 17, point 7)
	d := loadDoc(t)
	if d.OpenAPI != "3.1.0" {
		t.Fatalf("openapi %q", d.OpenAPI)
	}
	var inDoc []string
	for p, ops := range d.Paths {
		for m := range ops {
			inDoc = append(inDoc, strings.ToUpper(m)+" /api/v1"+p)
		}
	}
	routes := httpapi.RouteKeys(&httpapi.API{})
	sort.Strings(inDoc)
	sort.Strings(routes)
	for _, r := range routes {
		if !slices.Contains(inDoc, r) {
			t.Errorf("route %s is not in openapi.json", r)
		}
	}
	for _, r := range inDoc {
		if !slices.Contains(routes, r) {
			t.Errorf("openapi.json documents %s, which is not mounted", r)
		}
	}
	// Every $ref resolves and every schema parses.
	for name, s := range d.Components.Schemas {
		var v any
		if err := json.Unmarshal(s, &v); err != nil {
			t.Errorf("schema %s: %v", name, err)
		}
	}
	if err := d.validate([]byte(`{"$ref":"#/components/schemas/User"}`), map[string]any{"id": 1}, "$"); err == nil {
		t.Error("the checker accepts a wrong user")
	}
}
