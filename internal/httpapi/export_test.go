package httpapi

// RouteKeys lists the mounted routes as "METHOD /path" for the OpenAPI test.
func RouteKeys(a *API) []string {
	var out []string
	for _, rt := range a.routes() {
		out = append(out, rt.method+" "+rt.path)
	}
	return out
}

// OpenAPIDoc is the embedded OpenAPI document.
func OpenAPIDoc() []byte { return openAPIDoc }
