package main

import (
	"context"
	"net/http"
	"sync"
	"time"
)

// withDeadline gives every request a deadline (--request-timeout, issue
// 14): the database calls under it end when it runs out, and the request
// answers 503 (store.Unavailable) instead of waiting for a lock for ever.
func withDeadline(d time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), d)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// inFlight knows the requests being served, so that a shutdown that has
// to cut them can say which.
type inFlight struct {
	mu   sync.Mutex
	next int
	reqs map[int]flight
}

type flight struct {
	method, path string
	start        time.Time
}

func (f *inFlight) track(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		if f.reqs == nil {
			f.reqs = map[int]flight{}
		}
		id := f.next
		f.next++
		f.reqs[id] = flight{method: r.Method, path: r.URL.Path, start: time.Now()}
		f.mu.Unlock()
		defer func() {
			f.mu.Lock()
			delete(f.reqs, id)
			f.mu.Unlock()
		}()
		next.ServeHTTP(w, r)
	})
}

func (f *inFlight) list() []flight {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]flight, 0, len(f.reqs))
	for _, r := range f.reqs {
		out = append(out, r)
	}
	return out
}
