package scim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"opsiam/internal/directory"
	"opsiam/internal/manage"
	"opsiam/internal/store"
	"opsiam/internal/webguard"
)

// Prefix is the base of the SCIM endpoints (SPEC §9).
const Prefix = "/scim/v2"

// Schema URIs (RFC 7643, RFC 7644, and opsiam's customer extension).
const (
	SchemaUser       = "urn:ietf:params:scim:schemas:core:2.0:User"
	SchemaGroup      = "urn:ietf:params:scim:schemas:core:2.0:Group"
	SchemaEnterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	SchemaCustomer   = "urn:opsiam:params:scim:schemas:extension:customer:2.0:User"
	schemaList       = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	schemaPatch      = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	schemaError      = "urn:ietf:params:scim:api:messages:2.0:Error"
)

// Limits of one request.
const (
	maxBody   = 1 << 20 // bytes of a request body
	maxCount  = 1000    // resources in one list page (ServiceProviderConfig filter.maxResults)
	maxOps    = 1000    // operations in one PATCH
	maxFilter = 4096    // bytes of a filter parameter
)

// ErrUnauthenticated is what Caller returns for a request without a valid
// platform token.
var ErrUnauthenticated = errors.New("scim: a valid platform token is required")

// Server serves /scim/v2. Set the fields, then Mount it.
type Server struct {
	Manage *manage.Service
	// Caller authenticates a request by its platform token
	// (Authorization: Bearer) and returns its caller; an error wrapping
	// ErrUnauthenticated answers 401.
	Caller func(r *http.Request) (manage.Caller, error)
	// BaseURL is the server's public URL (the issuer), for meta.location.
	BaseURL string
	Log     *slog.Logger
}

type handler func(w http.ResponseWriter, r *http.Request, c manage.Caller) error

// Mount registers the endpoints on mux.
func (s *Server) Mount(mux *http.ServeMux) {
	for pattern, h := range map[string]handler{
		"GET /ServiceProviderConfig": s.serviceProviderConfig,
		"GET /ResourceTypes":         s.resourceTypes,
		"GET /ResourceTypes/{name}":  s.resourceType,
		"GET /Schemas":               s.schemas,
		"GET /Schemas/{id}":          s.schema,
		"GET /Users":                 s.listUsers,
		"POST /Users":                s.createUser,
		"GET /Users/{id}":            s.getUser,
		"PUT /Users/{id}":            s.updateUser,
		"PATCH /Users/{id}":          s.updateUser,
		"DELETE /Users/{id}":         s.deleteUser,
		"GET /Groups":                s.listGroups,
		"POST /Groups":               s.createGroup,
		"GET /Groups/{id}":           s.getGroup,
		"PUT /Groups/{id}":           s.updateGroup,
		"PATCH /Groups/{id}":         s.updateGroup,
		"DELETE /Groups/{id}":        s.deleteGroup,
	} {
		method, path, _ := strings.Cut(pattern, " ")
		mux.Handle(method+" "+Prefix+path, webguard.Handler(s.wrap(h)))
	}
	mux.Handle(Prefix+"/", webguard.Handler(s.wrap(func(http.ResponseWriter, *http.Request, manage.Caller) error {
		return &scimError{status: http.StatusNotFound, detail: "No such SCIM endpoint; the server offers /Users, /Groups, /ServiceProviderConfig, /ResourceTypes and /Schemas."}
	})))
}

// wrap authenticates the request and answers a handler's error in the
// SCIM error schema.
func (s *Server) wrap(h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.logger().ErrorContext(r.Context(), "scim handler panicked", "panic", v, "path", r.URL.Path)
				s.writeError(w, r, errors.New("panic"))
			}
		}()
		c, err := s.Caller(r)
		if err == nil {
			err = h(w, r, c)
		}
		if err != nil {
			s.writeError(w, r, err)
		}
	})
}

// scimError is an error answered as it is (RFC 7644 §3.12).
type scimError struct {
	status   int
	scimType string
	detail   string
}

func (e *scimError) Error() string { return fmt.Sprintf("%d %s: %s", e.status, e.scimType, e.detail) }

func badRequest(scimType, format string, args ...any) error {
	return &scimError{status: http.StatusBadRequest, scimType: scimType, detail: fmt.Sprintf(format, args...)}
}

// classify maps an error of the use cases onto RFC 7644 §3.12.
func classify(err error) *scimError {
	var se *scimError
	var fe directory.FieldErrors
	var ce *store.ConflictError
	var tc directory.TombstoneConflict
	var ref *directory.Refusal
	switch {
	case errors.As(err, &se):
		return se
	case errors.Is(err, ErrUnauthenticated):
		return &scimError{status: 401, detail: "A valid platform token is required: Authorization: Bearer TOKEN."}
	case store.Unavailable(err):
		return &scimError{status: 503, detail: "The database is unavailable or did not answer in time; nothing was changed. Retry shortly."}
	case errors.As(err, &ref):
		return &scimError{status: 403, detail: ref.Message}
	case errors.As(err, &tc):
		return &scimError{status: 409, scimType: "uniqueness", detail: tc.Error() +
			". Resolve it in the console or the REST API (resolution), then repeat the request."}
	case errors.As(err, &ce):
		return &scimError{status: 409, scimType: "uniqueness", detail: fmt.Sprintf("%s is already taken (compared ignoring case).", attrName(ce.Field))}
	case errors.As(err, &fe):
		typ := "invalidValue"
		msgs := make([]string, len(fe))
		for i, f := range fe {
			if f.Code == directory.CodeImmutable {
				typ = "mutability"
			}
			msgs[i] = attrName(f.Field) + ": " + f.Message
		}
		return &scimError{status: 400, scimType: typ, detail: strings.Join(msgs, " ")}
	case errors.Is(err, store.ErrStale):
		return &scimError{status: 412, detail: "The resource changed since the version in If-Match; read it again."}
	case errors.Is(err, store.ErrNotFound):
		return &scimError{status: 404, detail: "No such resource."}
	case errors.Is(err, store.ErrConflict):
		return &scimError{status: 409, detail: "The request conflicts with the current state of the resource."}
	}
	return &scimError{status: 500, detail: "The server failed."}
}

// attrName translates a REST field name of a refusal into the SCIM attribute.
func attrName(field string) string {
	if a, ok := map[string]string{"username": "userName", "email": "emails", "first_name": "name.givenName",
		"last_name": "name.familyName", "enabled": "active", "company": SchemaEnterprise + ":organization",
		"department": SchemaEnterprise + ":department", "address": "addresses", "phone1": "phoneNumbers[type eq \"work\"]",
		"phone2": "phoneNumbers[type eq \"mobile\"]", "timezone": "timezone", "customer_id": SchemaCustomer + ":customerCode",
		"external_id": "externalId", "name": "displayName", "user_ids": "members", "members": "members"}[field]; ok {
		return a
	}
	return field
}

func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	e := classify(err)
	if e.status >= 500 {
		s.logger().ErrorContext(r.Context(), "scim request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	if e.status == 401 {
		w.Header().Set("WWW-Authenticate", `Bearer realm="opsiam"`)
	}
	if e.status == 503 {
		w.Header().Set("Retry-After", "5")
	}
	body := object{"schemas": []string{schemaError}, "status": strconv.Itoa(e.status), "detail": e.detail}
	if e.scimType != "" {
		body["scimType"] = e.scimType
	}
	writeJSON(w, e.status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/scim+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// writeResource answers a resource with its ETag (RFC 7644 §3.14).
func writeResource(w http.ResponseWriter, status int, res object, version int64) {
	w.Header().Set("ETag", etag(version))
	if meta, ok := res["meta"].(object); ok && status == http.StatusCreated {
		if loc, ok := meta["location"].(string); ok {
			w.Header().Set("Location", loc)
		}
	}
	writeJSON(w, status, res)
}

func etag(version int64) string { return `W/"` + strconv.FormatInt(version, 10) + `"` }

// ifMatch returns the version an If-Match header names: 0 for none or "*",
// and a 412 when it names no version this server gave out.
func ifMatch(r *http.Request) (int64, error) {
	h := strings.TrimSpace(r.Header.Get("If-Match"))
	if h == "" || h == "*" {
		return 0, nil
	}
	tag := strings.Trim(strings.TrimPrefix(h, "W/"), `"`)
	v, err := strconv.ParseInt(tag, 10, 64)
	if err != nil || v <= 0 {
		return 0, &scimError{status: http.StatusPreconditionFailed, detail: fmt.Sprintf("If-Match %q names no version of this resource.", truncate(h, 64))}
	}
	return v, nil
}

// decode reads a JSON object body of at most maxBody bytes.
func decode(w http.ResponseWriter, r *http.Request) (object, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, &scimError{status: http.StatusRequestEntityTooLarge, detail: fmt.Sprintf("The request body is larger than %d bytes.", maxBody)}
		}
		return nil, badRequest("invalidSyntax", "The request body could not be read.")
	}
	if webguard.Bad(string(body)) || bytes.Contains(body, []byte(`\u0000`)) {
		return nil, badRequest("invalidValue", "The request body contains a NUL character or invalid UTF-8.")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var m object
	if err := dec.Decode(&m); err != nil || m == nil {
		return nil, badRequest("invalidSyntax", "The request body is not a JSON object.")
	}
	if dec.More() {
		return nil, badRequest("invalidSyntax", "The request body holds more than one JSON value.")
	}
	return m, nil
}

func (s *Server) logger() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Log
}

func (s *Server) location(kind, id string) string {
	return strings.TrimSuffix(s.BaseURL, "/") + Prefix + "/" + kind + "/" + id
}
