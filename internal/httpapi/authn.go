package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"opsiam/internal/auth"
	"opsiam/internal/directory"
	"opsiam/internal/manage"
	"opsiam/internal/store"
)

// Authenticator finds the user a request speaks for. It returns ok=false
// and no error when the request carries no credential of its kind, and an
// error when it carries a bad one (wrap auth.ErrBadToken or ErrBadCredential
// for a 401; any other error is a 500).
type Authenticator func(r *http.Request) (id directory.UserID, ok bool, err error)

// ErrBadCredential tells the middleware that a presented credential is
// invalid (401), for authenticators other than the platform token.
var ErrBadCredential = errors.New("invalid credential")

// Credential is one way to authenticate. Cookie marks credentials a browser
// sends by itself (session cookies): unsafe requests authenticated by them
// must also pass CSRF protection (http.CrossOriginProtection).
type Credential struct {
	Name         string
	Authenticate Authenticator
	Cookie       bool
}

// PlatformTokenName is the Name of the PlatformToken credential.
const PlatformTokenName = "platform_token"

// PlatformToken is the Credential of platform tokens (A6): the token in
// "Authorization: Bearer TOKEN" or, for clients of the product we replace,
// in "X-OpsI-Token: TOKEN".
func PlatformToken(t auth.PlatformTokens) Credential {
	return Credential{Name: PlatformTokenName, Authenticate: func(r *http.Request) (directory.UserID, bool, error) {
		text := ""
		if h := r.Header.Get("Authorization"); h != "" {
			scheme, rest, _ := strings.Cut(h, " ")
			if !strings.EqualFold(scheme, "Bearer") {
				return "", false, nil // another scheme: not ours
			}
			text = strings.TrimSpace(rest)
		} else if h := r.Header.Get("X-OpsI-Token"); h != "" {
			text = strings.TrimSpace(h)
		} else {
			return "", false, nil
		}
		id, err := t.Authenticate(r.Context(), text)
		if err != nil {
			return "", false, err
		}
		return id, true, nil
	}}
}

// Principal is the authenticated caller of one request, with its effective
// roles computed once (R5). A service client (C5) has no user and no
// roles: Service holds its client_id, and it may use the access API only.
type Principal struct {
	User    directory.User
	Roles   directory.RoleSet
	Service string
}

// Can reports whether the caller's effective roles permit p.
func (p *Principal) Can(perm directory.Permission) bool { return p.caller().Can(perm) }

type principalKey struct{}

// PrincipalFrom returns the caller of an authenticated request.
func PrincipalFrom(ctx context.Context) (*Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(*Principal)
	return p, ok
}

func principal(r *http.Request) *Principal {
	p, _ := PrincipalFrom(r.Context())
	return p
}

// bearerToken is the token of an "Authorization: Bearer" header, or "".
func bearerToken(r *http.Request) string {
	scheme, rest, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(rest)
}

// authenticate runs the credentials in order, loads the user, refuses a
// disabled or deleted one at once (U7) and computes its effective roles.
// On a route of the access API (service) a service client's own token is
// tried first.
func (a *API) authenticate(r *http.Request, service bool) (*http.Request, error) {
	if tok := bearerToken(r); service && a.ServiceClients != nil && tok != "" {
		id, ok, err := a.ServiceClients(r.Context(), tok)
		switch {
		case errors.Is(err, ErrBadCredential):
			return r, errUnauthenticated
		case err != nil:
			return r, err
		case ok:
			p := &Principal{Service: id}
			return r.WithContext(context.WithValue(r.Context(), principalKey{}, p)), nil
		}
	}
	for _, c := range a.Credentials {
		id, ok, err := c.Authenticate(r)
		switch {
		case errors.Is(err, auth.ErrBadToken), errors.Is(err, ErrBadCredential):
			return r, errUnauthenticated
		case err != nil:
			return r, err
		case !ok:
			continue
		}
		if c.Cookie {
			if err := a.crossOrigin.Check(r); err != nil {
				return r, &httpError{Status: http.StatusForbidden, Title: "cross-origin request refused",
					Detail: "Cross-origin requests authenticated by a cookie are refused.", Cause: err}
			}
		}
		u, err := a.Manage.Store.GetUser(r.Context(), directory.Scope{}, id)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return r, errUnauthenticated
		case err != nil:
			return r, err
		case !u.Enabled:
			return r, errUnauthenticated
		}
		roles, err := a.Manage.EffectiveRoles(r.Context(), u.ID)
		if err != nil {
			return r, err
		}
		p := &Principal{User: u, Roles: roles}
		return r.WithContext(context.WithValue(r.Context(), principalKey{}, p)), nil
	}
	return r, errUnauthenticated
}

// ErrUnauthenticated is the error of a request without a valid credential.
var ErrUnauthenticated error = errUnauthenticated

// PlatformCaller authenticates r by its platform token alone (no session
// cookie, no service client) and returns its caller, for adapters outside
// the REST API such as SCIM; an error that is ErrUnauthenticated for a
// missing or bad token.
func (a *API) PlatformCaller(r *http.Request) (manage.Caller, error) {
	only := &API{Manage: a.Manage}
	for _, c := range a.Credentials {
		if c.Name == PlatformTokenName {
			only.Credentials = append(only.Credentials, c)
		}
	}
	r, err := only.authenticate(r, false)
	if err != nil {
		return manage.Caller{}, err
	}
	return actor(r), nil
}
