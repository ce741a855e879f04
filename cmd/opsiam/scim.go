package main

import (
	"errors"
	"log/slog"
	"net/http"

	"opsiam/internal/httpapi"
	"opsiam/internal/manage"
	"opsiam/internal/scim"
)

// mountSCIM serves /scim/v2 (P4) with the REST API's use cases and its
// platform-token authentication.
func mountSCIM(mux *http.ServeMux, api *httpapi.API, issuer string, log *slog.Logger) {
	(&scim.Server{Manage: api.Manage, BaseURL: issuer, Log: log,
		Caller: func(r *http.Request) (manage.Caller, error) {
			c, err := api.PlatformCaller(r)
			if errors.Is(err, httpapi.ErrUnauthenticated) {
				return c, scim.ErrUnauthenticated
			}
			return c, err
		}}).Mount(mux)
}
