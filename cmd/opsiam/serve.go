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

	mux := http.NewServeMux()
	(&health.Handler{Ready: e.db.Ready}).Mount(mux)

	ln, err := net.Listen("tcp", e.cfg.Addr)
	if err != nil {
		return err
	}
	// The default issuer http://ADDR follows the port actually bound, so
	// that mail links work with --addr HOST:0.
	issuer := e.cfg.Issuer
	if issuer == "http://"+e.cfg.Addr {
		host, _, _ := net.SplitHostPort(e.cfg.Addr)
		_, port, _ := net.SplitHostPort(ln.Addr().String())
		issuer = "http://" + net.JoinHostPort(host, port)
	}
	sign, err := buildSignin(e.cfg, issuer, e.db, e.log)
	if err != nil {
		ln.Close()
		return err
	}

	idp, err := buildOIDC(ctx, e, issuer, sign, mux)
	if err != nil {
		ln.Close()
		return err
	}
	workerCtx, stopWorker := context.WithCancel(ctx)
	prov, err := startProvisioning(workerCtx, e, sign.MailTarget, idp.Backchannel(nil))
	if err != nil {
		stopWorker()
		ln.Close()
		return err
	}
	// Stop the worker and let it record its deliveries in flight before the
	// database closes.
	defer func() { stopWorker(); prov.wait() }()

	// Changes made by the sign-in service (user.updated events) nudge the worker.
	sign.Auth.Store = prov.store
	// Logouts (back-channel logout events) nudge it too; keys rotate and
	// expired grants are purged every minute.
	idp.SetStore(prov.store)
	go idp.Run(workerCtx)
	sign.Pages.Mount(mux)
	// sign.Pages.SessionUser is the REST API's cookie credential.
	go purgeSessions(ctx, sign.Auth, e.log)

	srv := &http.Server{
		Handler:           platformLogout(loopbackOnly(mux), idp, sign.Pages, e.log),
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
