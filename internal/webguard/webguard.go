// Package webguard refuses, at the edge of the server, text that no part
// of opsiam accepts and PostgreSQL cannot even store: NUL bytes and
// invalid UTF-8 in the path, a query parameter or a form field (issue 14).
// Ids in the path answer 404 (no such thing), values 422 naming the field;
// API paths get a problem document (RFC 9457), pages a short text. JSON
// bodies are checked by the API's decoder, which knows the field names.
package webguard

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"
)

// MaxForm bounds the form body the guard reads; the handlers' own limits
// are smaller or equal.
const MaxForm = 1 << 20

// Bad reports whether s holds a NUL byte or invalid UTF-8.
func Bad(s string) bool { return !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 }

// Handler wraps next with the checks.
func Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if Bad(r.URL.Path) || Bad(r.URL.RawPath) {
			refuse(w, r, http.StatusNotFound, "", "No such resource.")
			return
		}
		q, err := url.ParseQuery(r.URL.RawQuery)
		if err != nil {
			refuse(w, r, http.StatusBadRequest, "", "The query string is malformed.")
			return
		}
		if field, ok := badValues(q); ok {
			refuse(w, r, http.StatusUnprocessableEntity, field, fmt.Sprintf("Parameter %q contains a NUL byte or invalid UTF-8.", field))
			return
		}
		if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct == "application/x-www-form-urlencoded" && r.Method != http.MethodGet {
			r.Body = http.MaxBytesReader(w, r.Body, MaxForm)
			if err := r.ParseForm(); err != nil {
				refuse(w, r, http.StatusBadRequest, "", "The form is malformed or too large.")
				return
			}
			if field, ok := badValues(r.PostForm); ok {
				refuse(w, r, http.StatusUnprocessableEntity, field, fmt.Sprintf("Field %q contains a NUL byte or invalid UTF-8.", field))
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// badValues returns the first key whose name or value is bad.
func badValues(v url.Values) (string, bool) {
	for k, vs := range v {
		if Bad(k) {
			return strings.ToValidUTF8(strings.ReplaceAll(k, "\x00", ""), ""), true
		}
		for _, s := range vs {
			if Bad(s) {
				return k, true
			}
		}
	}
	return "", false
}

// problemField is one entry of a problem document's errors.
type problemField struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

func refuse(w http.ResponseWriter, r *http.Request, status int, field, detail string) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	if strings.HasPrefix(r.URL.Path, "/api/") || strings.HasPrefix(r.URL.Path, "/scim/") {
		p := map[string]any{"type": "about:blank", "title": http.StatusText(status), "status": status, "detail": detail}
		if field != "" {
			p["errors"] = []problemField{{Field: field, Code: "invalid", Message: detail}}
		}
		h.Set("Content-Type", "application/problem+json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(p)
		return
	}
	h.Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprintln(w, detail)
}
