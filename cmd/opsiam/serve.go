package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"opsiam/internal/auth"
	"opsiam/internal/health"
	"opsiam/internal/httpapi"
)

// serve runs the HTTP server until ctx is cancelled (SIGINT, SIGTERM), then
// drains open requests for up to 15 seconds.
func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	e, err := open(ctx, "serve", args, getenv, stdout, stderr)
	if err != nil {
		return err
	}
	defer e.db.Close()

	skills, err := e.skills()
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	(&health.Handler{Ready: e.db.Ready}).Mount(mux)
	sign, err := buildSignin(e.cfg, e.db, e.log)
	if err != nil {
		return err
	}
	sign.Pages.Mount(mux)
	// sign.MailTarget goes to the outbox worker.
	go purgeSessions(ctx, sign.Auth, e.log)
	svc := e.service()
	if err := mountConsole(mux, e.cfg, svc, sign.Auth, e.log); err != nil {
		return err
	}
	api := &httpapi.API{
		Manage: svc,
		Credentials: []httpapi.Credential{
			httpapi.PlatformToken(auth.PlatformTokens{Store: e.db, Now: time.Now}),
			{Name: "session", Authenticate: sign.Pages.SessionUser, Cookie: true},
		},
		Skills: skills,
		Log:    e.log,
		Now:    time.Now,
	}
	api.Mount(mux)

	ln, err := net.Listen("tcp", e.cfg.Addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           loopbackOnly(mux),
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
