package oidc

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"

	"opsiam/internal/directory"
	"opsiam/internal/manage"
	"opsiam/internal/store"
)

// SessionReader tells which user the platform session of a request
// belongs to (the auth package's session authenticator). ok is false when
// the browser is not signed in.
type SessionReader func(r *http.Request) (user directory.UserID, ok bool, err error)

// Config is what New needs. Zero durations take the defaults below.
type Config struct {
	Issuer string // public URL (SPEC §7 --issuer)
	// AllowInsecure permits an http:// issuer on any host; without it an
	// http:// issuer must be localhost or a loopback address.
	AllowInsecure bool
	KEK           [32]byte // key-encryption key of the signing keys
	Store         store.Store
	Graphs        *manage.RoleGraphs
	Sessions      SessionReader
	// SessionKey returns a secret unique to the platform session of r (its
	// session cookie), empty without one; the sid claim is its hash (SID).
	SessionKey func(r *http.Request) string
	// AuthTime returns when the platform session of r signed in (the
	// auth_time claim); nil or a zero time: the time of the authorization.
	// SessionInfo, when set, replaces it.
	AuthTime func(r *http.Request) time.Time
	// SessionInfo describes the platform session of r: sign-in time, end
	// and methods (amr, acr). Nil: AuthTime alone, amr ["pwd"].
	SessionInfo func(r *http.Request) SessionInfo
	// PlatformSessions finds and ends platform sessions by sid (refresh
	// tokens bound to the session, backend logout); nil: neither.
	PlatformSessions PlatformSessions
	// LoginURL builds the sign-in page's URL that returns to returnTo
	// (a path on this server) after signing in.
	LoginURL func(returnTo string) string
	// ReauthURL builds the sign-in page's URL that asks for the password
	// even with a valid session, then returns to returnTo: the answer to
	// prompt=login and to a max_age the session is older than (OIDC Core
	// §3.1.2.1). It needs AuthTime. Nil: such requests get login_required.
	ReauthURL func(returnTo string) string
	// EndSession ends the platform session of the request (RP-initiated
	// logout, A5); nil when there is none to end.
	EndSession func(w http.ResponseWriter, r *http.Request) error
	Now        func() time.Time
	Log        *slog.Logger

	AccessTokenLifetime  time.Duration // default 10 minutes
	IDTokenLifetime      time.Duration // default 1 hour
	RefreshTokenLifetime time.Duration // default 10 hours (SPEC §8: sessions last 10 hours at most); bounded by the session's end
	OfflineTokenLifetime time.Duration // offline_access refresh tokens; default 30 days
	KeyRotation          time.Duration // default 30 days
	// SigningAlgorithms are kept with a current key each, rotated and
	// published (SPEC §9); RS256 alone when empty. DefaultSigningAlg signs
	// for clients that name none (--default-signing-alg; RS256 when empty).
	SigningAlgorithms []jose.SignatureAlgorithm
	DefaultSigningAlg jose.SignatureAlgorithm
}

// Paths of the pages this package serves beside the protocol endpoints.
const (
	ContinuePath  = "/oidc/continue"   // continues an authorization request after sign-in
	LoggedOutPath = "/oidc/logged-out" // shown after a logout without a redirect
)

// Provider is the OpenID Connect provider.
type Provider struct {
	cfg     Config
	op      *op.Provider
	storage *Storage
	keys    *Keys
	prefix  string // path of the issuer URL, "" at the root
	cop     *http.CrossOriginProtection
}

// New builds the provider; call Maintain (or Run) before serving so that a
// signing key exists.
func New(cfg Config) (*Provider, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Sessions == nil || cfg.SessionKey == nil || cfg.LoginURL == nil {
		return nil, errors.New("oidc: Sessions, SessionKey and LoginURL are required")
	}
	if cfg.ReauthURL != nil && cfg.AuthTime == nil && cfg.SessionInfo == nil {
		return nil, errors.New("oidc: ReauthURL needs AuthTime")
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&cfg.AccessTokenLifetime, 10*time.Minute)
	def(&cfg.IDTokenLifetime, time.Hour)
	def(&cfg.RefreshTokenLifetime, 10*time.Hour)
	def(&cfg.OfflineTokenLifetime, 30*24*time.Hour)
	def(&cfg.KeyRotation, 30*24*time.Hour)
	u, err := url.Parse(cfg.Issuer)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("issuer %q: not an absolute URL", cfg.Issuer)
	}
	insecure := false
	if u.Scheme == "http" {
		host := u.Hostname()
		ip := net.ParseIP(host)
		if !cfg.AllowInsecure && host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return nil, fmt.Errorf("issuer %q: http is allowed only for localhost or a loopback address; use https (or the insecure dev flag)", cfg.Issuer)
		}
		insecure = true
	}
	p := &Provider{cfg: cfg, prefix: strings.TrimSuffix(u.Path, "/"), cop: http.NewCrossOriginProtection()}
	maxLife := max(cfg.AccessTokenLifetime, cfg.IDTokenLifetime)
	if cfg.DefaultSigningAlg != "" && !slices.Contains(cfg.SigningAlgorithms, cfg.DefaultSigningAlg) &&
		!(len(cfg.SigningAlgorithms) == 0 && cfg.DefaultSigningAlg == Algorithm) {
		return nil, fmt.Errorf("oidc: default signing algorithm %s is not one of %v", cfg.DefaultSigningAlg, cfg.SigningAlgorithms)
	}
	p.keys = &Keys{Store: cfg.Store, KEK: cfg.KEK, Now: cfg.Now, RotateEvery: cfg.KeyRotation,
		PublishAfterRetire: maxLife + 5*time.Minute, Log: cfg.Log, Algorithms: cfg.SigningAlgorithms, Default: cfg.DefaultSigningAlg}
	p.storage = &Storage{Store: cfg.Store, Graphs: cfg.Graphs, Keys: p.keys, Now: cfg.Now,
		LoginPath: p.prefix + ContinuePath, AuthRequestLifetime: 10 * time.Minute,
		AccessTokenLifetime: cfg.AccessTokenLifetime, IDTokenLifetime: cfg.IDTokenLifetime,
		RefreshTokenLifetime: cfg.RefreshTokenLifetime, OfflineTokenLifetime: cfg.OfflineTokenLifetime,
		Sessions: cfg.PlatformSessions}
	cryptoKey := sha256.Sum256(append([]byte("opsiam oidc crypto key\x00"), cfg.KEK[:]...))
	tc, err := newTokenCrypto(cryptoKey, "")
	if err != nil {
		return nil, err
	}
	opCfg := &op.Config{
		CryptoKey:                         cryptoKey,
		DefaultLogoutRedirectURI:          p.prefix + LoggedOutPath,
		CodeMethodS256:                    true,
		AuthMethodPost:                    true,
		GrantTypeRefreshToken:             true,
		SupportedUILocales:                []language.Tag{language.English, language.Japanese},
		BackChannelLogoutSupported:        true,
		BackChannelLogoutSessionSupported: true,
		SupportedClaims: []string{"sub", "aud", "exp", "iat", "iss", "auth_time", "nonce", "acr", "amr", "c_hash",
			"at_hash", "azp", "sid", "preferred_username", "name", "given_name", "family_name", "zoneinfo",
			"updated_at", "email", "email_verified", ClaimGroups, ClaimRoles, ClaimCustomer, ClaimITSMRole},
	}
	opts := []op.Option{op.WithCrypto(tc)}
	if insecure {
		opts = append(opts, op.WithAllowInsecure())
	}
	p.op, err = op.NewProvider(opCfg, p.storage, op.StaticIssuer(cfg.Issuer), opts...)
	if err != nil {
		return nil, fmt.Errorf("oidc provider: %w", err)
	}
	return p, nil
}

// Keys gives access to the signing keys (rotation, back-channel tokens).
func (p *Provider) Keys() *Keys { return p.keys }

// Storage is the op.Storage of the provider (for tests and benchmarks).
func (p *Provider) Storage() *Storage { return p.storage }

// Maintain creates or rotates the signing key and purges expired requests
// and tokens.
func (p *Provider) Maintain(ctx context.Context) error {
	if err := p.keys.Maintain(ctx); err != nil {
		return err
	}
	now := p.cfg.Now()
	return p.cfg.Store.PurgeOIDC(ctx, now, now.Add(-max(p.cfg.RefreshTokenLifetime, p.cfg.OfflineTokenLifetime)))
}

// Run calls Maintain every minute until ctx ends; errors are logged.
func (p *Provider) Run(ctx context.Context) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := p.Maintain(ctx); err != nil && !errors.Is(err, context.Canceled) {
				p.cfg.Log.Error("oidc maintenance", "err", err)
			}
		}
	}
}

// Mount registers the provider's endpoints under the issuer's path:
// discovery, authorize (+ callback), token, introspection, userinfo,
// revocation, JWKS, end_session, and the continue and logged-out pages.
func (p *Provider) Mount(mux *http.ServeMux) {
	// The memo is outermost, so that what the guards read (withClientAlg's
	// client) serves the library's own reads of the same request.
	lib := http.StripPrefix(p.prefix, p.op)
	h := withMemo(lib)
	mux.Handle(p.prefix+"/authorize", withMemo(p.guardAuthorize(lib)))
	for _, path := range []string{"/authorize/callback", "/keys"} {
		mux.Handle(p.prefix+path, h)
	}
	mux.Handle(p.prefix+"/revoke", withMemo(guardToken(p.answer(lib, false))))
	mux.Handle(p.prefix+"/oauth/token", withMemo(noStore(guardToken(p.withClientAlg(p.answer(lib, true))))))
	mux.Handle(p.prefix+"/oauth/introspect", withMemo(noStore(guardToken(p.answer(lib, false)))))
	mux.Handle(p.prefix+"/userinfo", withMemo(bearerChallenge(p.answer(lib, false))))
	issuer := op.NewIssuerInterceptor(p.op.IssuerFromRequest)
	mux.Handle("GET "+p.prefix+"/.well-known/openid-configuration", issuer.HandlerFunc(p.discovery))
	mux.Handle(p.prefix+"/end_session", issuer.HandlerFunc(p.endSession))
	mux.Handle("GET "+p.prefix+ContinuePath, withMemo(issuer.HandlerFunc(p.continueAuth)))
	mux.HandleFunc("GET "+p.prefix+LoggedOutPath, p.loggedOut)
}

// Backchannel returns the outbox target that delivers this provider's
// back-channel logout tokens; the lead registers it with the worker.
func (p *Provider) Backchannel(hc *http.Client) *Backchannel {
	return &Backchannel{Issuer: p.cfg.Issuer, Keys: p.keys, Clients: p.cfg.Store, HTTP: hc, Now: p.cfg.Now}
}

// SetStore replaces the store the provider writes through, such as the
// outbox worker's nudging store (provision.NudgeOnCommit), so that the
// back-channel logouts of a logout leave at once. Call it before serving.
func (p *Provider) SetStore(st store.Store) {
	p.cfg.Store = st
	p.storage.Store = st
}
