package httpapi

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"time"

	"opsiam/internal/directory"
	"opsiam/internal/manage"
	"opsiam/internal/provision"
	"opsiam/internal/provision/gitlab"
	"opsiam/internal/provision/webhook"
	"opsiam/internal/webguard"
)

// Prefix is the path under which the API lives (SPEC §7).
const Prefix = "/api/v1"

// API is the REST API. Set the fields, then Mount it.
type API struct {
	Manage *manage.Service
	// Credentials authenticate requests, tried in order (platform tokens,
	// and session cookies once the sign-in code adds them).
	Credentials []Credential
	// Skills is the skills configuration (G7); nil refuses every skill.
	Skills *directory.SkillConfig
	// Outbox and Webhooks serve /outbox and /webhooks (P1, P3); nil answers 404.
	Outbox   *provision.Outbox
	Webhooks *webhook.Service
	// GitLab lists the Git members tab of a group (G2); nil when GitLab
	// provisioning is off, and the endpoint answers 404.
	GitLab *gitlab.Target
	// Clients serves /clients (S1); nil answers 404.
	Clients ClientManager
	// ServiceClients authenticates a service client by the bearer token it
	// presents on /access/* (C5, SPEC §9): ok false when the token is not
	// of its kind, an error wrapping ErrBadCredential for a bad one. Nil:
	// only users call the access API.
	ServiceClients func(ctx context.Context, bearer string) (clientID string, ok bool, err error)
	// BaseURL is the server's public URL (the issuer), for the redirect
	// URI an identity provider's view shows (issue 18).
	BaseURL string
	Log     *slog.Logger
	Now     func() time.Time

	crossOrigin *http.CrossOriginProtection
}

type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// route is one endpoint; the OpenAPI test compares the list with the document.
type route struct {
	method, path string
	h            handlerFunc
	public       bool // no authentication (the OpenAPI document)
	service      bool // service clients may call it (the access API, C5)
}

func (a *API) routes() []route {
	r := func(method, path string, h handlerFunc) route {
		return route{method: method, path: Prefix + path, h: h}
	}
	svc := func(rt route) route { rt.service = true; return rt }
	return []route{
		{method: "GET", path: Prefix + "/openapi.json", h: a.openAPI, public: true},

		r("GET", "/users", a.listUsers),
		r("POST", "/users", a.createUser),
		r("POST", "/users/bulk", a.bulkUsers),
		r("GET", "/users/{id}", a.getUser),
		r("PUT", "/users/{id}", a.updateUser),
		r("PATCH", "/users/{id}", a.updateUser),
		r("DELETE", "/users/{id}", a.deleteUser),
		r("GET", "/users/{id}/groups", a.userGroups),
		r("GET", "/users/{id}/roles", a.userRoles),
		r("POST", "/users/{id}/roles", a.assignUserRoles),
		r("DELETE", "/users/{id}/roles/{role_id}", a.unassignUserRole),
		r("GET", "/users/{id}/effective-roles", a.userEffectiveRoles),
		r("GET", "/users/{id}/roles/{role_id}/why", a.userWhy),
		r("GET", "/users/{id}/token", a.getToken),
		r("POST", "/users/{id}/token", a.issueToken),
		r("DELETE", "/users/{id}/token", a.revokeToken),
		r("POST", "/users/{id}/unlock", a.unlockUser),
		r("GET", "/users/{id}/passkeys", a.listPasskeys),
		r("DELETE", "/users/{id}/passkeys/{pid}", a.removePasskey),
		r("POST", "/users/{id}/password-reset", a.passwordReset),
		r("GET", "/users/{id}/identities", a.userIdentities),
		r("POST", "/users/{id}/identities", a.linkIdentity),
		r("DELETE", "/users/{id}/identities/{provider_id}", a.unlinkIdentity),

		r("GET", "/groups", a.listGroups),
		r("POST", "/groups", a.createGroup),
		r("GET", "/groups/{id}", a.getGroup),
		r("PUT", "/groups/{id}", a.updateGroup),
		r("PATCH", "/groups/{id}", a.updateGroup),
		r("DELETE", "/groups/{id}", a.deleteGroup),
		r("GET", "/groups/{id}/members", a.groupMembers),
		r("POST", "/groups/{id}/members", a.addMembers),
		r("DELETE", "/groups/{id}/members/{user_id}", a.removeMember),
		r("GET", "/groups/{id}/roles", a.groupRoles),
		r("POST", "/groups/{id}/roles", a.assignGroupRoles),
		r("DELETE", "/groups/{id}/roles/{role_id}", a.unassignGroupRole),
		r("GET", "/groups/{id}/relations", a.groupRelations),
		r("POST", "/groups/{id}/relations", a.setRelation),
		r("DELETE", "/groups/{id}/relations/{group_id}", a.removeRelation),
		r("GET", "/groups/{id}/effective-roles", a.groupEffectiveRoles),
		r("GET", "/groups/{id}/git-members", a.groupGitMembers),

		r("GET", "/roles", a.listRoles),
		r("POST", "/roles", a.createRole),
		r("GET", "/roles/{id}", a.getRole),
		r("PUT", "/roles/{id}", a.updateRole),
		r("PATCH", "/roles/{id}", a.updateRole),
		r("DELETE", "/roles/{id}", a.deleteRole),
		r("GET", "/roles/{id}/contains", a.roleContains),
		r("POST", "/roles/{id}/contains", a.addContains),
		r("DELETE", "/roles/{id}/contains/{role_id}", a.removeContains),
		r("GET", "/roles/{id}/users", a.roleUsers),
		r("GET", "/roles/{id}/groups", a.roleGroups),

		r("GET", "/customers", a.listCustomers),
		r("POST", "/customers", a.createCustomer),
		r("GET", "/customers/{id}", a.getCustomer),
		r("PUT", "/customers/{id}", a.updateCustomer),
		r("PATCH", "/customers/{id}", a.updateCustomer),

		r("GET", "/billing", a.billing),
		r("GET", "/billing/report", a.billingReport),
		r("GET", "/audit", a.listAudit),

		r("GET", "/outbox", a.listOutbox),
		r("GET", "/outbox/{id}", a.getDelivery),
		r("POST", "/outbox/{id}/replay", a.replayDelivery),
		r("POST", "/outbox/{id}/discard", a.discardDelivery),
		r("GET", "/clients", a.listClients),
		r("POST", "/clients", a.createClient),
		r("GET", "/clients/{id}", a.getClient),
		r("PUT", "/clients/{id}", a.updateClient),
		r("PATCH", "/clients/{id}", a.updateClient),
		r("DELETE", "/clients/{id}", a.deleteClient),
		r("POST", "/clients/{id}/secret", a.rotateClientSecret),

		r("GET", "/identity-providers", a.listIdentityProviders),
		r("POST", "/identity-providers", a.createIdentityProvider),
		r("GET", "/identity-providers/{id}", a.getIdentityProvider),
		r("PUT", "/identity-providers/{id}", a.updateIdentityProvider),
		r("PATCH", "/identity-providers/{id}", a.updateIdentityProvider),
		r("DELETE", "/identity-providers/{id}", a.deleteIdentityProvider),

		r("GET", "/webhooks", a.listWebhooks),
		r("POST", "/webhooks", a.createWebhook),
		r("GET", "/webhooks/{id}", a.getWebhook),
		r("PUT", "/webhooks/{id}", a.updateWebhook),
		r("PATCH", "/webhooks/{id}", a.updateWebhook),
		r("DELETE", "/webhooks/{id}", a.deleteWebhook),
		r("POST", "/webhooks/{id}/secret", a.rotateWebhookSecret),

		svc(r("POST", "/access/check", a.accessCheck)),
		svc(r("GET", "/access/scope", a.accessScope)),
		svc(r("GET", "/access/resources", a.accessResources)),
		svc(r("GET", "/access/skills", a.accessSkills)),
		svc(r("POST", "/access/skills/check", a.accessSkillCheck)),
	}
}

// Mount registers every endpoint on mux, plus a problem-document 404 for
// unknown paths under Prefix.
func (a *API) Mount(mux *http.ServeMux) {
	a.crossOrigin = http.NewCrossOriginProtection()
	for _, rt := range a.routes() {
		h := a.wrap(rt)
		if !rt.public { // the OpenAPI document reads no input
			h = webguard.Handler(h)
		}
		mux.Handle(rt.method+" "+rt.path, h)
	}
	mux.Handle(Prefix+"/", webguard.Handler(a.wrap(route{h: func(http.ResponseWriter, *http.Request) error {
		return &httpError{Status: http.StatusNotFound, Title: "not found", Detail: "No such endpoint."}
	}, public: true})))
}

// wrap authenticates (unless public), runs the handler and answers its
// error as a problem document. A panic becomes a 500 too.
func (a *API) wrap(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reqID := newRequestID()
		w.Header().Set("X-Request-Id", reqID)
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				a.logger().ErrorContext(r.Context(), "handler panicked", "request_id", reqID, "panic", v)
				a.writeProblem(w, r, reqID, &httpError{Status: http.StatusInternalServerError, Title: "internal error",
					Detail: "The server failed; quote the request id when reporting this."})
			}
		}()
		var err error
		if !rt.public {
			r, err = a.authenticate(r, rt.service)
		}
		if err == nil {
			err = rt.h(w, r)
		}
		if err != nil {
			a.writeProblem(w, r, reqID, err)
		}
	})
}

// actor is the caller of the use cases: the authenticated user with its
// effective roles and customer, and the client address (issue 13).
func actor(r *http.Request) manage.Caller {
	var a manage.Caller
	p := principal(r)
	if p != nil {
		a = p.caller()
	}
	a.Source = r.RemoteAddr
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		a.Source = host
	}
	if p != nil && p.Service != "" {
		a.ID, a.Username, a.Service = directory.UserID("client:"+p.Service), p.Service, p.Service
	}
	return a
}
