package main

import (
	"fmt"
	"os"
	"time"

	"opsiam/internal/auth"
	"opsiam/internal/directory"
	"opsiam/internal/manage"
)

// service builds the use cases over the opened database.
func (e *env) service() *manage.Service {
	return &manage.Service{
		Store:    e.db,
		Graphs:   &manage.RoleGraphs{Store: e.db},
		Hasher:   auth.Hasher{Params: auth.DefaultParams()},
		Now:      time.Now,
		Timezone: e.cfg.Timezone,
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
