package main

import (
	"log/slog"
	"net/http"
	"strings"

	"opsiam/internal/auth"
	"opsiam/internal/config"
	"opsiam/internal/console"
	"opsiam/internal/manage"
)

// mountConsole mounts the admin console under /console/ (issue 6) and sends
// GET / there. Its templates are parsed here, so a broken one stops the
// server at start. The Git members tab shows "not configured" until the
// GitLab target is wired in (console.Config.GitMembers).
func mountConsole(mux *http.ServeMux, cfg config.Config, svc *manage.Service, a *auth.Service, log *slog.Logger) error {
	c, err := console.New(console.Config{Manage: svc, Auth: a, Log: log, Secure: strings.HasPrefix(cfg.Issuer, "https://")})
	if err != nil {
		return err
	}
	c.Mount(mux)
	mux.Handle("GET /{$}", http.RedirectHandler(console.Prefix, http.StatusSeeOther))
	return nil
}
