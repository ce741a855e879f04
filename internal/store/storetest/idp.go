package storetest

import (
	"context"
	"errors"
	"slices"
	"testing"

	"opsiam/internal/directory"
	"opsiam/internal/store"
)

func mustProvider(t *testing.T, s store.Store, p directory.IdentityProvider) directory.IdentityProvider {
	t.Helper()
	got, err := s.CreateIdentityProvider(context.Background(), p)
	if err != nil {
		t.Fatalf("create provider %s: %v", p.Name, err)
	}
	return got
}

func providerOf(name string, domains ...string) directory.IdentityProvider {
	return directory.IdentityProvider{Name: name, Type: "oidc", Issuer: "https://" + name + ".example", ClientID: "opsiam",
		Scopes: []string{"openid", "email"}, Domains: domains, Enabled: true}
}

func testIdentityProviders(t *testing.T, open Factory) {
	ctx := context.Background()
	t.Run("create get list update delete", func(t *testing.T) {
		s := open(t)
		c, err := s.CreateCustomer(ctx, directory.Customer{Code: "acme", Name: "Acme", State: directory.CustomerValid})
		if err != nil {
			t.Fatal(err)
		}
		r, err := s.CreateRole(ctx, directory.Role{Name: "Staff", Type: directory.RoleCustom})
		if err != nil {
			t.Fatal(err)
		}
		in := providerOf("acme", "acme.example", "acme-corp.example")
		in.CustomerID, in.RoleIDs, in.AutoCreate, in.Mandatory = c.ID, []directory.RoleID{r.ID}, true, true
		p := mustProvider(t, s, in)
		if p.ID == "" || p.Version != 1 || p.CreatedAt.IsZero() || p.CustomerID != c.ID || !p.AutoCreate || !p.Mandatory ||
			!slices.Equal(p.Domains, []string{"acme-corp.example", "acme.example"}) || !slices.Equal(p.RoleIDs, []directory.RoleID{r.ID}) ||
			!slices.Equal(p.Scopes, []string{"openid", "email"}) {
			t.Fatalf("created %+v", p)
		}
		if sec, err := s.IdentityProviderSecret(ctx, p.ID); err != nil || sec != "" {
			t.Fatalf("secret before set: %q %v", sec, err)
		}
		if err := s.SetIdentityProviderSecret(ctx, p.ID, "sealed:v1:x"); err != nil {
			t.Fatal(err)
		}
		if sec, err := s.IdentityProviderSecret(ctx, p.ID); err != nil || sec != "sealed:v1:x" {
			t.Fatalf("secret: %q %v", sec, err)
		}
		other := mustProvider(t, s, providerOf("beta", "beta.example"))
		list, err := s.ListIdentityProviders(ctx)
		if err != nil || len(list) != 2 || list[0].ID != p.ID || list[1].ID != other.ID || len(list[0].Domains) != 2 || len(list[1].RoleIDs) != 0 {
			t.Fatalf("list %+v %v", list, err)
		}
		// A domain belongs to at most one provider, on create and on update.
		var ce *store.ConflictError
		if _, err := s.CreateIdentityProvider(ctx, providerOf("gamma", "gamma.example", "acme.example")); !errors.As(err, &ce) || ce.Field != "domains" {
			t.Fatalf("second provider for a domain: %v", err)
		}
		if list, _ := s.ListIdentityProviders(ctx); len(list) != 2 {
			t.Fatalf("a refused create left %d providers", len(list))
		}
		o2 := other
		o2.Domains = []string{"beta.example", "acme.example"}
		if _, err := s.UpdateIdentityProvider(ctx, o2); !errors.As(err, &ce) || ce.Field != "domains" {
			t.Fatalf("update to a taken domain: %v", err)
		}
		if got, _ := s.GetIdentityProvider(ctx, other.ID); !slices.Equal(got.Domains, []string{"beta.example"}) || got.Version != 1 {
			t.Fatalf("a refused update changed %+v", got)
		}
		p.Name, p.Enabled, p.Domains, p.RoleIDs, p.CustomerID = "Acme Entra", false, []string{"acme.example"}, nil, ""
		upd, err := s.UpdateIdentityProvider(ctx, p)
		if err != nil || upd.Version != 2 || upd.Name != "Acme Entra" || upd.Enabled || len(upd.Domains) != 1 || len(upd.RoleIDs) != 0 || upd.CustomerID != "" {
			t.Fatalf("update %+v %v", upd, err)
		}
		if _, err := s.UpdateIdentityProvider(ctx, p); !errors.Is(err, store.ErrStale) {
			t.Fatalf("stale update: %v", err)
		}
		// The freed domain can be taken.
		o2.Domains = []string{"beta.example", "acme-corp.example"}
		if _, err := s.UpdateIdentityProvider(ctx, o2); err != nil {
			t.Fatalf("freed domain: %v", err)
		}
		if err := s.DeleteIdentityProvider(ctx, p.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.GetIdentityProvider(ctx, p.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("deleted: %v", err)
		}
		if err := s.DeleteIdentityProvider(ctx, p.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("second delete: %v", err)
		}
		q := p
		q.Version = 2
		if _, err := s.UpdateIdentityProvider(ctx, q); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("update of a deleted provider: %v", err)
		}
	})
	t.Run("unknown references", func(t *testing.T) {
		s := open(t)
		p := providerOf("acme", "acme.example")
		p.RoleIDs = []directory.RoleID{"nope"}
		var fe directory.FieldErrors
		if _, err := s.CreateIdentityProvider(ctx, p); !errors.As(err, &fe) || fe[0].Field != "role_ids" {
			t.Fatalf("unknown role: %v", err)
		}
		p.RoleIDs, p.CustomerID = nil, "nope"
		if _, err := s.CreateIdentityProvider(ctx, p); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown customer: %v", err)
		}
		if list, _ := s.ListIdentityProviders(ctx); len(list) != 0 {
			t.Fatalf("refused creates left %+v", list)
		}
	})
	t.Run("deleting a role drops it from providers", func(t *testing.T) {
		s := open(t)
		r, _ := s.CreateRole(ctx, directory.Role{Name: "Temp", Type: directory.RoleCustom})
		p := providerOf("acme", "acme.example")
		p.RoleIDs = []directory.RoleID{r.ID}
		p = mustProvider(t, s, p)
		if err := s.DeleteRole(ctx, r.ID); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.GetIdentityProvider(ctx, p.ID); len(got.RoleIDs) != 0 {
			t.Fatalf("roles %v", got.RoleIDs)
		}
	})
}

func testIdentities(t *testing.T, open Factory) {
	ctx := context.Background()
	s := open(t)
	alice, bob := mustUser(t, s, "alice"), mustUser(t, s, "bob")
	p := mustProvider(t, s, providerOf("acme", "acme.example"))
	q := mustProvider(t, s, providerOf("beta", "beta.example"))
	if _, err := s.GetIdentity(ctx, p.ID, "sub-1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("before link: %v", err)
	}
	got, err := s.LinkIdentity(ctx, directory.Identity{ProviderID: p.ID, Subject: "sub-1", UserID: alice.ID, Email: "alice@acme.example"})
	if err != nil || got.UserID != alice.ID || got.ProviderName != "acme" || got.CreatedAt.IsZero() || got.Email != "alice@acme.example" {
		t.Fatalf("link %+v %v", got, err)
	}
	var ce *store.ConflictError
	if _, err := s.LinkIdentity(ctx, directory.Identity{ProviderID: p.ID, Subject: "sub-1", UserID: bob.ID}); !errors.As(err, &ce) || ce.Field != "subject" {
		t.Fatalf("same subject twice: %v", err)
	}
	if _, err := s.LinkIdentity(ctx, directory.Identity{ProviderID: p.ID, Subject: "sub-2", UserID: alice.ID}); !errors.As(err, &ce) || ce.Field != "provider_id" {
		t.Fatalf("second link to one provider: %v", err)
	}
	if _, err := s.LinkIdentity(ctx, directory.Identity{ProviderID: "nope", Subject: "x", UserID: alice.ID}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown provider: %v", err)
	}
	if _, err := s.LinkIdentity(ctx, directory.Identity{ProviderID: q.ID, Subject: "sub-1", UserID: alice.ID}); err != nil {
		t.Fatalf("same subject at another provider: %v", err)
	}
	ids, err := s.UserIdentities(ctx, alice.ID)
	if err != nil || len(ids) != 2 || ids[0].ProviderID != p.ID || ids[1].ProviderName != "beta" {
		t.Fatalf("identities %+v %v", ids, err)
	}
	if ids, err := s.UserIdentities(ctx, bob.ID); err != nil || ids == nil || len(ids) != 0 {
		t.Fatalf("bob's identities %+v %v", ids, err)
	}
	if err := s.UnlinkIdentity(ctx, alice.ID, q.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.UnlinkIdentity(ctx, alice.ID, q.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second unlink: %v", err)
	}
	if err := s.UnlinkIdentity(ctx, bob.ID, p.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unlink another user's link: %v", err)
	}
	// Deleting the user keeps the link without a user: the upstream
	// account stays refused; a new link replaces it.
	if err := s.DeleteUser(ctx, alice.ID); err != nil {
		t.Fatal(err)
	}
	left, err := s.GetIdentity(ctx, p.ID, "sub-1")
	if err != nil || left.UserID != "" {
		t.Fatalf("link of a deleted user: %+v %v", left, err)
	}
	if _, err := s.LinkIdentity(ctx, directory.Identity{ProviderID: p.ID, Subject: "sub-1", UserID: bob.ID}); err != nil {
		t.Fatalf("relink after delete: %v", err)
	}
	// Deleting the provider deletes its links.
	if err := s.DeleteIdentityProvider(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	if ids, _ := s.UserIdentities(ctx, bob.ID); len(ids) != 0 {
		t.Fatalf("links of a deleted provider: %+v", ids)
	}
	// Inside a transaction the reads see the transaction's writes.
	err = s.InTx(ctx, func(tx store.Tx) error {
		if _, err := tx.LinkIdentity(ctx, directory.Identity{ProviderID: q.ID, Subject: "tx", UserID: bob.ID}); err != nil {
			return err
		}
		if ids, err := tx.UserIdentities(ctx, bob.ID); err != nil || len(ids) != 1 {
			t.Errorf("in tx: %+v %v", ids, err)
		}
		return errors.New("roll back")
	})
	if ids, _ := s.UserIdentities(ctx, bob.ID); len(ids) != 0 || err == nil {
		t.Fatalf("rolled back link stayed: %+v", ids)
	}
}
