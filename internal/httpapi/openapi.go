package httpapi

import (
	_ "embed"
	"net/http"
)

// openAPIDoc is the OpenAPI 3.1 description of this API (O4). It is kept
// by hand; openapi_test.go checks that its paths and methods are exactly
// the mounted routes and validates real responses against its schemas.
//
//go:embed openapi.json
var openAPIDoc []byte

// openAPI serves the document; it needs no authentication.
func (a *API) openAPI(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(openAPIDoc)
	return nil
}
