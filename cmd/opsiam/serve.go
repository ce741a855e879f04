package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"strings"
	"time"

	"opsiam/internal/auth"
	"opsiam/internal/config"
	"opsiam/internal/health"
	"opsiam/internal/httpapi"
	"opsiam/internal/manage"
	"opsiam/internal/metrics"
	"opsiam/internal/oidc"
	"opsiam/internal/provision"
	"opsiam/internal/provision/webhook"
	"opsiam/internal/webguard"
)

// serve runs the HTTP server and the outbox worker until ctx is cancelled
// (SIGINT, SIGTERM), then drains open requests for up to 15 seconds and the
// worker's deliveries in flight.
func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	e, err := load("serve", args, getenv, stderr)
	if err != nil {
		return err
	}
	skills, err := e.skills()
	if err != nil {
		return err
	}
	// Listen before the database is created, so that a first start that
	// cannot listen (a busy port) creates no admin whose password is lost;
	// the password is printed once the server listens (issue 17).
	ln, err := net.Listen("tcp", e.cfg.Addr)
	if err != nil {
		return err
	}
	boot, err := e.openDB(ctx, true)
	if err != nil {
		ln.Close()
		return err
	}
	defer e.db.Close()
	e.announceAdmin(boot, stdout)
	mux := http.NewServeMux()
	(&health.Handler{Ready: e.db.Ready}).Mount(mux)

	// The default issuer http://ADDR follows the port actually bound, so
	// that mail links work with --addr HOST:0.
	issuer := e.cfg.Issuer
	if e.cfg.IssuerDefault {
		_, port, _ := net.SplitHostPort(ln.Addr().String())
		issuer = config.DefaultIssuer(e.cfg.Addr, port)
	}
	// The key-encryption key seals the signing keys, OTP secrets, webhook
	// secrets and identity provider secrets (each under its own derived key).
	kek, err := keyEncryptionKey(e)
	if err != nil {
		ln.Close()
		return err
	}
	upSvc, err := e.identityService(kek)
	if err != nil {
		ln.Close()
		return err
	}
	up, err := upstream(upSvc, kek, issuer)
	if err != nil {
		ln.Close()
		return err
	}
	sign, err := buildSignin(e.cfg, issuer, e.db, e.log, upSvc, up)
	if err != nil {
		ln.Close()
		return err
	}
	idp, err := buildOIDC(ctx, e, kek, issuer, sign, mux)
	if err != nil {
		ln.Close()
		return err
	}
	webhookSecrets, err := webhook.NewSealer(kek)
	if err != nil {
		ln.Close()
		return err
	}
	workerCtx, stopWorker := context.WithCancel(ctx)
	prov, err := startProvisioning(workerCtx, e, webhookSecrets, sign.MailTarget, idp.Backchannel(nil))
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
	upSvc.Store = prov.store
	// Logouts (back-channel logout events) nudge it too; keys rotate and
	// expired grants are purged every minute.
	idp.SetStore(prov.store)
	go idp.Run(workerCtx)
	sign.Pages.Mount(mux)
	go purgeSessions(ctx, sign.Auth, e.log)

	// The REST API (issue 3): its changes nudge the worker too. Session
	// cookies are its second credential, CSRF-checked for unsafe methods.
	svc, err := e.identityService(kek)
	if err != nil {
		return err
	}
	svc.Store = prov.store
	snapshotBilling(ctx, svc, e.log) // before listening, so the report has today at once
	if err := mountConsole(mux, e.cfg, svc, sign.Auth, prov.gitlab, prov.outbox, e.log, strings.TrimSuffix(issuer, "/")); err != nil {
		return err
	}
	go func() {
		t := time.NewTicker(time.Hour)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				snapshotBilling(ctx, svc, e.log)
			}
		}
	}()
	api := &httpapi.API{
		Manage: svc,
		Credentials: []httpapi.Credential{
			httpapi.PlatformToken(auth.PlatformTokens{Store: e.db, Now: time.Now}),
			{Name: "session", Authenticate: sign.Pages.SessionUser, Cookie: true},
		},
		Skills:   skills,
		Outbox:   prov.outbox,
		Webhooks: prov.webhooks,
		GitLab:   prov.gitlab,
		Clients:  &oidc.ClientService{Store: prov.store, Now: time.Now},
		ServiceClients: func(ctx context.Context, bearer string) (string, bool, error) {
			c, ok, err := idp.ServiceClient(ctx, bearer)
			if errors.Is(err, oidc.ErrNotServiceToken) {
				return "", true, fmt.Errorf("%w: %w", httpapi.ErrBadCredential, err)
			}
			return c.ID, ok, err
		},
		Log:     e.log,
		Now:     time.Now,
		BaseURL: strings.TrimSuffix(issuer, "/"),
	}
	api.Mount(mux)
	mountSCIM(mux, api, issuer, e.log)

	reg := &metrics.Registry{Start: time.Now(), Gauges: []metrics.Gauge{outboxGauge(prov.outbox)}}
	mux.Handle("GET /metrics", reg)

	inflight := &inFlight{}
	srv := &http.Server{
		Handler: reg.Middleware(inflight.track(withDeadline(e.cfg.Server.RequestTimeout,
			webguard.Handler(platformLogout(loopbackOnly(mux), idp, sign.Pages, e.log))))),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       e.cfg.Server.ReadTimeout,
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
	e.log.Info("shutting down", "drain", e.cfg.Server.ShutdownTimeout.String())
	shutdownCtx, cancel := context.WithTimeout(context.Background(), e.cfg.Server.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		// The drain ran out: cut what is left, say what it was, and end
		// normally — a shutdown that had to cut is still a shutdown.
		for _, r := range inflight.list() {
			e.log.Warn("shutdown cut a request in flight", "method", r.method, "path", r.path, "running", time.Since(r.start).Round(time.Millisecond).String())
		}
		_ = srv.Close()
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// snapshotBilling records today's billed counts (B1: the report of the
// billed count over time); serve calls it at start and every hour. Every
// replica may: a snapshot of the same day replaces the earlier one.
func snapshotBilling(ctx context.Context, svc *manage.Service, log *slog.Logger) {
	if _, err := svc.SnapshotBilling(ctx); err != nil && ctx.Err() == nil {
		log.Error("billing snapshot", "err", err)
	}
}

// outboxGauge samples the outbox deliveries by state (P1: failures are
// visible), for GET /metrics.
func outboxGauge(o *provision.Outbox) metrics.Gauge {
	return metrics.Gauge{
		Name: "opsiam_outbox_deliveries",
		Help: "Outbox deliveries by state (pending, done, dead).",
		Sample: func(ctx context.Context) ([]metrics.Sample, error) {
			counts, err := o.Counts(ctx)
			if err != nil {
				return nil, err
			}
			out := make([]metrics.Sample, 0, len(counts))
			for state, n := range counts {
				out = append(out, metrics.Sample{Labels: [][2]string{{"state", string(state)}}, Value: float64(n)})
			}
			sort.Slice(out, func(i, j int) bool { return out[i].Labels[0][1] < out[j].Labels[0][1] })
			return out, nil
		},
	}
}
