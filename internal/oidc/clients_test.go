package oidc

import (
	"context"
	"errors"
	"strings"
	"testing"

	"opsiam/internal/directory"
)

func TestValidateClient(t *testing.T) {
	ok := ClientInput{ClientID: "app", Name: "App", RedirectURIs: []string{"https://app.example/cb"},
		GrantTypes: []string{GrantAuthorizationCode, GrantRefreshToken}}
	tests := []struct {
		name  string
		edit  func(*ClientInput)
		field string // empty: valid
	}{
		{"valid", func(*ClientInput) {}, ""},
		{"localhost http for development", func(c *ClientInput) { c.RedirectURIs = []string{"http://localhost:3000/cb"} }, ""},
		{"loopback http", func(c *ClientInput) { c.RedirectURIs = []string{"http://127.0.0.1:8000/cb"} }, ""},
		{"plain http elsewhere", func(c *ClientInput) { c.RedirectURIs = []string{"http://app.example/cb"} }, "redirect_uris"},
		{"relative", func(c *ClientInput) { c.RedirectURIs = []string{"/cb"} }, "redirect_uris"},
		{"fragment", func(c *ClientInput) { c.RedirectURIs = []string{"https://app.example/cb#x"} }, "redirect_uris"},
		{"custom scheme", func(c *ClientInput) { c.RedirectURIs = []string{"myapp://cb"} }, "redirect_uris"},
		{"no redirect for code", func(c *ClientInput) { c.RedirectURIs = nil }, "redirect_uris"},
		{"bad post-logout", func(c *ClientInput) { c.PostLogoutRedirectURIs = []string{"ftp://x/"} }, "post_logout_redirect_uris"},
		{"bad back-channel", func(c *ClientInput) { c.BackchannelLogoutURI = "http://app.example/bcl" }, "backchannel_logout_uri"},
		{"no name", func(c *ClientInput) { c.Name = "  " }, "name"},
		{"long name", func(c *ClientInput) { c.Name = strings.Repeat("n", 129) }, "name"},
		{"control in name", func(c *ClientInput) { c.Name = "a\x00b" }, "name"},
		{"bad client_id", func(c *ClientInput) { c.ClientID = "app id" }, "client_id"},
		{"long client_id", func(c *ClientInput) { c.ClientID = strings.Repeat("a", 65) }, "client_id"},
		{"unknown grant", func(c *ClientInput) { c.GrantTypes = []string{"password"} }, "grant_types"},
		{"refresh without code", func(c *ClientInput) {
			c.GrantTypes = []string{GrantRefreshToken, GrantClientCredentials}
		}, "grant_types"},
		{"public with client_credentials", func(c *ClientInput) {
			c.Public = true
			c.GrantTypes = []string{GrantAuthorizationCode, GrantClientCredentials}
		}, "grant_types"},
		{"service client without redirects", func(c *ClientInput) {
			c.GrantTypes, c.RedirectURIs = []string{GrantClientCredentials}, nil
		}, ""},
		{"itsm without code", func(c *ClientInput) {
			c.GrantTypes, c.RedirectURIs, c.ITSM = []string{GrantClientCredentials}, nil, true
		}, "itsm"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := ok
			tc.edit(&in)
			err := ValidateClient(in)
			var fe directory.FieldErrors
			if tc.field == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if !errors.As(err, &fe) || len(fe) == 0 || fe[0].Field != tc.field || fe[0].Message == "" {
				t.Fatalf("got %v, want an error on %s", err, tc.field)
			}
		})
	}
}

func FuzzValidateClient(f *testing.F) {
	f.Add("app", "App", "https://app.example/cb")
	f.Add("", "", "http://[::1]:80/x?y#z")
	f.Fuzz(func(t *testing.T, id, name, uri string) {
		_ = ValidateClient(ClientInput{ClientID: id, Name: name, RedirectURIs: []string{uri}, GrantTypes: []string{GrantAuthorizationCode}})
	})
}

func TestClientUpdatePublicConfidential(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	in := ClientInput{ClientID: "spa", Name: "SPA", Public: true, RedirectURIs: []string{"http://localhost:5173/cb"}}
	if _, secret, err := e.clients.Create(ctx, Actor{}, in); err != nil || secret != "" {
		t.Fatalf("create public: %q %v", secret, err)
	}
	if _, err := e.clients.RotateSecret(ctx, Actor{}, "spa"); err == nil {
		t.Fatal("a public client got a secret by rotation")
	}
	in.Public = false
	c, secret, err := e.clients.Update(ctx, Actor{}, "spa", in)
	if err != nil || secret == "" || !secretMatches(c.SecretHash, secret) {
		t.Fatalf("made confidential: %q %+v %v", secret, c, err)
	}
	in.Public = true
	c, secret, err = e.clients.Update(ctx, Actor{}, "spa", in)
	if err != nil || secret != "" || c.SecretHash != "" {
		t.Fatalf("made public again: %q %+v %v", secret, c, err)
	}
	in.Name = ""
	if _, _, err := e.clients.Update(ctx, Actor{}, "spa", in); err == nil {
		t.Fatal("an invalid update was accepted")
	}
	if got, _ := e.db.GetOIDCClient(ctx, "spa"); got.Name != "SPA" {
		t.Fatalf("a refused update changed the client: %+v", got)
	}
}
