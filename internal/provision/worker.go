package provision

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"os"
	"sync"
	"time"

	"opsiam/internal/store"
)

// TargetSource supplies targets that live in the database, such as webhook
// endpoints (P3). The worker asks before every fan-out, so an endpoint added
// by one replica is served by all.
type TargetSource interface {
	Targets(ctx context.Context) ([]Target, error)
}

// Config tunes a Worker. Zero fields take the defaults noted.
type Config struct {
	Name        string        // worker id in claimed_by; default host-pid-random
	Poll        time.Duration // look for work at least this often; default 1s
	Lease       time.Duration // a claim's lifetime; default 1m
	Timeout     time.Duration // one delivery's time limit; default Lease/2
	Batch       int           // deliveries per claim; default 256
	Concurrency int           // deliveries in flight; default 32
	Chain       int           // events of one aggregate delivered in a row per round; default 64
	MaxAttempts int           // attempts before a delivery is dead; default 10
	BackoffBase time.Duration // delay after the first failure; default 1s
	BackoffMax  time.Duration // longest delay; default 1h
	// Retention: finished events older than this are deleted, checked
	// hourly; default 7 days.
	Retention time.Duration
	// RoundWait is how long a round waits for its deliveries before it
	// goes on; deliveries still running (a slow endpoint) finish and record
	// themselves in the background. Default 2s.
	RoundWait time.Duration
}

func (c Config) withDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.Poll, time.Second)
	def(&c.Lease, time.Minute)
	def(&c.Timeout, c.Lease/2)
	def(&c.BackoffBase, time.Second)
	def(&c.BackoffMax, time.Hour)
	def(&c.Retention, 7*24*time.Hour)
	def(&c.RoundWait, 2*time.Second)
	if c.Timeout > c.Lease {
		c.Timeout = c.Lease
	}
	if c.Batch <= 0 {
		c.Batch = 256
	}
	if c.Concurrency <= 0 {
		c.Concurrency = 32
	}
	if c.Chain <= 0 {
		c.Chain = 64
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 10
	}
	if c.Name == "" {
		host, _ := os.Hostname()
		var b [4]byte
		_, _ = rand.Read(b[:])
		c.Name = fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b[:]))
	}
	return c
}

// Worker delivers outbox events (P1): it fans new events out to the targets
// that handle their topics, claims due deliveries under a lease, hands each
// to its target, and records the outcome, retrying failures with
// exponential back-off and jitter until MaxAttempts, then marking them dead.
// Several workers (replicas) may share one database.
type Worker struct {
	Store   store.Deliveries
	Targets []Target       // fixed targets (GitLab, mail)
	Sources []TargetSource // targets read from the database (webhooks)
	Log     *slog.Logger
	Now     func() time.Time
	// Rand returns a number in [0, n) for the back-off jitter.
	Rand func(n int64) int64

	cfg       Config
	nudge     chan struct{}
	lastPurge time.Time

	inflight sync.WaitGroup // deliveries running, also past their round
	mu       sync.Mutex
	slots    map[string]chan struct{} // per target: Concurrency deliveries at once
}

// slot is target's semaphore: each target has its own Concurrency, so a
// slow or dead endpoint delays only its own deliveries (issue 14).
func (w *Worker) slot(target string) chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.slots == nil {
		w.slots = map[string]chan struct{}{}
	}
	s, ok := w.slots[target]
	if !ok {
		s = make(chan struct{}, w.cfg.Concurrency)
		w.slots[target] = s
	}
	return s
}

// NewWorker builds a worker over s for the given fixed targets.
func NewWorker(s store.Deliveries, cfg Config, log *slog.Logger, targets ...Target) *Worker {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Worker{
		Store: s, Targets: targets, Log: log, Now: time.Now, Rand: mrand.Int64N,
		cfg: cfg.withDefaults(), nudge: make(chan struct{}, 1),
	}
}

// Name is the worker's id, as recorded in claimed_by.
func (w *Worker) Name() string { return w.cfg.Name }

// Nudge tells the worker that events were committed, so it looks now rather
// than at the next poll. It never blocks; polling covers a lost nudge.
func (w *Worker) Nudge() {
	select {
	case w.nudge <- struct{}{}:
	default:
	}
}

// Run works until ctx is cancelled. Deliveries in flight when ctx ends are
// finished (each within its timeout) and recorded before Run returns, so a
// clean shutdown leaves no claim to wait out.
func (w *Worker) Run(ctx context.Context) error {
	timer := time.NewTimer(0)
	defer timer.Stop()
	defer w.inflight.Wait()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		case <-w.nudge:
		}
		busy, err := w.Round(ctx)
		if err != nil && ctx.Err() == nil {
			w.Log.Error("outbox round failed", "worker", w.cfg.Name, "err", err)
		}
		if now := w.Now(); !busy && now.Sub(w.lastPurge) >= time.Hour {
			w.lastPurge = now
			if n, err := w.Purge(ctx); err != nil {
				w.Log.Error("outbox purge failed", "err", err)
			} else if n > 0 {
				w.Log.Info("outbox purged", "events", n)
			}
		}
		wait := w.cfg.Poll
		if busy && err == nil {
			wait = 0
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(wait)
	}
}

// Purge deletes finished events older than the retention and their
// deliveries; pending and dead ones stay.
func (w *Worker) Purge(ctx context.Context) (int, error) {
	total := 0
	for ctx.Err() == nil {
		n, err := w.Store.PurgeOutbox(ctx, w.Now().Add(-w.cfg.Retention), 1000)
		total += n
		if err != nil || n < 1000 {
			return total, err
		}
	}
	return total, nil
}

// Round does one pass: fan out new events, claim, deliver and settle. It
// reports whether there may be more work right away: something was claimed,
// or a full batch of events was fanned out.
func (w *Worker) Round(ctx context.Context) (busy bool, err error) {
	targets, err := w.targets(ctx)
	if err != nil {
		return false, err
	}
	fanned, err := w.Store.FanOut(ctx, w.cfg.Batch, func(e store.Event) []string {
		var names []string
		for _, t := range targets {
			if t.Handles(e.Topic) {
				names = append(names, t.Name())
			}
		}
		return names
	}, w.Now())
	if err != nil {
		return false, fmt.Errorf("fan out: %w", err)
	}
	now := w.Now()
	claimed, err := w.Store.ClaimDeliveries(ctx, store.Claim{
		Worker: w.cfg.Name, Now: now, LeaseUntil: now.Add(w.cfg.Lease), Limit: w.cfg.Batch,
	})
	if err != nil {
		return false, fmt.Errorf("claim: %w", err)
	}
	if len(claimed) == 0 {
		return fanned == w.cfg.Batch, nil
	}
	byName := make(map[string]Target, len(targets))
	for _, t := range targets {
		byName[t.Name()] = t
	}
	// Few heads means the backlog sits in few queues: go along them.
	chain := 1
	if len(claimed) < w.cfg.Batch/2 {
		chain = w.cfg.Chain
	}
	w.deliverAll(ctx, claimed, byName, chain)
	return true, nil // something was claimed: more may be due behind it
}

// targets gathers fixed and database targets. If a source fails, the round
// fails: fanning out without its targets would lose their deliveries.
func (w *Worker) targets(ctx context.Context) ([]Target, error) {
	out := append([]Target(nil), w.Targets...)
	for _, s := range w.Sources {
		ts, err := s.Targets(ctx)
		if err != nil {
			return nil, fmt.Errorf("targets: %w", err)
		}
		out = append(out, ts...)
	}
	return out, nil
}

// deliverAll delivers claimed deliveries, each target Concurrency at a
// time, and waits for them at most RoundWait. Claimed deliveries belong to
// different (aggregate, target) pairs, so they may go in parallel without
// breaking order; the next event of a queue becomes claimable only once its
// head is settled. After a success, the worker settles it and claims the
// next event of the same aggregate and target (ClaimNext), up to chain in
// a row. Each delivery records its own outcome when it ends, so one that is
// still waiting for a slow endpoint holds up neither the round nor any
// other target.
func (w *Worker) deliverAll(ctx context.Context, claimed []store.Delivery, byName map[string]Target, chain int) {
	done := make(chan struct{}, len(claimed))
	for _, d := range claimed {
		w.inflight.Add(1)
		go func() {
			defer func() { done <- struct{}{}; w.inflight.Done() }()
			w.deliverAndSettle(ctx, d, byName, chain)
		}()
	}
	timer := time.NewTimer(w.cfg.RoundWait)
	defer timer.Stop()
	for range claimed {
		select {
		case <-done:
		case <-timer.C:
			return
		}
	}
}

// deliverAndSettle waits for a slot of d's target, delivers d (and its
// chain) and records the last outcome.
func (w *Worker) deliverAndSettle(ctx context.Context, d store.Delivery, byName map[string]Target, chain int) {
	bg := context.WithoutCancel(ctx)
	slot := w.slot(d.Target)
	var s store.Settle
	select {
	case slot <- struct{}{}:
		s = w.chain(ctx, d, byName, chain)
		<-slot
	case <-ctx.Done():
		now := w.Now()
		s = store.Settle{Delivery: d, Err: "the worker stopped before the delivery began", Now: now, RetryAt: now}
	}
	if s.Delivery.Target == "" {
		return
	}
	if _, err := w.Store.SettleDeliveries(bg, []store.Settle{s}); err != nil {
		w.Log.Error("outbox settle failed", "target", s.Delivery.Target, "event", s.Delivery.Event.ID, "err", err)
	}
}

// chain delivers d and then, while deliveries succeed, the following
// events of its aggregate and target. It returns the last outcome, to be
// recorded with the round's batch, or a zero Settle if nothing is left.
func (w *Worker) chain(ctx context.Context, d store.Delivery, byName map[string]Target, max int) store.Settle {
	bg := context.WithoutCancel(ctx)
	for step := 1; ; step++ {
		s := w.deliverOne(ctx, d, byName[d.Target])
		if s.Err != "" || step >= max || ctx.Err() != nil {
			return s
		}
		now := w.Now()
		next, ok, err := w.Store.ClaimNext(bg, store.Claim{Worker: w.cfg.Name, Now: now, LeaseUntil: now.Add(w.cfg.Lease)}, s)
		if err != nil {
			return s // recorded with the batch
		}
		if !ok {
			return store.Settle{} // recorded (or the claim was lost); nothing follows now
		}
		d = next
	}
}

// deliverOne hands d to t and says how to settle it. The delivery's time
// limit ends before the lease does, so no other worker can take the claim
// over while this one still talks to the target.
func (w *Worker) deliverOne(ctx context.Context, d store.Delivery, t Target) store.Settle {
	var err error
	if t == nil {
		err = fmt.Errorf("no target %q is configured on worker %s", d.Target, w.cfg.Name)
	} else {
		limit := min(w.cfg.Timeout, d.LeaseUntil.Sub(w.Now())-w.cfg.Lease/10)
		if limit <= 0 {
			err = errors.New("lease ran out before delivery")
		} else {
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), limit)
			err = deliverSafely(dctx, t, d.Event)
			cancel()
		}
	}
	now := w.Now()
	if err == nil {
		return store.Settle{Delivery: d, Now: now}
	}
	dead := errors.Is(err, ErrPermanent) || d.Attempts >= w.cfg.MaxAttempts
	s := store.Settle{Delivery: d, Err: err.Error(), Dead: dead, Now: now}
	if !dead {
		s.RetryAt = now.Add(w.Backoff(d.Attempts))
	}
	w.Log.Warn("delivery failed", "target", d.Target, "event", d.Event.ID, "topic", d.Event.Topic,
		"attempt", d.Attempts, "dead", dead, "err", err)
	return s
}

// deliverSafely turns a panicking target into a failed delivery.
func deliverSafely(ctx context.Context, t Target, e store.Event) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("target %s panicked: %v", t.Name(), r)
		}
	}()
	return t.Deliver(ctx, e)
}

// Backoff is the delay after the attempt-th failed attempt: BackoffBase
// doubled per attempt, capped at BackoffMax, of which a random half is
// dropped ("equal jitter") so that retries of many deliveries spread out.
func (w *Worker) Backoff(attempt int) time.Duration {
	d := w.cfg.BackoffBase
	for i := 1; i < attempt && d < w.cfg.BackoffMax; i++ {
		d *= 2
	}
	d = min(d, w.cfg.BackoffMax)
	half := d / 2
	return half + time.Duration(w.Rand(int64(d-half)+1))
}
