package provision

import (
	"context"
	"sync/atomic"

	"opsiam/internal/store"
)

// NudgeOnCommit wraps s so that nudge runs after every transaction that
// enqueued an event and committed, and after every Enqueue outside a
// transaction (STYLE P3: "after commit the worker is nudged"). Hand the
// wrapped store to the use cases (manage, auth) and pass Worker.Nudge; the
// worker then delivers at once instead of at its next poll. Transactions
// that enqueue nothing, or roll back, nudge nothing.
func NudgeOnCommit(s store.Store, nudge func()) store.Store {
	return &nudgeStore{Store: s, nudge: nudge}
}

type nudgeStore struct {
	store.Store
	nudge func()
}

func (s *nudgeStore) InTx(ctx context.Context, fn func(tx store.Tx) error) error {
	var enqueued atomic.Bool
	err := s.Store.InTx(ctx, func(tx store.Tx) error {
		return fn(&enqueueSpy{Tx: tx, enqueued: &enqueued})
	})
	if err == nil && enqueued.Load() {
		s.nudge()
	}
	return err
}

func (s *nudgeStore) Enqueue(ctx context.Context, e store.Event) (store.Event, error) {
	out, err := s.Store.Enqueue(ctx, e)
	if err == nil {
		s.nudge()
	}
	return out, err
}

// enqueueSpy is a Tx that notes whether an event was enqueued.
type enqueueSpy struct {
	store.Tx
	enqueued *atomic.Bool
}

func (t *enqueueSpy) Enqueue(ctx context.Context, e store.Event) (store.Event, error) {
	out, err := t.Tx.Enqueue(ctx, e)
	if err == nil {
		t.enqueued.Store(true)
	}
	return out, err
}
