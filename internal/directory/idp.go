package directory

import (
	"net"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// IdentityProviderTypeOIDC is the only kind of upstream identity provider
// (issue 18): an OpenID Connect provider of a customer (Entra ID, Google,
// Okta, another opsiam).
const IdentityProviderTypeOIDC = "oidc"

// Limits of the identity provider fields (ours).
const (
	MaxProviderNameLen  = 128
	MaxClientIDLen      = 255
	MaxClientSecretLen  = 1024
	MaxScopes           = 20
	MaxScopeLen         = 64
	MaxProviderDomains  = 100
	MaxDomainLen        = 253
	MaxProviderRoleIDs  = 50
	MaxSubjectLen       = 255 // OIDC Core §2: sub is at most 255 ASCII characters
	DefaultProviderType = IdentityProviderTypeOIDC
)

// DefaultScopes are the scopes asked of a provider registered without any.
func DefaultScopes() []string { return []string{"openid", "email", "profile"} }

// IdentityProvider is a customer's own OpenID Connect provider (issue 18,
// SPEC §9): users whose mail domain is one of Domains sign in there. The
// client secret is not part of it: it is write-only and kept sealed by the
// store, so no read, view or audit record can carry it.
type IdentityProvider struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	Type     string   `json:"type"`
	Issuer   string   `json:"issuer"`
	ClientID string   `json:"client_id"`
	Scopes   []string `json:"scopes"`
	// CustomerID is the customer whose users the provider signs in and
	// creates; empty: platform staff (no customer).
	CustomerID CustomerID `json:"customer_id"`
	// Domains are lower-case mail domains sent to this provider; a domain
	// belongs to at most one provider.
	Domains    []string `json:"domains"`
	AutoCreate bool     `json:"auto_create"`
	RoleIDs    []RoleID `json:"role_ids"`
	Enabled    bool     `json:"enabled"`
	// Mandatory: the users of CustomerID, and those whose mail domain is
	// one of Domains, may not sign in with a local password.
	Mandatory bool      `json:"mandatory"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	Version   int64     `json:"version"`
}

// HasDomain reports whether domain (lower case) is one of p's.
func (p IdentityProvider) HasDomain(domain string) bool {
	return domain != "" && slices.Contains(p.Domains, domain)
}

// Identity links a user to its account at an upstream provider: the
// provider's id and the upstream subject (`sub`), unique per provider. A
// link whose user was deleted keeps its row with an empty UserID, so the
// upstream account stays refused instead of being created afresh.
type Identity struct {
	ProviderID   string    `json:"provider_id"`
	ProviderName string    `json:"provider_name"` // read only, from the provider
	Subject      string    `json:"subject"`
	UserID       UserID    `json:"user_id"`
	Email        string    `json:"email"` // the upstream mail address when linked
	CreatedAt    time.Time `json:"created_at"`
}

// NormalizeIdentityProvider trims the name, fills the type and scopes,
// lower-cases the domains and drops repeated domains, scopes and roles.
func NormalizeIdentityProvider(p *IdentityProvider) {
	p.Name = strings.TrimSpace(p.Name)
	if p.Type == "" {
		p.Type = DefaultProviderType
	}
	if len(p.Scopes) == 0 {
		p.Scopes = DefaultScopes()
	}
	p.Scopes = uniq(p.Scopes, func(s string) string { return s })
	for i, d := range p.Domains {
		p.Domains[i] = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(d)), ".")
	}
	p.Domains = uniq(p.Domains, func(s string) string { return s })
	p.RoleIDs = uniq(p.RoleIDs, func(r RoleID) RoleID { return r })
}

func uniq[T comparable](in []T, key func(T) T) []T {
	out := make([]T, 0, len(in))
	for _, v := range in {
		if !slices.Contains(out, key(v)) {
			out = append(out, key(v))
		}
	}
	return out
}

// ValidateIdentityProvider checks a normalised provider and its client
// secret (empty: none, a public client using PKCE only). The issuer must
// be https; http only on localhost or a loopback address, and only when
// allowHTTP (the server runs with --insecure-issuer, for development).
func ValidateIdentityProvider(p IdentityProvider, secret string, allowHTTP bool) FieldErrors {
	var errs FieldErrors
	textRule{field: "name", label: "Name", required: true, max: MaxProviderNameLen, trimmed: true}.check(&errs, p.Name)
	if p.Type != IdentityProviderTypeOIDC {
		errs.add("type", CodeInvalid, "Type must be %q.", IdentityProviderTypeOIDC)
	}
	checkIssuer(&errs, p.Issuer, allowHTTP)
	visible := func(c rune) bool { return c > ' ' && c < 0x7f }
	textRule{field: "client_id", label: "Client id", required: true, max: MaxClientIDLen,
		allowed: visible, allowedDesc: "visible ASCII characters (no spaces)"}.check(&errs, p.ClientID)
	textRule{field: "client_secret", label: "Client secret", max: MaxClientSecretLen,
		allowed: visible, allowedDesc: "visible ASCII characters (no spaces)", secret: true}.check(&errs, secret)
	checkScopes(&errs, p.Scopes)
	checkDomains(&errs, p.Domains)
	if len(p.RoleIDs) > MaxProviderRoleIDs {
		errs.add("role_ids", CodeTooLong, "Role ids may name at most %d roles.", MaxProviderRoleIDs)
	}
	for _, r := range p.RoleIDs {
		if r == "" || !utf8.ValidString(string(r)) || len(r) > 64 || strings.ContainsRune(string(r), 0) {
			errs.add("role_ids", CodeInvalid, "Role ids must be ids of existing roles.")
			break
		}
	}
	if len(p.CustomerID) > MaxCustomerCodeLen*2 || !utf8.ValidString(string(p.CustomerID)) || strings.ContainsRune(string(p.CustomerID), 0) {
		errs.add("customer_id", CodeInvalid, "Customer id must be the id of an existing customer.")
	}
	return errs
}

// checkIssuer accepts an absolute https URL without query, fragment or
// user information (OIDC Discovery §3), http only on loopback when allowed.
func checkIssuer(errs *FieldErrors, s string, allowHTTP bool) {
	if !(textRule{field: "issuer", label: "Issuer", required: true, max: MaxURLLen,
		allowed:     func(c rune) bool { return c > ' ' && c < 0x7f },
		allowedDesc: "visible ASCII characters (no spaces)"}).check(errs, s) {
		return
	}
	u, err := url.Parse(s)
	if err != nil || !u.IsAbs() || u.Hostname() == "" || u.Opaque != "" {
		errs.add("issuer", CodeInvalid, "Issuer must be an absolute https URL such as https://login.example.com.")
		return
	}
	if u.RawQuery != "" || u.Fragment != "" || strings.Contains(s, "#") || u.User != nil {
		errs.add("issuer", CodeInvalid, "Issuer must not have a query, a fragment or user information.")
		return
	}
	switch u.Scheme {
	case "https":
		return
	case "http":
		host := u.Hostname()
		if ip := net.ParseIP(host); allowHTTP && (host == "localhost" || (ip != nil && ip.IsLoopback())) {
			return
		}
		errs.add("issuer", CodeInvalid, "Issuer must use https (http is accepted only on localhost when the server runs with --insecure-issuer).")
		return
	}
	errs.add("issuer", CodeInvalid, "Issuer must use https.")
}

// checkScopes: at most MaxScopes scope tokens (RFC 6749 §3.3), openid among them.
func checkScopes(errs *FieldErrors, scopes []string) {
	if len(scopes) > MaxScopes {
		errs.add("scopes", CodeTooLong, "Scopes may list at most %d scopes.", MaxScopes)
		return
	}
	for _, s := range scopes {
		ok := s != "" && len(s) <= MaxScopeLen
		for _, c := range []byte(s) {
			if c <= ' ' || c == '"' || c == '\\' || c >= 0x7f {
				ok = false
			}
		}
		if !ok {
			errs.add("scopes", CodeInvalid, "Each scope must be 1 to %d visible ASCII characters without spaces, quotes or backslashes.", MaxScopeLen)
			return
		}
	}
	if !slices.Contains(scopes, "openid") {
		errs.add("scopes", CodeRequired, "Scopes must include openid.")
	}
}

// checkDomains: one to MaxProviderDomains DNS names of at least two labels.
func checkDomains(errs *FieldErrors, domains []string) {
	switch {
	case len(domains) == 0:
		errs.add("domains", CodeRequired, "Domains must name at least one mail domain, such as example.com.")
		return
	case len(domains) > MaxProviderDomains:
		errs.add("domains", CodeTooLong, "Domains may list at most %d domains.", MaxProviderDomains)
		return
	}
	for _, d := range domains {
		if !ValidDomain(d) {
			if !utf8.ValidString(d) || strings.ContainsRune(d, 0) || len(d) > MaxDomainLen {
				d = "(unprintable)"
			}
			errs.add("domains", CodeInvalid, "Domain %q is not a DNS name such as example.com (letters, digits and hyphens; an internationalised name in its xn-- form).", d)
			return
		}
	}
}

// ValidDomain reports whether d is a lower-case DNS name of at least two
// labels, each 1–63 characters of a–z, 0–9 and '-', not starting or ending
// with '-'.
func ValidDomain(d string) bool {
	if len(d) == 0 || len(d) > MaxDomainLen {
		return false
	}
	labels := strings.Split(d, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if len(l) == 0 || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, c := range []byte(l) {
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// MailDomain returns the lower-case domain of a mail address, or "" when
// s holds no '@'.
func MailDomain(s string) string {
	i := strings.LastIndexByte(s, '@')
	if i < 0 {
		return ""
	}
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(s[i+1:])), ".")
}

// ProviderForDomain returns the enabled provider that domain belongs to.
func ProviderForDomain(providers []IdentityProvider, domain string) (IdentityProvider, bool) {
	for _, p := range providers {
		if p.Enabled && p.HasDomain(domain) {
			return p, true
		}
	}
	return IdentityProvider{}, false
}

// PasswordSignInRefused decides the "mandatory" rule (issue 18): a user of
// the customer of an enabled, mandatory provider, or whose mail domain is
// one of its domains, may not sign in with a local password. The reserved
// admin is never refused, so that the platform can always be recovered.
func PasswordSignInRefused(providers []IdentityProvider, u User) bool {
	if u.IsReserved() {
		return false
	}
	domain := MailDomain(u.Email)
	for _, p := range providers {
		if p.Enabled && p.Mandatory && ((p.CustomerID != "" && p.CustomerID == u.CustomerID) || p.HasDomain(domain)) {
			return true
		}
	}
	return false
}

// MayLinkIdentity decides whether user u may be linked to provider p (by
// an administrator, or at a first upstream sign-in): never the reserved
// admin (the upstream would own it), and only a user of the provider's
// customer, so that one customer's provider never signs in another
// customer's user or platform staff (C2 separation).
func MayLinkIdentity(p IdentityProvider, u User) error {
	if u.IsReserved() {
		return fieldErr("user_id", CodeReserved, "User %q is reserved and cannot be linked to an identity provider.", AdminUsername)
	}
	if p.CustomerID != u.CustomerID {
		if p.CustomerID == "" {
			return fieldErr("provider_id", CodeNotAllowed, "Identity provider %q is for platform staff; user %q belongs to a customer.", p.Name, u.Username)
		}
		return fieldErr("provider_id", CodeNotAllowed, "Identity provider %q signs in the users of its customer only; user %q is not one of them.", p.Name, u.Username)
	}
	return nil
}
