package config

import (
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

func TestProvisionConfig(t *testing.T) {
	c, _, err := Load("serve", nil, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	p := c.Provision
	if p.GitLabEnabled() || p.GitLabAccessLevel != 30 || p.MaxAttempts != 10 || p.Lease != time.Minute || p.Poll != time.Second {
		t.Fatalf("defaults: %+v", p)
	}
	c, _, err = Load("serve", []string{"--gitlab-token", "flag-token", "--outbox-max-attempts", "3"}, env(map[string]string{
		"OPSIAM_GITLAB_URL": "https://gitlab.example", "OPSIAM_GITLAB_TOKEN": "env-token",
		"OPSIAM_GITLAB_ACCESS_LEVEL": "40", "OPSIAM_OUTBOX_LEASE": "5s",
	}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	p = c.Provision
	if !p.GitLabEnabled() || p.GitLabURL != "https://gitlab.example" || p.GitLabToken != "flag-token" ||
		p.GitLabAccessLevel != 40 || p.MaxAttempts != 3 || p.Lease != 5*time.Second {
		t.Fatalf("environment and flags: %+v", p)
	}
	if s := fmt.Sprintf("%+v", c); strings.Contains(s, "flag-token") {
		t.Fatalf("token leaked: %s", s)
	}
}

func TestProvisionConfigErrors(t *testing.T) {
	tests := []struct {
		name  string
		env   map[string]string
		args  []string
		field string
	}{
		{"token without url", map[string]string{"OPSIAM_GITLAB_TOKEN": "x"}, nil, "gitlab-url"},
		{"url without token", nil, []string{"--gitlab-url", "https://gitlab.example"}, "gitlab-token"},
		{"bad url", nil, []string{"--gitlab-url", "gitlab.example", "--gitlab-token", "x"}, "gitlab-url"},
		{"bad level", nil, []string{"--gitlab-access-level", "31"}, "gitlab-access-level"},
		{"bad level in env", map[string]string{"OPSIAM_GITLAB_ACCESS_LEVEL": "dev"}, nil, "OPSIAM_GITLAB_ACCESS_LEVEL"},
		{"attempts", nil, []string{"--outbox-max-attempts", "0"}, "outbox-max-attempts"},
		{"lease", nil, []string{"--outbox-lease", "10ms"}, "outbox-lease"},
		{"lease in env", map[string]string{"OPSIAM_OUTBOX_LEASE": "soon"}, nil, "OPSIAM_OUTBOX_LEASE"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Load("serve", tc.args, env(tc.env), io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.field) {
				t.Fatalf("got %v, want an error naming %s", err, tc.field)
			}
		})
	}
}
