package oidc

import (
	"context"
	"net/http"
	"sync"

	"opsiam/internal/store"
)

// memo remembers, for one HTTP request, the clients and users the library
// asks the storage for several times (a refresh looks up its client three
// times and its user twice). It lives only as long as the request, so a
// change by another replica is never missed across requests.
type memo struct {
	mu       sync.Mutex
	clients  map[string]store.OIDCClient
	subjects map[string]subject
}

type memoKey struct{}

// withMemo gives each request its own memo.
func withMemo(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m := &memo{clients: map[string]store.OIDCClient{}, subjects: map[string]subject{}}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), memoKey{}, m)))
	})
}

func memoOf(ctx context.Context) *memo {
	m, _ := ctx.Value(memoKey{}).(*memo)
	return m
}

// getClient reads a client through the request's memo.
func (s *Storage) getClient(ctx context.Context, id string) (store.OIDCClient, error) {
	m := memoOf(ctx)
	if m != nil {
		m.mu.Lock()
		c, ok := m.clients[id]
		m.mu.Unlock()
		if ok {
			return c, nil
		}
	}
	c, err := s.Store.GetOIDCClient(ctx, id)
	if err == nil && m != nil {
		m.mu.Lock()
		m.clients[id] = c
		m.mu.Unlock()
	}
	return c, err
}

// subjectOf loads a user's claims through the request's memo.
func (s *Storage) subjectOf(ctx context.Context, userID string) (subject, error) {
	m := memoOf(ctx)
	if m != nil {
		m.mu.Lock()
		sub, ok := m.subjects[userID]
		m.mu.Unlock()
		if ok {
			return sub, nil
		}
	}
	sub, err := s.loadSubject(ctx, userID)
	if err == nil && m != nil {
		m.mu.Lock()
		m.subjects[userID] = sub
		m.mu.Unlock()
	}
	return sub, err
}
