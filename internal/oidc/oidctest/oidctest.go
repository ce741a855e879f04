// Package oidctest drives the OpenID Connect provider from tests as a
// relying party would: a browser with a cookie jar that fills in the real
// sign-in form, and a relying party built from coreos/go-oidc and
// golang.org/x/oauth2. It is imported only by tests.
package oidctest

import (
	"context"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// RPHost is the host of the fake relying parties' redirect URIs; the
// browser stops at a redirect there instead of following it.
const RPHost = "127.0.0.1:1"

// RedirectURI is the redirect URI registered for clientID in tests.
func RedirectURI(clientID string) string { return "http://" + RPHost + "/" + clientID + "/cb" }

// PostLogoutURI is the post-logout redirect URI registered for clientID.
func PostLogoutURI(clientID string) string { return "http://" + RPHost + "/" + clientID + "/bye" }

// Browser is an HTTP client with a cookie jar that stops at redirects to RPHost.
func Browser(t testing.TB) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: 30 * time.Second, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if req.URL.Host == RPHost {
			return http.ErrUseLastResponse
		}
		if len(via) > 20 {
			return fmt.Errorf("too many redirects")
		}
		return nil
	}}
}

var (
	formRE  = regexp.MustCompile(`(?is)<form[^>]*action="([^"]*)"[^>]*>(.*?)</form>`)
	inputRE = regexp.MustCompile(`(?is)<input([^>]*)>`)
	attrRE  = regexp.MustCompile(`(?is)\b(name|value)="([^"]*)"`)
)

// SubmitForm posts the form with the given id on page (at pageURL), with
// its fields as the page sets them, overridden by set.
func SubmitForm(t testing.TB, b *http.Client, pageURL *url.URL, page, id string, set url.Values) *http.Response {
	t.Helper()
	for _, m := range formRE.FindAllStringSubmatch(page, -1) {
		if !strings.Contains(m[0][:strings.Index(m[0], ">")], `id="`+id+`"`) {
			continue
		}
		form := fields(m[2])
		for k, v := range set {
			form[k] = v
		}
		return post(t, b, pageURL, html.UnescapeString(m[1]), form)
	}
	t.Fatalf("no form %q on %s:\n%s", id, pageURL, page)
	return nil
}

// fields reads the named inputs of a form's body.
func fields(body string) url.Values {
	form := url.Values{}
	for _, in := range inputRE.FindAllStringSubmatch(body, -1) {
		var name, value string
		for _, a := range attrRE.FindAllStringSubmatch(in[1], -1) {
			if strings.EqualFold(a[1], "name") {
				name = html.UnescapeString(a[2])
			} else {
				value = html.UnescapeString(a[2])
			}
		}
		if name != "" {
			form.Set(name, value)
		}
	}
	return form
}

func post(t testing.TB, b *http.Client, pageURL *url.URL, action string, form url.Values) *http.Response {
	t.Helper()
	target, err := pageURL.Parse(action)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, target.String(), strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", pageURL.Scheme+"://"+pageURL.Host)
	resp, err := b.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// SubmitLogin fills the first form of page (the sign-in page at pageURL)
// with username and password, keeps its other fields (CSRF token, return
// URL) and posts it.
func SubmitLogin(t testing.TB, b *http.Client, pageURL *url.URL, page, username, password string) *http.Response {
	t.Helper()
	for _, m := range formRE.FindAllStringSubmatch(page, -1) {
		if !strings.Contains(m[2], `name="password"`) {
			continue
		}
		form := fields(m[2])
		form.Set("username", username)
		form.Set("password", password)
		return post(t, b, pageURL, html.UnescapeString(m[1]), form)
	}
	t.Fatalf("no sign-in form on %s:\n%s", pageURL, page)
	return nil
}

// ReadBody reads and closes resp's body.
func ReadBody(t testing.TB, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// RP is a relying party built from go-oidc and x/oauth2.
type RP struct {
	Config   oauth2.Config
	Provider *gooidc.Provider
	Verifier *gooidc.IDTokenVerifier
}

// NewRP discovers issuer and sets up the client; the default scopes are
// openid, profile, email and offline_access.
func NewRP(t testing.TB, issuer, clientID, secret string, scopes ...string) *RP {
	t.Helper()
	p, err := gooidc.NewProvider(context.Background(), issuer)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	if len(scopes) == 0 {
		scopes = []string{gooidc.ScopeOpenID, "profile", "email", gooidc.ScopeOfflineAccess}
	}
	return &RP{
		Config: oauth2.Config{ClientID: clientID, ClientSecret: secret, Endpoint: p.Endpoint(),
			RedirectURL: RedirectURI(clientID), Scopes: scopes},
		Provider: p,
		Verifier: p.Verifier(&gooidc.Config{ClientID: clientID}),
	}
}

// Result is where a browser's authorization ended.
type Result struct {
	Code     string
	Error    string // error= sent to the client
	Page     string // the page shown when the flow did not return to the client
	Status   int
	Prompted bool // the sign-in page was shown
}

// State is the state parameter Authorize sends.
const State = "state-1"

// Authorize runs the browser part of the code flow with PKCE (S256); when
// the sign-in page appears it signs in as username with password.
func (r *RP) Authorize(t testing.TB, b *http.Client, username, password, verifier, nonce string) Result {
	t.Helper()
	u := r.Config.AuthCodeURL(State, oauth2.S256ChallengeOption(verifier), gooidc.Nonce(nonce))
	loc, res := Browse(t, b, u, username, password)
	if loc == nil {
		return res
	}
	if got := loc.Query().Get("state"); got != State {
		t.Fatalf("state = %q", got)
	}
	return res
}

// Browse opens authURL in the browser, signs in on the sign-in page if it
// appears, and returns the URL the provider sent the browser to at the
// relying party (nil when the flow stopped at a page of the server).
func Browse(t testing.TB, b *http.Client, authURL, username, password string) (*url.URL, Result) {
	t.Helper()
	resp, err := b.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	var res Result
	if resp.StatusCode == http.StatusOK && strings.HasSuffix(resp.Request.URL.Path, "/login") {
		res.Prompted = true
		page := ReadBody(t, resp)
		resp = SubmitLogin(t, b, resp.Request.URL, page, username, password)
	}
	res.Status = resp.StatusCode
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || loc == nil || loc.Host != RPHost {
		res.Page = ReadBody(t, resp)
		return nil, res
	}
	resp.Body.Close()
	res.Code, res.Error = loc.Query().Get("code"), loc.Query().Get("error")
	return loc, res
}

// Claims are the ID token and userinfo claims the tests look at (S2, T1).
type Claims struct {
	Sub               string   `json:"sub"`
	PreferredUsername string   `json:"preferred_username"`
	Email             string   `json:"email"`
	EmailVerified     bool     `json:"email_verified"`
	Name              string   `json:"name"`
	GivenName         string   `json:"given_name"`
	FamilyName        string   `json:"family_name"`
	Zoneinfo          string   `json:"zoneinfo"`
	Groups            []string `json:"groups"`
	Roles             []string `json:"roles"`
	Customer          string   `json:"customer"`
	ITSMRole          string   `json:"itsm_role"`
	SID               string   `json:"sid"`
	Nonce             string   `json:"nonce"`
}

// Exchange redeems code with the PKCE verifier and verifies the ID token.
func (r *RP) Exchange(t testing.TB, code, verifier string) (*oauth2.Token, *gooidc.IDToken, Claims) {
	t.Helper()
	ctx := context.Background()
	tok, err := r.Config.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok {
		t.Fatal("no id_token")
	}
	idt, err := r.Verifier.Verify(ctx, raw)
	if err != nil {
		t.Fatalf("verify id_token: %v", err)
	}
	var c Claims
	if err := idt.Claims(&c); err != nil {
		t.Fatal(err)
	}
	return tok, idt, c
}

// Refresh redeems a refresh token.
func (r *RP) Refresh(refreshToken string) (*oauth2.Token, error) {
	return r.Config.TokenSource(context.Background(), &oauth2.Token{RefreshToken: refreshToken, Expiry: time.Now().Add(-time.Hour)}).Token()
}
