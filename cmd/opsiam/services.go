package main

import (
	"fmt"
	"os"
	"time"

	"opsiam/internal/directory"
	"opsiam/internal/manage"
	"opsiam/internal/oidc"
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
