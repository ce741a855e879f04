package oidc

import (
	"net/http"
	"slices"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// Supported features, as discovery advertises them (issue 12, defect 6):
// exactly what works, and docs/architecture.md lists the same.
var (
	supportedScopes        = []string{oidc.ScopeOpenID, oidc.ScopeProfile, oidc.ScopeEmail, oidc.ScopeOfflineAccess}
	supportedGrantTypes    = []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken, oidc.GrantTypeClientCredentials}
	supportedResponseTypes = []string{string(oidc.ResponseTypeCode)}
	supportedResponseModes = []string{string(oidc.ResponseModeQuery)}
	supportedAuthMethods   = []oidc.AuthMethod{oidc.AuthMethodBasic, oidc.AuthMethodPost, oidc.AuthMethodNone}
)

// discovery serves /.well-known/openid-configuration: the library's
// document without what opsiam does not offer (device authorization,
// implicit and JWT-bearer grants, id_token response types, request
// objects, the phone and address scopes, session iframes).
func (p *Provider) discovery(w http.ResponseWriter, r *http.Request) {
	d := op.CreateDiscoveryConfig(r.Context(), p.op, p.storage)
	d.DeviceAuthorizationEndpoint = ""
	d.CheckSessionIframe = ""
	d.ScopesSupported = supportedScopes
	d.GrantTypesSupported = supportedGrantTypes
	d.ResponseTypesSupported = supportedResponseTypes
	d.ResponseModesSupported = supportedResponseModes
	d.TokenEndpointAuthMethodsSupported = supportedAuthMethods
	d.TokenEndpointAuthSigningAlgValuesSupported = nil
	d.RevocationEndpointAuthMethodsSupported = supportedAuthMethods
	d.RevocationEndpointAuthSigningAlgValuesSupported = nil
	d.IntrospectionEndpointAuthMethodsSupported = []oidc.AuthMethod{oidc.AuthMethodBasic, oidc.AuthMethodPost}
	d.IntrospectionEndpointAuthSigningAlgValuesSupported = nil
	d.RequestObjectSigningAlgValuesSupported = nil
	d.RequestParameterSupported = false
	d.RequestURIParameterSupported = false
	d.ACRValuesSupported = []string{ACRSingleFactor, ACRMultiFactor}
	d.ClaimsSupported = slices.DeleteFunc(d.ClaimsSupported, func(c string) bool { return c == "c_hash" })
	w.Header().Set("Cache-Control", "public, max-age=300")
	op.Discover(w, d)
}
