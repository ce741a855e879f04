package oidc

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"opsiam/internal/directory"
	"opsiam/internal/store"
)

// ClientInput is a client as an administrator registers it (SPEC §7
// /api/v1/clients). An empty ClientID is generated; empty GrantTypes mean
// authorization_code and refresh_token.
type ClientInput struct {
	ClientID               string   `json:"client_id"`
	Name                   string   `json:"name"`
	RedirectURIs           []string `json:"redirect_uris"`
	PostLogoutRedirectURIs []string `json:"post_logout_redirect_uris"`
	BackchannelLogoutURI   string   `json:"backchannel_logout_uri"`
	Public                 bool     `json:"public"`
	GrantTypes             []string `json:"grant_types"`
	ITSM                   bool     `json:"itsm"`
	// AccessRoles is the client's access rule: a user must effectively
	// hold one of these roles (by name) to sign in to it; empty: everyone.
	AccessRoles []string `json:"access_roles"`
	// Claims names which of groups, roles and customer the client receives
	// (S2); omitted: all three; an empty list: none of them.
	Claims []string `json:"claims"`
	// AccessAPI makes a client_credentials client a service client that
	// may call /api/v1/access/* with its own access token (C5).
	AccessAPI bool `json:"access_api"`
	// ResourceServer lets the client introspect tokens issued to other
	// clients (RFC 7662 §4); others learn only of tokens meant for them.
	ResourceServer bool `json:"resource_server"`
	// IDTokenAlg (id_token_signed_response_alg, RFC 7591) is RS256, ES256
	// or EdDSA; empty: the server's default.
	IDTokenAlg string `json:"id_token_signed_response_alg"`
}

// OptionalClaims are the claims a client may choose (ClientInput.Claims).
func OptionalClaims() []string { return []string{ClaimGroups, ClaimRoles, ClaimCustomer} }

// Actor is who changes clients, for the audit record (O1).
type Actor struct {
	ID, Name, Source string
}

// ClientService registers relying parties (S1): the use case behind the
// clients API and the `opsiam client` command. Each change is one
// transaction with its audit record (P3). It lives beside the provider
// because both must agree on how secrets are hashed.
type ClientService struct {
	Store store.Store
	Now   func() time.Time
}

// prepare fills in the defaults of in and validates it.
func prepare(in *ClientInput) error {
	if len(in.GrantTypes) == 0 {
		in.GrantTypes = []string{GrantAuthorizationCode, GrantRefreshToken}
	}
	if in.Claims == nil {
		in.Claims = OptionalClaims()
	}
	return ValidateClient(*in)
}

// record is the stored form of in, without secret and access rule.
func record(in ClientInput) store.OIDCClient {
	return store.OIDCClient{ID: in.ClientID, Name: strings.TrimSpace(in.Name), RedirectURIs: in.RedirectURIs,
		PostLogoutRedirectURIs: in.PostLogoutRedirectURIs, BackchannelLogoutURI: in.BackchannelLogoutURI,
		Public: in.Public, GrantTypes: in.GrantTypes, ITSM: in.ITSM, Claims: in.Claims, AccessAPI: in.AccessAPI,
		ResourceServer: in.ResourceServer, IDTokenAlg: in.IDTokenAlg}
}

// resolveRoles checks that the access rule names existing roles and returns
// the roles' own names.
func resolveRoles(ctx context.Context, tx store.Tx, names []string) ([]string, error) {
	var errs directory.FieldErrors
	out := []string{}
	for _, name := range names {
		r, err := tx.GetRoleByName(ctx, name)
		if errors.Is(err, store.ErrNotFound) {
			errs = append(errs, directory.FieldError{Field: "access_roles", Code: directory.CodeInvalid,
				Message: fmt.Sprintf("Access rule: there is no role %q.", name)})
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, r.Name)
	}
	return out, errs.Err()
}

// Create validates in, stores the client and returns it with its secret,
// which is shown once and kept only as a hash (empty for a public client).
func (s *ClientService) Create(ctx context.Context, actor Actor, in ClientInput) (store.OIDCClient, string, error) {
	if in.ClientID == "" {
		in.ClientID = newClientID()
	}
	if err := prepare(&in); err != nil {
		return store.OIDCClient{}, "", err
	}
	c := record(in)
	var secret string
	if !in.Public {
		var err error
		if secret, c.SecretHash, err = NewSecret(); err != nil {
			return store.OIDCClient{}, "", err
		}
	}
	err := s.Store.InTx(ctx, func(tx store.Tx) error {
		var err error
		if c.AccessRoles, err = resolveRoles(ctx, tx, in.AccessRoles); err != nil {
			return err
		}
		if c, err = tx.CreateOIDCClient(ctx, c); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, s.audit(actor, store.ActionOidcClientCreate, c.ID, nil, NewClientView(c)))
	})
	if err != nil {
		return store.OIDCClient{}, "", err
	}
	return c, secret, nil
}

// Update replaces the settings of client id with in (the client_id never
// changes). A client made confidential gets a new secret, returned once; a
// client made public loses its secret; otherwise the secret stays.
func (s *ClientService) Update(ctx context.Context, actor Actor, id string, in ClientInput) (store.OIDCClient, string, error) {
	if in.ClientID != "" && in.ClientID != id {
		return store.OIDCClient{}, "", directory.FieldErrors{{Field: "client_id", Code: directory.CodeImmutable,
			Message: "Client ID cannot be changed."}}
	}
	in.ClientID = id
	if err := prepare(&in); err != nil {
		return store.OIDCClient{}, "", err
	}
	var c store.OIDCClient
	var secret string
	err := s.Store.InTx(ctx, func(tx store.Tx) error {
		old, err := tx.GetOIDCClient(ctx, id)
		if err != nil {
			return err
		}
		c = record(in)
		if c.AccessRoles, err = resolveRoles(ctx, tx, in.AccessRoles); err != nil {
			return err
		}
		switch {
		case c.Public:
			c.SecretHash = ""
		case old.Public:
			if secret, c.SecretHash, err = NewSecret(); err != nil {
				return err
			}
		default:
			c.SecretHash = old.SecretHash
		}
		if c, err = tx.UpdateOIDCClient(ctx, c); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, s.audit(actor, store.ActionOidcClientUpdate, id, NewClientView(old), NewClientView(c)))
	})
	if err != nil {
		return store.OIDCClient{}, "", err
	}
	return c, secret, nil
}

// RotateSecret gives a confidential client a new secret, returned once; the
// old one stops working at once.
func (s *ClientService) RotateSecret(ctx context.Context, actor Actor, id string) (string, error) {
	var secret string
	err := s.Store.InTx(ctx, func(tx store.Tx) error {
		c, err := tx.GetOIDCClient(ctx, id)
		if err != nil {
			return err
		}
		if c.Public {
			return directory.FieldErrors{{Field: "public", Code: directory.CodeNotAllowed,
				Message: "A public client has no secret to rotate."}}
		}
		if secret, c.SecretHash, err = NewSecret(); err != nil {
			return err
		}
		if _, err := tx.UpdateOIDCClient(ctx, c); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, s.audit(actor, store.ActionOidcClientSecretRotate, id, nil, nil))
	})
	return secret, err
}

// Get returns one client.
func (s *ClientService) Get(ctx context.Context, id string) (store.OIDCClient, error) {
	return s.Store.GetOIDCClient(ctx, id)
}

// List returns every client.
func (s *ClientService) List(ctx context.Context) ([]store.OIDCClient, error) {
	return s.Store.ListOIDCClients(ctx)
}

// Delete removes a client with its requests, tokens and sign-ins.
func (s *ClientService) Delete(ctx context.Context, actor Actor, id string) error {
	return s.Store.InTx(ctx, func(tx store.Tx) error {
		c, err := tx.GetOIDCClient(ctx, id)
		if err != nil {
			return err
		}
		if err := tx.DeleteOIDCClient(ctx, id); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, s.audit(actor, store.ActionOidcClientDelete, id, NewClientView(c), nil))
	})
}

func (s *ClientService) audit(a Actor, action, id string, before, after any) store.AuditRecord {
	rec := store.AuditRecord{ActorID: a.ID, ActorName: a.Name, Source: a.Source, Action: action,
		TargetType: "oidc_client", TargetID: id}
	if s.Now != nil {
		rec.At = s.Now().UTC()
	}
	if before != nil {
		rec.Before, _ = json.Marshal(before)
	}
	if after != nil {
		rec.After, _ = json.Marshal(after)
	}
	return rec
}

// ClientView is the API form of a client (SPEC §7); never the secret.
type ClientView struct {
	ClientID               string    `json:"client_id"`
	Name                   string    `json:"name"`
	RedirectURIs           []string  `json:"redirect_uris"`
	PostLogoutRedirectURIs []string  `json:"post_logout_redirect_uris"`
	BackchannelLogoutURI   string    `json:"backchannel_logout_uri"`
	Public                 bool      `json:"public"`
	GrantTypes             []string  `json:"grant_types"`
	ITSM                   bool      `json:"itsm"`
	AccessRoles            []string  `json:"access_roles"`
	Claims                 []string  `json:"claims"`
	AccessAPI              bool      `json:"access_api"`
	ResourceServer         bool      `json:"resource_server"`
	IDTokenAlg             string    `json:"id_token_signed_response_alg"`
	CreatedAt              time.Time `json:"created_at"`
	UpdatedAt              time.Time `json:"updated_at"`
}

// NewClientView converts a stored client.
func NewClientView(c store.OIDCClient) ClientView {
	return ClientView{ClientID: c.ID, Name: c.Name, RedirectURIs: c.RedirectURIs,
		PostLogoutRedirectURIs: c.PostLogoutRedirectURIs, BackchannelLogoutURI: c.BackchannelLogoutURI,
		Public: c.Public, GrantTypes: c.GrantTypes, ITSM: c.ITSM, AccessRoles: c.AccessRoles, Claims: c.Claims,
		AccessAPI: c.AccessAPI, ResourceServer: c.ResourceServer, IDTokenAlg: c.IDTokenAlg, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
}

func newClientID() string {
	b := []byte(randomToken())
	return "c" + hex.EncodeToString(b[:8])
}

// ValidateClient checks a client registration and names every bad field
// (O2): client_id 1–64 characters of A–Z a–z 0–9 . _ -; name 1–128
// printable characters; redirect and logout URIs absolute, https, or http on
// localhost / a loopback address (development), without fragment; known
// grant types; a public client has no client_credentials grant.
func ValidateClient(in ClientInput) error {
	var errs directory.FieldErrors
	add := func(field, code, format string, args ...any) {
		errs = append(errs, directory.FieldError{Field: field, Code: code, Message: fmt.Sprintf(format, args...)})
	}
	switch {
	case in.ClientID == "":
		add("client_id", directory.CodeRequired, "Client ID is required.")
	case len(in.ClientID) > 64:
		add("client_id", directory.CodeTooLong, "Client ID may have at most 64 characters.")
	case strings.IndexFunc(in.ClientID, func(r rune) bool {
		return !(r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '.' || r == '_' || r == '-'))
	}) >= 0:
		add("client_id", directory.CodeInvalid, "Client ID may contain only A–Z, a–z, 0–9, '.', '_' and '-'.")
	}
	name := strings.TrimSpace(in.Name)
	switch {
	case name == "":
		add("name", directory.CodeRequired, "Name is required.")
	case utf8.RuneCountInString(name) > 128:
		add("name", directory.CodeTooLong, "Name may have at most 128 characters.")
	case strings.IndexFunc(name, func(r rune) bool { return !unicode.IsGraphic(r) }) >= 0:
		add("name", directory.CodeInvalid, "Name may contain only printable characters.")
	}
	known := []string{GrantAuthorizationCode, GrantRefreshToken, GrantClientCredentials}
	for _, g := range in.GrantTypes {
		if !slices.Contains(known, g) {
			add("grant_types", directory.CodeInvalid, "Grant type %q is not one of authorization_code, refresh_token, client_credentials.", g)
		}
	}
	code := slices.Contains(in.GrantTypes, GrantAuthorizationCode)
	if slices.Contains(in.GrantTypes, GrantRefreshToken) && !code {
		add("grant_types", directory.CodeInvalid, "Grant type refresh_token needs authorization_code.")
	}
	if in.Public && slices.Contains(in.GrantTypes, GrantClientCredentials) {
		add("grant_types", directory.CodeNotAllowed, "A public client has no secret and cannot use client_credentials.")
	}
	if code && len(in.RedirectURIs) == 0 {
		add("redirect_uris", directory.CodeRequired, "At least one redirect URI is required for the authorization_code grant.")
	}
	for _, cl := range in.Claims {
		if !slices.Contains(OptionalClaims(), cl) {
			add("claims", directory.CodeInvalid, "Claim %q is not one of groups, roles, customer.", cl)
		}
	}
	if in.AccessAPI && !slices.Contains(in.GrantTypes, GrantClientCredentials) {
		add("access_api", directory.CodeInvalid, "Only a client with the client_credentials grant can call the access API (access_api).")
	}
	if in.IDTokenAlg != "" && !ValidAlgorithm(in.IDTokenAlg) {
		add("id_token_signed_response_alg", directory.CodeInvalid, "id_token_signed_response_alg %q is not one of RS256, ES256, EdDSA.", in.IDTokenAlg)
	}
	if in.ResourceServer && in.Public {
		add("resource_server", directory.CodeNotAllowed, "A public client has no secret and cannot introspect tokens.")
	}
	if in.ITSM && !code {
		add("itsm", directory.CodeInvalid, "The ITSM client signs users in and needs the authorization_code grant.")
	}
	for _, u := range in.RedirectURIs {
		if msg := checkURI(u); msg != "" {
			add("redirect_uris", directory.CodeInvalid, "Redirect URI %q: %s", u, msg)
		}
	}
	for _, u := range in.PostLogoutRedirectURIs {
		if msg := checkURI(u); msg != "" {
			add("post_logout_redirect_uris", directory.CodeInvalid, "Post-logout redirect URI %q: %s", u, msg)
		}
	}
	if in.BackchannelLogoutURI != "" {
		if msg := checkURI(in.BackchannelLogoutURI); msg != "" {
			add("backchannel_logout_uri", directory.CodeInvalid, "Back-channel logout URI %q: %s", in.BackchannelLogoutURI, msg)
		}
	}
	return errs.Err()
}

// checkURI returns why u is not an acceptable client URI, or "".
func checkURI(raw string) string {
	if len(raw) > 2000 {
		return "too long (at most 2000 characters)."
	}
	if strings.TrimSpace(raw) != raw {
		return "must not begin or end with spaces."
	}
	if strings.ContainsAny(raw, "*") {
		return "must not contain '*': wildcards are not supported, register each URI."
	}
	if strings.IndexFunc(raw, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0 {
		return "must not contain spaces or control characters."
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return "must be an absolute URL."
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return "must not have a fragment."
	}
	switch u.Scheme {
	case "https":
		return ""
	case "http":
		host := u.Hostname()
		if ip := net.ParseIP(host); host == "localhost" || (ip != nil && ip.IsLoopback()) {
			return ""
		}
		return "http is allowed only for localhost or 127.0.0.1 (development); use https."
	}
	return "must use https."
}
