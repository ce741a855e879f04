package manage_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"opsiam/internal/directory"
	"opsiam/internal/manage"
	"opsiam/internal/seal"
	"opsiam/internal/store"
)

// idpFixture is a fixture with two customers, a Service that seals
// provider secrets, and callers of every trust level.
type idpFixture struct {
	*fixture
	acme, globex        directory.Customer
	sysAdmin, viewer    manage.Caller
	acmeMgr, globexUser manage.Caller
	customerUserRole    directory.Role
}

func eachIdP(t *testing.T, fn func(t *testing.T, f *idpFixture)) {
	eachFixture(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		box, err := seal.New([32]byte{7}, "test idp")
		if err != nil {
			t.Fatal(err)
		}
		f.svc.IdPSecrets = box
		x := &idpFixture{fixture: f}
		for _, c := range []*directory.Customer{&x.acme, &x.globex} {
			code := "acme"
			if c == &x.globex {
				code = "globex"
			}
			if *c, err = f.svc.CreateCustomer(ctx, f.actor, directory.Customer{Code: code, Name: code, State: directory.CustomerValid}); err != nil {
				t.Fatal(err)
			}
		}
		mk := func(name string, customer directory.CustomerID, role string) manage.Caller {
			u := person(name)
			u.CustomerID = customer
			u, err := f.svc.CreateUser(ctx, f.actor, u)
			if err != nil {
				t.Fatal(err)
			}
			r, err := f.st.GetRoleByName(ctx, role)
			if err != nil {
				t.Fatal(err)
			}
			if err := f.svc.AssignUserRoles(ctx, f.actor, u.ID, []directory.RoleID{r.ID}); err != nil {
				t.Fatal(err)
			}
			c, err := f.svc.UserCaller(ctx, u, "test")
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		x.sysAdmin = mk("sysadmin", "", directory.RoleNameSystemAdmin)
		x.viewer = mk("viewer", "", directory.RoleNameManager)
		x.acmeMgr = mk("acme-mgr", x.acme.ID, directory.RoleNameCustomerManager)
		x.globexUser = mk("globex-user", x.globex.ID, directory.RoleNameCustomerUser)
		x.customerUserRole, _ = f.st.GetRoleByName(ctx, directory.RoleNameCustomerUser)
		fn(t, x)
	})
}

func ptr[T any](v T) *T { return &v }

func (f *idpFixture) acmeProvider() manage.ProviderPatch {
	return manage.ProviderPatch{Name: ptr("Acme Entra"), Issuer: ptr("https://login.acme.example"), ClientID: ptr("opsiam"),
		ClientSecret: ptr("upstream-secret"), CustomerID: ptr(f.acme.ID), Domains: ptr([]string{"Acme.Example"}),
		AutoCreate: ptr(true), RoleIDs: ptr([]directory.RoleID{f.customerUserRole.ID})}
}

func TestIdentityProviderUseCases(t *testing.T) {
	t.Parallel()
	eachIdP(t, func(t *testing.T, f *idpFixture) {
		ctx := context.Background()
		p, err := f.svc.CreateIdentityProvider(ctx, f.sysAdmin, f.acmeProvider())
		if err != nil {
			t.Fatal(err)
		}
		if !p.Enabled || p.Type != "oidc" || p.Domains[0] != "acme.example" || strings.Join(p.Scopes, " ") != "openid email profile" {
			t.Fatalf("created %+v", p)
		}
		// The secret is sealed at rest, bound to the provider, and opens.
		var stored string
		if err := f.raw.QueryRow(`SELECT client_secret FROM identity_providers WHERE id = $1`, p.ID).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(stored, seal.Prefix) || strings.Contains(stored, "upstream-secret") {
			t.Fatalf("stored secret %q", stored)
		}
		if got, err := f.svc.IdentityProviderSecret(ctx, p.ID); err != nil || got != "upstream-secret" {
			t.Fatalf("secret %q %v", got, err)
		}
		// The audit record never carries the secret.
		var after string
		if err := f.raw.QueryRow(`SELECT after FROM audit_log WHERE action = 'identity_provider.create'`).Scan(&after); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(after, "upstream-secret") || !strings.Contains(after, "acme.example") {
			t.Fatalf("audit %s", after)
		}

		// Least-trusted callers: a customer manager and a platform viewer
		// see nothing and change nothing; nothing is written.
		audits := f.countRows(t, "audit_log")
		for name, c := range map[string]manage.Caller{"customer manager": f.acmeMgr, "viewer": f.viewer, "customer user": f.globexUser, "nobody": {}} {
			if _, err := f.svc.CreateIdentityProvider(ctx, c, f.acmeProvider()); err == nil {
				t.Errorf("%s created a provider", name)
			}
			if _, err := f.svc.ListIdentityProviders(ctx, c); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("%s lists providers: %v", name, err)
			}
			if _, err := f.svc.UpdateIdentityProvider(ctx, c, p.ID, 0, manage.ProviderPatch{Enabled: ptr(false)}); err == nil {
				t.Errorf("%s updated a provider", name)
			}
			if err := f.svc.DeleteIdentityProvider(ctx, c, p.ID); err == nil {
				t.Errorf("%s deleted a provider", name)
			}
		}
		if n := f.countRows(t, "audit_log"); n != audits {
			t.Fatalf("refusals wrote %d audit records", n-audits)
		}

		// Bad input names the field, and nothing is half-written.
		for field, pp := range map[string]manage.ProviderPatch{
			"customer_id":   {CustomerID: ptr(directory.CustomerID("nope"))},
			"role_ids":      {RoleIDs: ptr([]directory.RoleID{"nope"})},
			"issuer":        {Issuer: ptr("http://login.acme.example")},
			"scopes":        {Scopes: ptr([]string{"email"})},
			"domains":       {Domains: ptr([]string{"not a domain"})},
			"client_secret": {ClientSecret: ptr("bad\x00secret")},
			"name":          {Name: ptr("\xff")},
		} {
			in := f.acmeProvider()
			in.Domains = ptr([]string{"other.example"})
			switch {
			case pp.CustomerID != nil:
				in.CustomerID = pp.CustomerID
			case pp.RoleIDs != nil:
				in.RoleIDs = pp.RoleIDs
			case pp.Issuer != nil:
				in.Issuer = pp.Issuer
			case pp.Scopes != nil:
				in.Scopes = pp.Scopes
			case pp.Domains != nil:
				in.Domains = pp.Domains
			case pp.ClientSecret != nil:
				in.ClientSecret = pp.ClientSecret
			case pp.Name != nil:
				in.Name = pp.Name
			}
			_, err := f.svc.CreateIdentityProvider(ctx, f.sysAdmin, in)
			var fe directory.FieldErrors
			if !errors.As(err, &fe) || fe[0].Field != field {
				t.Errorf("%s: %v", field, err)
			}
		}
		// A domain of another provider is a conflict on domains.
		in := f.acmeProvider()
		in.Name, in.CustomerID = ptr("Second"), ptr(f.globex.ID)
		var ce *store.ConflictError
		if _, err := f.svc.CreateIdentityProvider(ctx, f.sysAdmin, in); !errors.As(err, &ce) || ce.Field != "domains" {
			t.Fatalf("taken domain: %v", err)
		}
		// A customer role without a customer is C2.
		in = f.acmeProvider()
		in.Domains, in.CustomerID = ptr([]string{"staff.example"}), ptr(directory.CustomerID(""))
		wantField(t, func() error { _, err := f.svc.CreateIdentityProvider(ctx, f.sysAdmin, in); return err }(), "customer_id", directory.CodeRequired)
		// No escalation: a System Administrator cannot make a provider that gives token_admin.
		ssa, _ := f.st.GetRoleByName(ctx, directory.RoleNameSystemSecurityAdmin)
		in.RoleIDs = ptr([]directory.RoleID{ssa.ID})
		var ref *directory.Refusal
		if _, err := f.svc.CreateIdentityProvider(ctx, f.sysAdmin, in); !errors.As(err, &ref) {
			t.Fatalf("escalation: %v", err)
		}
		if list, _ := f.svc.ListIdentityProviders(ctx, f.sysAdmin); len(list) != 1 {
			t.Fatalf("refused creates left %d providers", len(list))
		}

		// Update keeps the secret unless given; a stale If-Match is refused.
		upd, err := f.svc.UpdateIdentityProvider(ctx, f.sysAdmin, p.ID, p.Version, manage.ProviderPatch{Enabled: ptr(false), Mandatory: ptr(true)})
		if err != nil || upd.Enabled || !upd.Mandatory || upd.Version != 2 {
			t.Fatalf("update %+v %v", upd, err)
		}
		if got, _ := f.svc.IdentityProviderSecret(ctx, p.ID); got != "upstream-secret" {
			t.Fatalf("update lost the secret: %q", got)
		}
		if _, err := f.svc.UpdateIdentityProvider(ctx, f.sysAdmin, p.ID, 1, manage.ProviderPatch{Enabled: ptr(true)}); !errors.Is(err, store.ErrStale) {
			t.Fatalf("stale: %v", err)
		}
		if _, ok, _ := f.svc.ProviderForLogin(ctx, "hana@acme.example"); ok {
			t.Fatal("a disabled provider is offered")
		}
		if _, err := f.svc.UpdateIdentityProvider(ctx, f.sysAdmin, p.ID, 0, manage.ProviderPatch{Enabled: ptr(true)}); err != nil {
			t.Fatal(err)
		}
		if got, ok, _ := f.svc.ProviderForLogin(ctx, "Hana@ACME.example"); !ok || got.ID != p.ID {
			t.Fatal("the provider of the domain is not found")
		}
		if _, ok, _ := f.svc.ProviderForLogin(ctx, "hana"); ok {
			t.Fatal("a user name went to a provider")
		}
		// Mandatory: acme's users may not use a password; others may.
		acmeUser, _ := f.st.GetUserByUsername(ctx, directory.Scope{}, "acme-mgr")
		if ok, err := f.svc.PasswordAllowed(ctx, acmeUser); ok || err != nil {
			t.Fatalf("mandatory provider allows a password: %v %v", ok, err)
		}
		if ok, _ := f.svc.PasswordAllowed(ctx, directory.User{Username: "x", Email: "x@globex.example"}); !ok {
			t.Fatal("a password is refused to another customer's user")
		}
		if err := f.svc.DeleteIdentityProvider(ctx, f.sysAdmin, p.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.GetIdentityProvider(ctx, f.sysAdmin, p.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("deleted: %v", err)
		}
	})
}

func TestIdentityLinks(t *testing.T) {
	t.Parallel()
	eachIdP(t, func(t *testing.T, f *idpFixture) {
		ctx := context.Background()
		p, err := f.svc.CreateIdentityProvider(ctx, f.sysAdmin, f.acmeProvider())
		if err != nil {
			t.Fatal(err)
		}
		acmeUser := person("hana")
		acmeUser.CustomerID = f.acme.ID
		hana, err := f.svc.CreateUser(ctx, f.actor, acmeUser)
		if err != nil {
			t.Fatal(err)
		}
		// The least-trusted callers cannot link: the customer manager of
		// hana's customer (403), of another customer's user (403/404).
		for name, c := range map[string]manage.Caller{"acme manager": f.acmeMgr, "viewer": f.viewer, "globex user": f.globexUser} {
			if _, err := f.svc.LinkIdentity(ctx, c, hana.ID, p.ID, "sub-1"); err == nil {
				t.Errorf("%s linked", name)
			}
		}
		// A provider of acme cannot be linked to a globex user, nor to admin;
		// acme's manager cannot link another customer's user either (404:
		// it may not even see it).
		globex, _ := f.st.GetUserByUsername(ctx, directory.Scope{}, "globex-user")
		if _, err := f.svc.LinkIdentity(ctx, f.acmeMgr, globex.ID, p.ID, "sub-g"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("acme's manager links a globex user: %v", err)
		}
		if ids, _ := f.st.UserIdentities(ctx, globex.ID); len(ids) != 0 {
			t.Fatalf("links written: %+v", ids)
		}
		wantField(t, func() error { _, err := f.svc.LinkIdentity(ctx, f.sysAdmin, globex.ID, p.ID, "sub-g"); return err }(), "provider_id", directory.CodeNotAllowed)
		admin, _ := f.st.GetUserByUsername(ctx, directory.Scope{}, "admin")
		if _, err := f.svc.LinkIdentity(ctx, f.actor, admin.ID, p.ID, "sub-a"); err == nil {
			t.Fatal("admin linked")
		}
		wantField(t, func() error { _, err := f.svc.LinkIdentity(ctx, f.sysAdmin, hana.ID, p.ID, "a b"); return err }(), "subject", directory.CodeInvalid)
		wantField(t, func() error { _, err := f.svc.LinkIdentity(ctx, f.sysAdmin, hana.ID, "nope", "s"); return err }(), "provider_id", directory.CodeInvalid)
		id, err := f.svc.LinkIdentity(ctx, f.sysAdmin, hana.ID, p.ID, "sub-1")
		if err != nil || id.ProviderName != "Acme Entra" {
			t.Fatalf("link %+v %v", id, err)
		}
		// Who may read hana may read its links: the acme manager yes, globex's user no.
		if ids, err := f.svc.UserIdentities(ctx, f.acmeMgr, hana.ID); err != nil || len(ids) != 1 {
			t.Fatalf("acme manager reads %+v %v", ids, err)
		}
		if _, err := f.svc.UserIdentities(ctx, f.globexUser, hana.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("globex user reads acme's links: %v", err)
		}
		if err := f.svc.UnlinkIdentity(ctx, f.acmeMgr, hana.ID, p.ID); err == nil {
			t.Fatal("customer manager unlinked")
		}
		if err := f.svc.UnlinkIdentity(ctx, f.sysAdmin, hana.ID, p.ID); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.UnlinkIdentity(ctx, f.sysAdmin, hana.ID, p.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("second unlink: %v", err)
		}
	})
}

func TestUpstreamSignIn(t *testing.T) {
	t.Parallel()
	eachIdP(t, func(t *testing.T, f *idpFixture) {
		ctx := context.Background()
		p, err := f.svc.CreateIdentityProvider(ctx, f.sysAdmin, f.acmeProvider())
		if err != nil {
			t.Fatal(err)
		}
		claims := directory.UpstreamClaims{Subject: "up-1", Email: "Ken@acme.example", EmailVerified: true, GivenName: "Ken", FamilyName: "Mori"}
		// Unverified mail creates nothing.
		users := f.countRows(t, "users")
		unverified := claims
		unverified.EmailVerified = false
		if _, err := f.svc.UpstreamSignIn(ctx, p.ID, unverified, "test"); !errors.Is(err, manage.ErrUpstreamRefused) {
			t.Fatalf("unverified: %v", err)
		}
		if f.countRows(t, "users") != users {
			t.Fatal("an unverified mail created a user")
		}
		// auto_create makes a user of acme with the provider's roles.
		topics := len(f.topics(t))
		u, err := f.svc.UpstreamSignIn(ctx, p.ID, claims, "test")
		if err != nil {
			t.Fatal(err)
		}
		if u.CustomerID != f.acme.ID || u.Email != "ken@acme.example" || !u.EmailVerified || u.FirstName != "Ken" {
			t.Fatalf("created %+v", u)
		}
		roles, _ := f.svc.EffectiveRoles(ctx, u.ID)
		if !roles.HasName(directory.RoleNameCustomerUser) {
			t.Fatal("the provider's role is missing")
		}
		if got := f.topics(t)[topics:]; strings.Join(got, " ") != "user.created" {
			t.Fatalf("events %v (no password-setup mail)", got)
		}
		// The same subject signs in as the same user, without a second create.
		again, err := f.svc.UpstreamSignIn(ctx, p.ID, claims, "test")
		if err != nil || again.ID != u.ID {
			t.Fatalf("again %+v %v", again, err)
		}
		// A disabled user stays refused whatever the upstream says.
		if _, err := f.svc.SetEnabled(ctx, f.actor, directory.Scope{}, u.ID, false); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.UpstreamSignIn(ctx, p.ID, claims, "test"); !errors.Is(err, manage.ErrUpstreamRefused) {
			t.Fatalf("disabled: %v", err)
		}
		// A deleted one too: it is not created again.
		if err := f.svc.DeleteUser(ctx, f.actor, directory.Scope{}, u.ID, 0); err != nil {
			t.Fatal(err)
		}
		users = f.countRows(t, "users")
		if _, err := f.svc.UpstreamSignIn(ctx, p.ID, claims, "test"); !errors.Is(err, manage.ErrUpstreamRefused) {
			t.Fatalf("deleted: %v", err)
		}
		if f.countRows(t, "users") != users {
			t.Fatal("a deleted user was created again")
		}
		// A local user of acme with the same verified mail is linked.
		local := person("aiko")
		local.Email, local.CustomerID = "aiko@acme.example", f.acme.ID
		aiko, err := f.svc.CreateUser(ctx, f.actor, local)
		if err != nil {
			t.Fatal(err)
		}
		got, err := f.svc.UpstreamSignIn(ctx, p.ID, directory.UpstreamClaims{Subject: "up-2", Email: "aiko@acme.example", EmailVerified: true}, "test")
		if err != nil || got.ID != aiko.ID {
			t.Fatalf("link by mail %+v %v", got, err)
		}
		// A local user of another customer with a mail of acme's domain is never linked.
		stranger := person("stranger")
		stranger.Email, stranger.CustomerID = "stranger@acme.example", f.globex.ID
		if _, err := f.svc.CreateUser(ctx, f.actor, stranger); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.UpstreamSignIn(ctx, p.ID, directory.UpstreamClaims{Subject: "up-3", Email: "stranger@acme.example", EmailVerified: true}, "test"); !errors.Is(err, manage.ErrUpstreamRefused) {
			t.Fatalf("other customer's user: %v", err)
		}
		// A mail of a domain that is not the provider's never links or creates.
		if _, err := f.svc.UpstreamSignIn(ctx, p.ID, directory.UpstreamClaims{Subject: "up-4", Email: "x@globex.example", EmailVerified: true}, "test"); !errors.Is(err, manage.ErrUpstreamRefused) {
			t.Fatalf("foreign domain: %v", err)
		}
		// A disabled provider refuses even a linked user.
		if _, err := f.svc.UpdateIdentityProvider(ctx, f.sysAdmin, p.ID, 0, manage.ProviderPatch{Enabled: ptr(false)}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.UpstreamSignIn(ctx, p.ID, directory.UpstreamClaims{Subject: "up-2", Email: "aiko@acme.example", EmailVerified: true}, "test"); !errors.Is(err, manage.ErrUpstreamRefused) {
			t.Fatalf("disabled provider: %v", err)
		}
		var n int
		f.raw.QueryRow(`SELECT count(*) FROM audit_log WHERE action = 'auth.upstream_refused'`).Scan(&n)
		if n != 6 {
			t.Fatalf("%d refusals audited, want 6", n)
		}
	})
}
