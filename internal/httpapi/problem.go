package httpapi

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"opsiam/internal/directory"
	"opsiam/internal/store"
)

// Problem is an RFC 9457 problem document. Errors lists field errors for
// 422 answers (SPEC §7: {field, code, message}).
type Problem struct {
	Type      string         `json:"type"`
	Title     string         `json:"title"`
	Status    int            `json:"status"`
	Detail    string         `json:"detail,omitempty"`
	Errors    []problemField `json:"errors,omitempty"`
	Field     string         `json:"field,omitempty"` // the field of a 409 uniqueness clash
	RequestID string         `json:"request_id,omitempty"`
	// Tombstones and Choices answer a create or mail change that meets
	// deleted users (D3, SPEC §7): repeat it with "resolution".
	Tombstones []tombstoneRef              `json:"tombstones,omitempty"`
	Choices    []directory.TombstoneChoice `json:"choices,omitempty"`
}

type tombstoneRef struct {
	ID       directory.TombstoneID `json:"id"`
	Username string                `json:"username"`
	Email    string                `json:"email"`
}

type problemField struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// httpError is an error with a public status and message; Cause is only
// logged (after tailscale's tsweb).
type httpError struct {
	Status int
	Title  string
	Detail string
	Cause  error
}

func (e *httpError) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("%d %s: %v", e.Status, e.Detail, e.Cause)
	}
	return fmt.Sprintf("%d %s", e.Status, e.Detail)
}

func (e *httpError) Unwrap() error { return e.Cause }

// Errors the handlers return for HTTP-only conditions.
var (
	errUnauthenticated = &httpError{Status: http.StatusUnauthorized, Title: "unauthenticated",
		Detail: "A valid platform token is required (Authorization: Bearer TOKEN, or X-OpsI-Token)."}
	errForbidden = &httpError{Status: http.StatusForbidden, Title: "forbidden",
		Detail: "Your roles do not permit this action."}
)

func badRequest(format string, args ...any) error {
	return &httpError{Status: http.StatusBadRequest, Title: "bad request", Detail: fmt.Sprintf(format, args...)}
}

// invalid is a 422 naming one field.
func invalid(field, code, format string, args ...any) error {
	return directory.FieldErrors{{Field: field, Code: code, Message: fmt.Sprintf(format, args...)}}
}

// RetryAfter is the Retry-After of a 503 (seconds).
const RetryAfter = "5"

// problemFor classifies err (STYLE P4). Unknown errors become a bare 500.
func problemFor(err error) Problem {
	var he *httpError
	var fe directory.FieldErrors
	var ce *store.ConflictError
	var tc directory.TombstoneConflict
	var ref *directory.Refusal
	switch {
	case store.Unavailable(err):
		return Problem{Title: "database unavailable", Status: http.StatusServiceUnavailable,
			Detail: "The database is unavailable or did not answer in time; nothing was changed by this request. Retry shortly."}
	case errors.As(err, &ref):
		return Problem{Title: "forbidden", Status: http.StatusForbidden, Detail: ref.Message}
	case errors.As(err, &tc):
		p := Problem{Title: "deleted users to resolve", Status: http.StatusConflict, Choices: tc.Choices,
			Detail: "The user name or mail address belongs to deleted users; repeat the request with a resolution naming a choice for each."}
		for _, t := range tc.Tombstones {
			p.Tombstones = append(p.Tombstones, tombstoneRef{ID: t.ID, Username: t.Username, Email: t.Email})
		}
		return p
	case errors.As(err, &he):
		return Problem{Title: he.Title, Status: he.Status, Detail: he.Detail}
	case errors.As(err, &fe):
		p := Problem{Title: "invalid input", Status: http.StatusUnprocessableEntity,
			Detail: "The request was refused; see errors for each field."}
		for _, f := range fe {
			p.Errors = append(p.Errors, problemField{Field: f.Field, Code: f.Code, Message: f.Message})
		}
		if len(fe) == 1 {
			p.Detail = fe[0].Message
		}
		return p
	case errors.As(err, &ce):
		return Problem{Title: "conflict", Status: http.StatusConflict, Field: ce.Field,
			Detail: fmt.Sprintf("The value of %s is already taken (compared ignoring case).", ce.Field),
			Errors: []problemField{{Field: ce.Field, Code: "taken", Message: fmt.Sprintf("%s is already taken.", ce.Field)}}}
	case errors.Is(err, store.ErrConflict):
		return Problem{Title: "conflict", Status: http.StatusConflict, Detail: "The request conflicts with the current state of the resource."}
	case errors.Is(err, store.ErrNotFound):
		return Problem{Title: "not found", Status: http.StatusNotFound, Detail: "No such resource."}
	case errors.Is(err, store.ErrStale):
		return Problem{Title: "precondition failed", Status: http.StatusPreconditionFailed,
			Detail: "The resource changed since the version in If-Match; read it again."}
	}
	return Problem{Title: "internal error", Status: http.StatusInternalServerError,
		Detail: "The server failed; quote the request id when reporting this."}
}

// writeProblem answers err as a problem document; 5xx causes go to the log.
func (a *API) writeProblem(w http.ResponseWriter, r *http.Request, reqID string, err error) {
	p := problemFor(err)
	p.Type = "about:blank"
	if p.Status >= 500 {
		p.RequestID = reqID
		a.logger().ErrorContext(r.Context(), "request failed", "request_id", reqID,
			"method", r.Method, "path", r.URL.Path, "err", err)
	}
	if p.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="opsiam"`)
	}
	if p.Status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", RetryAfter)
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

func (a *API) logger() *slog.Logger {
	if a.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return a.Log
}

func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
