package auth

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

// TestHashLimit: no more hashes run at once than there are cores; callers
// beyond the queue are refused with ErrBusy at once; a waiting caller
// gives up with its context (issue 15, goal 3).
func TestHashLimit(t *testing.T) {
	var l hashLimit
	l.init()
	n := runtime.GOMAXPROCS(0)
	release := make(chan struct{})
	var running, peak atomic.Int32
	var started sync.WaitGroup
	started.Add(n)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = l.do(context.Background(), false, func() {
				now := running.Add(1)
				for {
					p := peak.Load()
					if now <= p || peak.CompareAndSwap(p, now) {
						break
					}
				}
				started.Done()
				<-release
				running.Add(-1)
			})
		}()
	}
	started.Wait() // every slot is taken
	// Fill the queue: these wait.
	waitCtx, cancelWaiters := context.WithCancel(context.Background())
	errs := make(chan error, l.max)
	for range l.max {
		go func() { errs <- l.do(waitCtx, false, func() {}) }()
	}
	for {
		l.mu.Lock()
		w := l.waiting
		l.mu.Unlock()
		if w == l.max {
			break
		}
		runtime.Gosched()
	}
	if err := l.do(context.Background(), false, func() { t.Error("ran beyond the queue") }); !errors.Is(err, ErrBusy) {
		t.Fatalf("beyond the queue: %v", err)
	}
	if !l.full() {
		t.Fatal("full() is false with every slot and the queue taken")
	}
	cancelWaiters()
	for range l.max {
		if err := <-errs; !errors.Is(err, context.Canceled) {
			t.Fatalf("a waiter whose context ended: %v", err)
		}
	}
	if l.full() {
		t.Fatal("full() is true with the queue empty")
	}
	close(release)
	wg.Wait()
	if int(peak.Load()) > n {
		t.Fatalf("%d hashes ran at once on %d cores", peak.Load(), n)
	}
}
