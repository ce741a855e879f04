package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"opsiam/internal/health"
)

// serve runs the HTTP server and the outbox worker until ctx is cancelled
// (SIGINT, SIGTERM), then drains open requests for up to 15 seconds and the
// worker's deliveries in flight.
func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	e, err := open(ctx, "serve", args, getenv, stdout, stderr)
	if err != nil {
		return err
	}
	defer e.db.Close()

	workerCtx, stopWorker := context.WithCancel(ctx)
	prov, err := startProvisioning(workerCtx, e)
	if err != nil {
		stopWorker()
		return err
	}
	// Stop the worker and let it record its deliveries in flight before the
	// database closes.
	defer func() { stopWorker(); prov.wait() }()

	mux := http.NewServeMux()
	(&health.Handler{Ready: e.db.Ready}).Mount(mux)

	ln, err := net.Listen("tcp", e.cfg.Addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
	e.log.Info("opsiam listening", "addr", ln.Addr().String(), "issuer", e.cfg.Issuer, "database", string(e.db.Dialect()))
	fmt.Fprintf(stdout, "opsiam is serving on http://%s\n", ln.Addr())

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	e.log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
