package main

import (
	"context"
	"time"

	"opsiam/internal/provision"
	"opsiam/internal/provision/gitlab"
	"opsiam/internal/provision/webhook"
	"opsiam/internal/store"
)

// provisioning is the running outbox worker (P1) and what the API needs of it.
type provisioning struct {
	worker *provision.Worker
	// store is the database for use cases that enqueue events: it nudges
	// the worker after each commit that enqueued something.
	store    store.Store
	outbox   *provision.Outbox // for /api/v1/outbox
	webhooks *webhook.Service  // for /api/v1/webhooks
	gitlab   *gitlab.Target    // nil when GitLab is off; its Members serves the Git members tab (G2)
	done     chan struct{}
}

// startProvisioning builds the targets from the configuration (GitLab when
// --gitlab-url and --gitlab-token are set; webhook endpoints from the
// database, their secrets opened with secrets) and starts the worker. It
// stops when ctx ends; wait drains it.
func startProvisioning(ctx context.Context, e *env, secrets *webhook.Sealer, extra ...provision.Target) (*provisioning, error) {
	cfg := e.cfg.Provision
	p := &provisioning{done: make(chan struct{})}
	targets := append([]provision.Target(nil), extra...)
	if cfg.GitLabEnabled() {
		t, err := gitlab.New(gitlab.Config{URL: cfg.GitLabURL, Token: string(cfg.GitLabToken), AccessLevel: cfg.GitLabAccessLevel})
		if err != nil {
			return nil, err
		}
		p.gitlab = t
		targets = append(targets, t)
	}
	p.worker = provision.NewWorker(e.db, provision.Config{MaxAttempts: cfg.MaxAttempts, Lease: cfg.Lease, Poll: cfg.Poll,
		Retention: cfg.Retention, Batch: cfg.Batch},
		e.log.With("component", "outbox"), targets...)
	src := webhook.NewSource(e.db)
	src.Secrets = secrets
	p.worker.Sources = []provision.TargetSource{src}
	p.store = provision.NudgeOnCommit(e.db, p.worker.Nudge)
	p.outbox = &provision.Outbox{Store: e.db, Now: time.Now, Nudge: p.worker.Nudge}
	p.webhooks = &webhook.Service{Store: e.db, Now: time.Now, Secrets: secrets}
	e.log.Info("outbox worker started", "worker", p.worker.Name(), "gitlab", cfg.GitLabEnabled())
	go func() {
		defer close(p.done)
		_ = p.worker.Run(ctx)
	}()
	return p, nil
}

// wait blocks until the worker has finished its deliveries in flight.
func (p *provisioning) wait() { <-p.done }
