// Package health serves the liveness and readiness probes of SPEC §7:
// GET /healthz answers 200 while the process runs, GET /readyz answers 200
// only while the database answers and is fully migrated.
package health

import (
	"context"
	"net/http"
	"time"
)

// Handler serves the probes. Ready is asked on every /readyz request.
type Handler struct {
	Ready func(ctx context.Context) error
}

// Mount registers the probes on mux.
func (h *Handler) Mount(mux *http.ServeMux) {
	mux.HandleFunc("GET /healthz", h.healthz)
	mux.HandleFunc("GET /readyz", h.readyz)
}

func (h *Handler) healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ok\n"))
}

func (h *Handler) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := h.Ready(ctx); err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte("not ready\n")) // the cause stays in the server's log, not on an open endpoint
		return
	}
	w.Write([]byte("ready\n"))
}
