package auth

import (
	"context"
	"errors"
	"runtime"
	"runtime/metrics"
	"sync"
)

// ErrBusy: too many password hashes are waiting; the sign-in page answers
// 503 with Retry-After instead of queueing without end (issue 15).
var ErrBusy = errors.New("auth: too many sign-ins at once")

// hashLimit bounds the argon2id hashes running at once to the number of
// cores, each holding its memory (19 MiB by default), so that parallel
// sign-ins cannot push the process towards the OOM killer; more than
// queueFactor times as many waiting callers are refused with ErrBusy.
// Waiting ends with the caller's context (the request's deadline).
type hashLimit struct {
	once    sync.Once
	slots   chan struct{}
	mu      sync.Mutex
	waiting int
	max     int
}

const queueFactor = 8

func (l *hashLimit) init() {
	l.once.Do(func() {
		n := runtime.GOMAXPROCS(0)
		l.slots, l.max = make(chan struct{}, n), queueFactor*n
	})
}

// smallHeap reports whether the heap that survived the last collection
// is below maxCollectHeap: a forced collection costs in proportion to it,
// and in a large heap the hashes' memory matters less beside it.
func smallHeap() bool {
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(sample)
	return sample[0].Value.Kind() != metrics.KindUint64 || sample[0].Value.Uint64() < maxCollectHeap
}

// maxCollectHeap is the live heap up to which a hash collects first.
const maxCollectHeap = 128 << 20

// full reports whether a hash asked for now would be refused: every slot
// busy and the queue full. A caller checks it before work that only the
// hash would use, so that the refusals of an overload cost little.
func (l *hashLimit) full() bool {
	l.init()
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.slots) == cap(l.slots) && l.waiting >= l.max
}

// collectFrom is the hash memory from which do collects garbage before a
// hash: below it (the tests' cheap parameters) a collection would cost
// more than the memory it frees.
const collectFrom = 4 << 10 // KiB

// do runs fn when a slot is free; with collect, after a garbage collection.
func (l *hashLimit) do(ctx context.Context, collect bool, fn func()) error {
	l.init()
	select {
	case l.slots <- struct{}{}: // free at once
	default:
		l.mu.Lock()
		if l.waiting >= l.max {
			l.mu.Unlock()
			return ErrBusy
		}
		l.waiting++
		l.mu.Unlock()
		defer func() { l.mu.Lock(); l.waiting--; l.mu.Unlock() }()
		select {
		case l.slots <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	defer func() { <-l.slots }()
	// argon2id allocates its memory (19 MiB by default) anew for every
	// hash, and the library cannot reuse it. Collecting before each hash
	// lets this one reuse the memory of hashes that have ended, instead of
	// the heap growing to twice the hashes' memory before the collector
	// runs on its own: peak RSS under a sign-in burst went from idle + 120
	// MiB to idle + 63 MiB (2 cores, 19 MiB hashes; docs/performance.md).
	// A collection of our small pointer heap costs well under a millisecond
	// against the hash's 30 ms; with a live heap of more than
	// maxCollectHeap it would not, and is left to the runtime.
	if collect && smallHeap() {
		runtime.GC()
	}
	fn()
	return nil
}

// verify is Hasher.Verify under the limit.
func (s *Service) verify(ctx context.Context, hash, password string) (ok, rehash bool, err error) {
	if lerr := s.hashes.do(ctx, s.Hasher.Params.MemoryKiB >= collectFrom, func() { ok, rehash, err = s.Hasher.Verify(hash, password) }); lerr != nil {
		return false, false, lerr
	}
	return ok, rehash, err
}

// hash is Hasher.Hash under the limit.
func (s *Service) hash(ctx context.Context, password string) (h string, err error) {
	if lerr := s.hashes.do(ctx, s.Hasher.Params.MemoryKiB >= collectFrom, func() { h, err = s.Hasher.Hash(password) }); lerr != nil {
		return "", lerr
	}
	return h, err
}
