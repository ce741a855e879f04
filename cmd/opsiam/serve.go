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
	"opsiam/internal/provision"
)

// serve runs the HTTP server until ctx is cancelled (SIGINT, SIGTERM), then
// drains open requests for up to 15 seconds.
func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	e, err := open(ctx, "serve", args, getenv, stdout, stderr)
	if err != nil {
		return err
	}
	defer e.db.Close()

	mux := http.NewServeMux()
	(&health.Handler{Ready: e.db.Ready}).Mount(mux)

	ln, err := net.Listen("tcp", e.cfg.Addr)
	if err != nil {
		return err
	}
	issuer := issuerFor(e, ln)
	web, err := buildWeb(ctx, e, issuer, mux)
	if err != nil {
		ln.Close()
		return err
	}
	workCtx, stopWork := context.WithCancel(context.Background())
	defer stopWork()
	worker := provision.NewWorker(e.db, provision.Config{}, e.log, web.provider.Backchannel(nil))
	go func() { _ = worker.Run(workCtx) }()
	go web.provider.Run(workCtx)
	srv := &http.Server{
		Handler:           platformLogout(mux, web.provider, web.signin, e.log),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
	e.log.Info("opsiam listening", "addr", ln.Addr().String(), "issuer", issuer, "database", string(e.db.Dialect()))
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
