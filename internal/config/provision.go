package config

import (
	"errors"
	"flag"
	"fmt"
	"net/url"
	"strconv"
	"time"
)

// Provision configures the outbox worker and the GitLab target (SPEC P1,
// P2, §7). GitLab is on when both URL and token are given.
type Provision struct {
	GitLabURL         string        // --gitlab-url, OPSIAM_GITLAB_URL
	GitLabToken       Secret        // --gitlab-token, OPSIAM_GITLAB_TOKEN
	GitLabAccessLevel int           // --gitlab-access-level: access level of added members; default 30 (Developer)
	MaxAttempts       int           // --outbox-max-attempts: attempts before a delivery is dead; default 10
	Lease             time.Duration // --outbox-lease
	Poll              time.Duration // --outbox-poll
	Retention         time.Duration // --outbox-retention: finished events are kept this long
	Batch             int           // --outbox-batch: queue heads one worker claims per round; default 256
}

// GitLabEnabled reports whether the GitLab target is configured.
func (p Provision) GitLabEnabled() bool { return p.GitLabURL != "" }

// provisionFlags reads the environment into p and registers the flags that
// override it. Malformed numbers and durations from the environment are
// reported by validate.
func (p *Provision) flags(getenv func(string) string, fs *flag.FlagSet) []error {
	var errs []error
	p.GitLabURL = getenv("OPSIAM_GITLAB_URL")
	p.GitLabToken = Secret(getenv("OPSIAM_GITLAB_TOKEN"))
	envInt := func(key string, def int) int {
		v := getenv(key)
		if v == "" {
			return def
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s %q: want a whole number", key, v))
		}
		return n
	}
	envDur := func(key string, def time.Duration) time.Duration {
		v := getenv(key)
		if v == "" {
			return def
		}
		d, err := time.ParseDuration(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s %q: want a duration such as 30s", key, v))
		}
		return d
	}
	p.GitLabAccessLevel = envInt("OPSIAM_GITLAB_ACCESS_LEVEL", 30)
	p.MaxAttempts = envInt("OPSIAM_OUTBOX_MAX_ATTEMPTS", 10)
	p.Lease = envDur("OPSIAM_OUTBOX_LEASE", time.Minute)
	p.Poll = envDur("OPSIAM_OUTBOX_POLL", time.Second)
	p.Retention = envDur("OPSIAM_OUTBOX_RETENTION", 7*24*time.Hour)
	p.Batch = envInt("OPSIAM_OUTBOX_BATCH", 256)
	fs.StringVar(&p.GitLabURL, "gitlab-url", p.GitLabURL, "GitLab base URL; with --gitlab-token switches GitLab provisioning on (OPSIAM_GITLAB_URL)")
	fs.Func("gitlab-token", "GitLab access token with admin rights (OPSIAM_GITLAB_TOKEN)", func(s string) error {
		p.GitLabToken = Secret(s)
		return nil
	})
	fs.IntVar(&p.GitLabAccessLevel, "gitlab-access-level", p.GitLabAccessLevel,
		"GitLab access level of members opsiam adds: 10 Guest, 20 Reporter, 30 Developer, 40 Maintainer, 50 Owner (OPSIAM_GITLAB_ACCESS_LEVEL)")
	fs.IntVar(&p.MaxAttempts, "outbox-max-attempts", p.MaxAttempts, "delivery attempts before an outbox event is dead (OPSIAM_OUTBOX_MAX_ATTEMPTS)")
	fs.DurationVar(&p.Lease, "outbox-lease", p.Lease, "how long a worker's claim on a delivery lasts before another worker may take it over (OPSIAM_OUTBOX_LEASE)")
	fs.DurationVar(&p.Poll, "outbox-poll", p.Poll, "how often the outbox worker looks for work (OPSIAM_OUTBOX_POLL)")
	fs.IntVar(&p.Batch, "outbox-batch", p.Batch, "queue heads one worker claims per round; smaller spreads work across replicas sooner (OPSIAM_OUTBOX_BATCH)")
	fs.DurationVar(&p.Retention, "outbox-retention", p.Retention, "how long delivered outbox events are kept (OPSIAM_OUTBOX_RETENTION)")
	return errs
}

// validate names every bad provisioning field.
func (p Provision) validate() []error {
	var errs []error
	switch {
	case p.GitLabURL == "" && p.GitLabToken != "":
		errs = append(errs, errors.New("gitlab-url: required when a GitLab token is given"))
	case p.GitLabURL != "":
		u, err := url.Parse(p.GitLabURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("gitlab-url %q: want an http:// or https:// URL", p.GitLabURL))
		}
		if p.GitLabToken == "" {
			errs = append(errs, errors.New("gitlab-token: required when a GitLab URL is given"))
		}
	}
	switch p.GitLabAccessLevel {
	case 5, 10, 15, 20, 30, 40, 50:
	default:
		errs = append(errs, fmt.Errorf("gitlab-access-level %d: want 5, 10, 15, 20, 30, 40 or 50", p.GitLabAccessLevel))
	}
	if p.MaxAttempts < 1 || p.MaxAttempts > 100 {
		errs = append(errs, fmt.Errorf("outbox-max-attempts %d: want 1 to 100", p.MaxAttempts))
	}
	if p.Lease < time.Second {
		errs = append(errs, fmt.Errorf("outbox-lease %s: want at least 1s", p.Lease))
	}
	if p.Retention < time.Hour {
		errs = append(errs, fmt.Errorf("outbox-retention %s: want at least 1h", p.Retention))
	}
	if p.Batch < 1 || p.Batch > 10000 {
		errs = append(errs, fmt.Errorf("outbox-batch %d: want 1 to 10000", p.Batch))
	}
	if p.Poll <= 0 {
		errs = append(errs, fmt.Errorf("outbox-poll %s: want more than 0", p.Poll))
	}
	return errs
}
