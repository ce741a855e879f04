package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"opsiam/internal/directory"
)

// MaxBody is the largest request body accepted (413 above it).
const MaxBody = 1 << 20

// decodeJSON reads one JSON object into v. It answers 413 for a body over
// MaxBody, 400 for invalid UTF-8, malformed JSON or trailing data, and 422
// naming the field for an unknown field or a value of the wrong type (O2).
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return &httpError{Status: http.StatusRequestEntityTooLarge, Title: "request too large",
			Detail: fmt.Sprintf("The request body exceeds %d bytes.", MaxBody)}
	case err != nil:
		return badRequest("The request body could not be read.")
	}
	return decodeBytes(body, v)
}

// decodeBytes is decodeJSON after reading; the fuzz test calls it directly.
func decodeBytes(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return badRequest("The request body is empty; a JSON object is required.")
	}
	if !utf8.Valid(body) {
		return badRequest("The request body is not valid UTF-8.")
	}
	if field, ok := nulField(body); ok {
		return invalid(field, directory.CodeInvalid, "%s contains a NUL character, which no text may hold.", field)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return badRequest("The request body holds more than one JSON value.")
	}
	return nil
}

func jsonError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return badRequest("The request body is not well-formed JSON: %v.", err)
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return badRequest("The request body must be a JSON object.")
		}
		return invalid(field, directory.CodeInvalid, "%s must be of type %s.", field, jsonType(typ.Type.Kind().String()))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return invalid(field, "unknown", "Field %q is not known here.", field)
	}
	return badRequest("The request body could not be decoded: %v.", err)
}

func jsonType(kind string) string {
	switch kind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "slice", "array":
		return "array"
	case "map", "struct":
		return "object"
	}
	return "number"
}

// listParams reads limit and cursor (SPEC §7 cursor paging).
func listParams(r *http.Request) (limit int, cursor string, err error) {
	q := r.URL.Query()
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1000 {
			return 0, "", invalid("limit", directory.CodeInvalid, "limit must be a whole number from 1 to 1000.")
		}
		limit = n
	}
	cursor = q.Get("cursor")
	for _, p := range []string{"q", "sort", "cursor", "username", "email"} {
		if !utf8.ValidString(q.Get(p)) {
			return 0, "", invalid(p, directory.CodeInvalid, "%s is not valid UTF-8.", p)
		}
	}
	return limit, cursor, nil
}

// boolParam reads an optional true/false query parameter.
func boolParam(r *http.Request, name string) (*bool, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return nil, nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return nil, invalid(name, directory.CodeInvalid, "%s must be true or false.", name)
	}
	return &b, nil
}

// ifMatch reads the version from an If-Match header (0: none). A header
// that names no version of ours can never match (412).
func ifMatch(r *http.Request) (int64, error) {
	h := strings.TrimSpace(r.Header.Get("If-Match"))
	if h == "" || h == "*" {
		return 0, nil
	}
	h = strings.Trim(strings.TrimPrefix(h, "W/"), `"`)
	v, err := strconv.ParseInt(h, 10, 64)
	if err != nil || v <= 0 {
		return 0, &httpError{Status: http.StatusPreconditionFailed, Title: "precondition failed",
			Detail: "If-Match must be an ETag this API handed out."}
	}
	return v, nil
}

func etag(version int64) string { return `"` + strconv.FormatInt(version, 10) + `"` }

// writeJSON writes v with status.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err // nothing written yet: the caller answers with a problem
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
	return nil
}

// writeVersioned writes a single resource with its ETag.
func writeVersioned(w http.ResponseWriter, status int, version int64, v any) error {
	w.Header().Set("ETag", etag(version))
	return writeJSON(w, status, v)
}

// nulField returns the field (a dotted path of keys) of the first JSON
// string that holds a NUL character (\u0000), which no text field accepts
// and PostgreSQL cannot store (issue 14). Lists of ids ("ids", "*_ids")
// are left to the use cases, which report a bad id per item as not found.
func nulField(body []byte) (string, bool) {
	if !bytes.Contains(body, []byte(`\u0000`)) {
		return "", false
	}
	type frame struct {
		obj     bool
		key     string
		wantKey bool
	}
	var stack []*frame
	path := func(last string) string {
		var keys []string
		for _, f := range stack {
			if f.obj && f.key != "" {
				keys = append(keys, f.key)
			}
		}
		if last != "" {
			keys = append(keys, last)
		}
		return strings.Join(keys, ".")
	}
	idList := func() bool {
		for _, f := range stack {
			if f.obj && (f.key == "ids" || strings.HasSuffix(f.key, "_ids")) {
				return true
			}
		}
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	for {
		tok, err := dec.Token()
		if err != nil {
			return "", false
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		switch t := tok.(type) {
		case json.Delim:
			if t == '{' || t == '[' {
				stack = append(stack, &frame{obj: t == '{', wantKey: t == '{'})
				continue
			}
			stack = stack[:len(stack)-1]
			if len(stack) > 0 && stack[len(stack)-1].obj {
				stack[len(stack)-1].wantKey = true
			}
		case string:
			if top != nil && top.obj && top.wantKey {
				if strings.ContainsRune(t, 0) {
					return path(strings.ReplaceAll(t, "\x00", "")), true
				}
				top.key, top.wantKey = t, false
				continue
			}
			if strings.ContainsRune(t, 0) && !idList() {
				return path(""), true
			}
			if top != nil && top.obj {
				top.wantKey = true
			}
		default:
			if top != nil && top.obj {
				top.wantKey = true
			}
		}
	}
}
