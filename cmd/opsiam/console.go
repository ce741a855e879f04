package main

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"opsiam/internal/auth"
	"opsiam/internal/config"
	"opsiam/internal/console"
	"opsiam/internal/manage"
	"opsiam/internal/oidc"
	"opsiam/internal/provision"
	"opsiam/internal/provision/gitlab"
)

// mountConsole mounts the admin console under /console/ (issue 6) and sends
// GET / there. Its templates are parsed here, so a broken one stops the
// server at start. Its Applications area registers OpenID Connect clients
// through the same service as /api/v1/clients. gl is the GitLab target, nil when GitLab is off: the Git
// members tab then says "not configured". outbox is the service behind
// /api/v1/outbox, shown on the console's Outbox page. issuer is the public
// URL, for the redirect URI of identity providers.
func mountConsole(mux *http.ServeMux, cfg config.Config, svc *manage.Service, a *auth.Service, gl *gitlab.Target,
	outbox *provision.Outbox, log *slog.Logger, issuer string) error {
	c, err := console.New(console.Config{Manage: svc, Auth: a, Log: log, Secure: strings.HasPrefix(cfg.Issuer, "https://"),
		GitMembers: gitMembers(gl), Clients: &oidc.ClientService{Store: svc.Store, Now: time.Now}, Outbox: outbox,
		BaseURL: issuer})
	if err != nil {
		return err
	}
	c.Mount(mux)
	mux.Handle("GET /{$}", http.RedirectHandler(console.Prefix, http.StatusSeeOther))
	return nil
}

// gitMembers adapts the GitLab target's member list to the console (P2).
func gitMembers(gl *gitlab.Target) console.GitMembersFunc {
	if gl == nil {
		return nil
	}
	return func(ctx context.Context, group string, usernames []string) ([]console.GitMember, error) {
		ms, err := gl.Members(ctx, group, usernames)
		if err != nil {
			return nil, err
		}
		out := make([]console.GitMember, len(ms))
		for i, m := range ms {
			out[i] = console.GitMember{Username: m.Username, Name: m.Name, Role: m.Role}
		}
		return out, nil
	}
}
