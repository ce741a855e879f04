package directory

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func validProvider() IdentityProvider {
	return IdentityProvider{Name: "Acme Entra", Type: "oidc", Issuer: "https://login.acme.example/v2",
		ClientID: "opsiam", Scopes: []string{"openid", "email"}, Domains: []string{"acme.example"}, Enabled: true}
}

func TestValidateIdentityProvider(t *testing.T) {
	tests := []struct {
		name      string
		change    func(p *IdentityProvider, secret *string)
		allowHTTP bool
		field     string // "" : valid
	}{
		{"valid", func(*IdentityProvider, *string) {}, false, ""},
		{"no name", func(p *IdentityProvider, _ *string) { p.Name = "" }, false, "name"},
		{"name with NUL", func(p *IdentityProvider, _ *string) { p.Name = "a\x00b" }, false, "name"},
		{"name invalid UTF-8", func(p *IdentityProvider, _ *string) { p.Name = "a\xffb" }, false, "name"},
		{"other type", func(p *IdentityProvider, _ *string) { p.Type = "saml" }, false, "type"},
		{"http issuer", func(p *IdentityProvider, _ *string) { p.Issuer = "http://login.acme.example" }, true, "issuer"},
		{"loopback http refused without flag", func(p *IdentityProvider, _ *string) { p.Issuer = "http://127.0.0.1:9000" }, false, "issuer"},
		{"loopback http with flag", func(p *IdentityProvider, _ *string) { p.Issuer = "http://127.0.0.1:9000" }, true, ""},
		{"relative issuer", func(p *IdentityProvider, _ *string) { p.Issuer = "/issuer" }, false, "issuer"},
		{"issuer with query", func(p *IdentityProvider, _ *string) { p.Issuer = "https://a.example/?x=1" }, false, "issuer"},
		{"issuer with fragment", func(p *IdentityProvider, _ *string) { p.Issuer = "https://a.example/#x" }, false, "issuer"},
		{"issuer with user", func(p *IdentityProvider, _ *string) { p.Issuer = "https://u:p@a.example/" }, false, "issuer"},
		{"issuer javascript", func(p *IdentityProvider, _ *string) { p.Issuer = "javascript:alert(1)" }, false, "issuer"},
		{"issuer too long", func(p *IdentityProvider, _ *string) { p.Issuer = "https://a.example/" + strings.Repeat("a", 3000) }, false, "issuer"},
		{"no client id", func(p *IdentityProvider, _ *string) { p.ClientID = "" }, false, "client_id"},
		{"client id with space", func(p *IdentityProvider, _ *string) { p.ClientID = "a b" }, false, "client_id"},
		{"secret with NUL", func(_ *IdentityProvider, s *string) { *s = "a\x00" }, false, "client_secret"},
		{"secret too long", func(_ *IdentityProvider, s *string) { *s = strings.Repeat("s", 2000) }, false, "client_secret"},
		{"no openid scope", func(p *IdentityProvider, _ *string) { p.Scopes = []string{"email"} }, false, "scopes"},
		{"bad scope", func(p *IdentityProvider, _ *string) { p.Scopes = []string{"openid", "a b"} }, false, "scopes"},
		{"no domain", func(p *IdentityProvider, _ *string) { p.Domains = nil }, false, "domains"},
		{"single label", func(p *IdentityProvider, _ *string) { p.Domains = []string{"localhost"} }, false, "domains"},
		{"domain with underscore", func(p *IdentityProvider, _ *string) { p.Domains = []string{"a_b.example"} }, false, "domains"},
		{"domain hyphen edge", func(p *IdentityProvider, _ *string) { p.Domains = []string{"-a.example"} }, false, "domains"},
		{"unicode domain", func(p *IdentityProvider, _ *string) { p.Domains = []string{"bücher.example"} }, false, "domains"},
		{"punycode domain", func(p *IdentityProvider, _ *string) { p.Domains = []string{"xn--bcher-kva.example"} }, false, ""},
		{"bad role id", func(p *IdentityProvider, _ *string) { p.RoleIDs = []RoleID{"a\x00"} }, false, "role_ids"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, secret := validProvider(), "s3cret"
			tc.change(&p, &secret)
			NormalizeIdentityProvider(&p)
			errs := ValidateIdentityProvider(p, secret, tc.allowHTTP)
			switch {
			case tc.field == "" && len(errs) > 0:
				t.Fatalf("want valid, got %v", errs)
			case tc.field != "" && (len(errs) == 0 || errs[0].Field != tc.field):
				t.Fatalf("want an error on %s, got %v", tc.field, errs)
			}
			if strings.Contains(errs.Error(), "\x00") {
				t.Fatalf("message quotes a NUL: %q", errs.Error())
			}
		})
	}
}

func TestNormalizeIdentityProvider(t *testing.T) {
	p := IdentityProvider{Name: " A ", Domains: []string{"Acme.Example.", "acme.example"}, RoleIDs: []RoleID{"r", "r"}}
	NormalizeIdentityProvider(&p)
	if p.Name != "A" || p.Type != "oidc" || len(p.Domains) != 1 || p.Domains[0] != "acme.example" || len(p.RoleIDs) != 1 ||
		strings.Join(p.Scopes, " ") != "openid email profile" {
		t.Fatalf("%+v", p)
	}
}

func TestUpstreamAction(t *testing.T) {
	p := validProvider()
	p.CustomerID, p.AutoCreate = "acme", true
	claims := UpstreamClaims{Subject: "s1", Email: "Hana@ACME.example", EmailVerified: true}
	acmeUser := User{Username: "hana", Email: "hana@acme.example", Enabled: true, CustomerID: "acme"}
	other := acmeUser
	other.CustomerID = "globex"
	disabled := acmeUser
	disabled.Enabled = false
	admin := User{Username: "admin", Enabled: true}
	none := UpstreamCandidate{}
	found := func(u User) UpstreamCandidate { return UpstreamCandidate{User: u, Found: true} }
	tests := []struct {
		name        string
		p           func(p IdentityProvider) IdentityProvider
		c           func(c UpstreamClaims) UpstreamClaims
		linked      UpstreamCandidate
		deletedLink bool
		byMail      UpstreamCandidate
		want        string // "" : refused
	}{
		{"linked signs in", nil, nil, found(acmeUser), false, none, UpstreamSignIn},
		{"linked signs in even with unverified mail", nil, func(c UpstreamClaims) UpstreamClaims { c.EmailVerified = false; return c }, found(acmeUser), false, none, UpstreamSignIn},
		{"disabled provider", func(p IdentityProvider) IdentityProvider { p.Enabled = false; return p }, nil, found(acmeUser), false, none, ""},
		{"linked but disabled", nil, nil, found(disabled), false, none, ""},
		{"linked but moved to another customer", nil, nil, found(other), false, none, ""},
		{"link of a deleted user", nil, nil, none, true, none, ""},
		{"same mail links", nil, nil, none, false, found(acmeUser), UpstreamLink},
		{"unverified mail never links", nil, func(c UpstreamClaims) UpstreamClaims { c.EmailVerified = false; return c }, none, false, found(acmeUser), ""},
		{"unverified mail never creates", nil, func(c UpstreamClaims) UpstreamClaims { c.EmailVerified = false; return c }, none, false, none, ""},
		{"no mail", nil, func(c UpstreamClaims) UpstreamClaims { c.Email = ""; return c }, none, false, none, ""},
		{"foreign domain", nil, func(c UpstreamClaims) UpstreamClaims { c.Email = "x@globex.example"; return c }, none, false, none, ""},
		{"same mail of another customer", nil, nil, none, false, found(other), ""},
		{"same mail but disabled", nil, nil, none, false, found(disabled), ""},
		{"same mail is the admin", func(p IdentityProvider) IdentityProvider { p.CustomerID = ""; return p }, nil, none, false, found(admin), ""},
		{"creates", nil, nil, none, false, none, UpstreamCreate},
		{"no auto create", func(p IdentityProvider) IdentityProvider { p.AutoCreate = false; return p }, nil, none, false, none, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pp, cc := p, claims
			if tc.p != nil {
				pp = tc.p(pp)
			}
			if tc.c != nil {
				cc = tc.c(cc)
			}
			got, err := UpstreamAction(pp, cc, tc.linked, tc.deletedLink, tc.byMail)
			var ref *UpstreamRefusal
			if got != tc.want || (tc.want == "" && !errors.As(err, &ref)) {
				t.Fatalf("got %q %v, want %q", got, err, tc.want)
			}
		})
	}
}

func TestUpstreamUser(t *testing.T) {
	p := IdentityProvider{CustomerID: "acme"}
	u := UpstreamUser(p, UpstreamClaims{Email: "Ken+ops@Acme.Example", Name: "Ken Watanabe"}, "Asia/Tokyo")
	if u.Username != "ken_ops@acme.example" || u.Email != "ken+ops@acme.example" || u.FirstName != "Ken" || u.LastName != "Watanabe" ||
		u.CustomerID != "acme" || !u.EmailVerified || !u.Enabled {
		t.Fatalf("%+v", u)
	}
	if errs := ValidateUser(u); len(errs) > 0 {
		t.Fatal(errs)
	}
	u = UpstreamUser(p, UpstreamClaims{Email: "+x@acme.example", GivenName: "\x00"}, "UTC")
	if errs := ValidateUser(u); len(errs) > 0 {
		t.Fatalf("%+v: %v", u, errs)
	}
}

func TestPasswordSignInRefused(t *testing.T) {
	p := validProvider()
	p.CustomerID, p.Mandatory = "acme", true
	ps := []IdentityProvider{p}
	for _, tc := range []struct {
		u    User
		want bool
	}{
		{User{Username: "a", Email: "a@other.example", CustomerID: "acme"}, true},
		{User{Username: "b", Email: "b@acme.example"}, true},
		{User{Username: "c", Email: "c@other.example"}, false},
		{User{Username: "admin", Email: "admin@acme.example"}, false},
	} {
		if got := PasswordSignInRefused(ps, tc.u); got != tc.want {
			t.Errorf("%s: %v", tc.u.Username, got)
		}
	}
	ps[0].Enabled = false
	if PasswordSignInRefused(ps, User{Username: "a", CustomerID: "acme"}) {
		t.Error("a disabled provider is not mandatory")
	}
}

// FuzzIdentityProviderInput: validation never panics, never quotes a NUL
// byte or invalid UTF-8 back, and the user an upstream sign-in makes
// from any names gets names that pass the rules whenever its mail does.
func FuzzIdentityProviderInput(f *testing.F) {
	f.Add("Acme", "https://login.acme.example", "opsiam", "acme.example", "hana@acme.example", "Hana", "Sato")
	f.Add("\x00", "http://127.0.0.1:1/", "a b", "xn--bcher-kva.example", "+x@a.example", "\xff", "")
	f.Fuzz(func(t *testing.T, name, issuer, client, domain, email, given, family string) {
		p := IdentityProvider{Name: name, Issuer: issuer, ClientID: client, Domains: []string{domain}}
		NormalizeIdentityProvider(&p)
		errs := ValidateIdentityProvider(p, client, true)
		if msg := errs.Error(); strings.Contains(msg, "\x00") || !utf8.ValidString(msg) {
			t.Fatalf("message %q", msg)
		}
		u := UpstreamUser(p, UpstreamClaims{Email: email, GivenName: given, FamilyName: family}, "UTC")
		NormalizeUser(&u)
		for _, e := range ValidateUser(u) {
			if e.Field != "email" {
				t.Fatalf("%+v from %q %q %q: %v", u, email, given, family, e)
			}
		}
	})
}
