package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"opsiam/internal/directory"
	"opsiam/internal/manage"
	"opsiam/internal/oidc"
	"opsiam/internal/seal"
	"opsiam/internal/signin"
)

// service builds the use cases over the opened database, the same for
// serve and the CLI (issue 13): the configured argon2id cost, and ending a
// disabled user's application sessions (back-channel logouts go through
// the outbox, which serve's worker delivers).
func (e *env) service() *manage.Service {
	return &manage.Service{
		Store:       e.db,
		Graphs:      &manage.RoleGraphs{Store: e.db},
		Hasher:      hasher(e.cfg.Auth),
		Now:         time.Now,
		Timezone:    e.cfg.Timezone,
		EndSessions: oidc.EndUserSessions,
	}
}

// skills reads the skills configuration named by the configuration (G7);
// nil when none is configured.
func (e *env) skills() (*directory.SkillConfig, error) {
	if e.cfg.SkillsFile == "" {
		return nil, nil
	}
	data, err := os.ReadFile(e.cfg.SkillsFile)
	if err != nil {
		return nil, fmt.Errorf("skills-file: %w", err)
	}
	return manage.ParseSkills(data)
}

// identityService is service() able to seal and open the client secrets
// of upstream identity providers (issue 18) under the key-encryption key.
func (e *env) identityService(kek [32]byte) (*manage.Service, error) {
	svc := e.service()
	box, err := seal.New(kek, "opsiam identity provider secrets")
	if err != nil {
		return nil, err
	}
	svc.IdPSecrets, svc.InsecureIssuer = box, e.cfg.InsecureIssuer
	return svc, nil
}

// upstream builds the sign-in pages' side of upstream identity providers:
// the flow state is sealed under its own key derived from the
// key-encryption key, so any replica finishes a flow another began.
func upstream(svc *manage.Service, kek [32]byte, issuer string) (*signin.Upstream, error) {
	box, err := seal.New(kek, "opsiam upstream sign-in state")
	if err != nil {
		return nil, err
	}
	return &signin.Upstream{Manage: svc, BaseURL: strings.TrimSuffix(issuer, "/"), State: box}, nil
}
