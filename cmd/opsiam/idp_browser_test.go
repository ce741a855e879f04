package main

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"opsiam/internal/oidc/oidctest"
	"opsiam/internal/testenv"
)

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

// TestBrowserSignInThroughCustomerIdP is issue 18's main test: a second
// real `opsiam serve` plays the customer's OpenID Connect provider. In
// Chromium, a user opens an application on a third origin, which sends it
// to the first server's /login; the user types only a mail address of
// the customer's domain, is sent to the second server, signs in there
// with its password and comes back signed in on the first server, where
// auto_create made it a user of the customer with the provider's roles,
// and the application receives the code (amr fed). The second server
// runs on "localhost" and the first on "127.0.0.1", so that the browser
// keeps their cookies apart (cookies do not tell ports apart).
func TestBrowserSignInThroughCustomerIdP(t *testing.T) {
	t.Parallel() // its own data directories and servers
	ctx := testenv.Chrome(t)

	// The customer's provider: a full opsiam with a user of acme.test.
	dirB := filepath.Join(t.TempDir(), "upstream")
	runWithEnv(t, map[string]string{"OPSIAM_ADMIN_PASSWORD": "upstream admin secret"}, "migrate", "--data-dir", dirB)
	adminB := strings.TrimSpace(runCLI(t, dirB, "", "", "token", "issue", "admin"))
	portB := freePort(t)
	baseB, _ := startServer(t, nil, "--data-dir", dirB, "--addr", "127.0.0.1:"+portB, "--issuer", "http://localhost:"+portB)
	issuerB := "http://localhost:" + portB
	if code, u := do(t, "POST", baseB+"/api/v1/users", adminB, `{"username":"hana","email":"hana@acme.test","email_verified":true,
		"first_name":"Hana","last_name":"Sato"}`); code != http.StatusCreated {
		t.Fatalf("upstream user: %d %v", code, u)
	}
	const upstreamPW = "wisteria-harbour-93"
	runCLI(t, dirB, upstreamPW+"\n", "", "user", "set-password", "hana")

	// The platform: an application on a third origin, and the server.
	dirA := filepath.Join(t.TempDir(), "platform")
	runWithEnv(t, map[string]string{"OPSIAM_ADMIN_PASSWORD": "platform admin secret"}, "migrate", "--data-dir", dirA)
	rp := oidctest.NewWebRP(t)
	out := runWithEnv(t, nil, "client", "add", "--data-dir", dirA, "--client-id", "webapp", "--name", "Web app",
		"--redirect-uri", rp.RedirectURI())
	adminA := strings.TrimSpace(runCLI(t, dirA, "", "", "token", "issue", "admin"))
	baseA, _ := startServer(t, nil, "--data-dir", dirA, "--insecure-issuer")
	rp.Configure(t, baseA, "webapp", secretRE.FindStringSubmatch(out)[1])

	code, cust := do(t, "POST", baseA+"/api/v1/customers", adminA, `{"code":"acme","name":"Acme"}`)
	if code != http.StatusCreated {
		t.Fatalf("customer: %d %v", code, cust)
	}
	_, roles := do(t, "GET", baseA+"/api/v1/roles?limit=200", adminA, "")
	var customerUser string
	for _, r := range roles["items"].([]any) {
		if m := r.(map[string]any); m["name"] == "Customer User" {
			customerUser = m["id"].(string)
		}
	}
	code, idp := do(t, "POST", baseA+"/api/v1/identity-providers", adminA, fmt.Sprintf(`{"name":"Acme IdP","issuer":%q,
		"client_id":"platform","customer_id":%q,"domains":["acme.test"],"auto_create":true,"role_ids":[%q]}`,
		issuerB, cust["id"], customerUser))
	if code != http.StatusCreated {
		t.Fatalf("identity provider: %d %v", code, idp)
	}
	// The provider's administrator registers the platform as a client
	// with the redirect URI the platform shows; the secret goes back.
	code, client := do(t, "POST", baseB+"/api/v1/clients", adminB, fmt.Sprintf(`{"client_id":"platform","name":"Platform",
		"redirect_uris":[%q]}`, idp["redirect_uri"]))
	if code != http.StatusCreated {
		t.Fatalf("upstream client: %d %v", code, client)
	}
	if code, p := do(t, "PATCH", baseA+"/api/v1/identity-providers/"+idp["id"].(string), adminA,
		fmt.Sprintf(`{"client_secret":%q}`, client["client_secret"])); code != http.StatusOK || p["client_secret"] != nil {
		t.Fatalf("secret: %d %v", code, p)
	}

	b := browser{t: t, ctx: ctx}
	run, text := b.run, b.text
	location := func() string {
		loc, _ := chromedp.Run(ctx, chromedp.Location())
		return loc
	}

	// waitAt waits until the browser is at a URL starting with prefix: a
	// form's submission leaves the old page in place for a moment.
	waitAt := func(step, prefix string) {
		t.Helper()
		for deadline := time.Now().Add(15 * time.Second); !strings.HasPrefix(location(), prefix); time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) {
				page, _ := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("body")))
				t.Fatalf("%s: at %s, want %s…:\n%s", step, location(), prefix, page)
			}
		}
	}

	calls := rp.Callbacks()
	run("open the application", chromedp.Navigate(rp.URL+"/start"), chromedp.WaitVisible(chromedp.CSS("#username")))
	if !strings.HasPrefix(location(), baseA+"/login") {
		t.Fatalf("not on the platform's sign-in page: %s", location())
	}
	run("type the mail only", chromedp.SendKeys(chromedp.CSS("#username"), "hana@acme.test"),
		chromedp.Click(chromedp.CSS("#login-submit")))
	waitAt("sent to the customer's provider", issuerB+"/login")
	run("the provider's form", chromedp.WaitVisible(chromedp.CSS("#password")))
	run("sign in at the provider", chromedp.SendKeys(chromedp.CSS("#username"), "hana"),
		chromedp.SendKeys(chromedp.CSS("#password"), upstreamPW), chromedp.Click(chromedp.CSS("#login-submit")),
		chromedp.WaitVisible(chromedp.CSS("#signed-in")))
	if loc := location(); !strings.HasPrefix(loc, rp.URL+"/callback") || rp.Callbacks() != calls+1 {
		t.Fatalf("at %s after %d callbacks", loc, rp.Callbacks()-calls)
	}
	if got, amr := text("#signed-in"), text("#amr"); got != "hana@acme.test" || amr != "fed" {
		t.Fatalf("signed in as %q with amr %q", got, amr)
	}

	// The platform made hana a user of acme with the provider's role, linked.
	code, users := do(t, "GET", baseA+"/api/v1/users?email="+url.QueryEscape("hana@acme.test"), adminA, "")
	if code != http.StatusOK || len(users["items"].([]any)) != 1 {
		t.Fatalf("users: %d %v", code, users)
	}
	u := users["items"].([]any)[0].(map[string]any)
	if u["customer_id"] != cust["id"] || u["email_verified"] != true || u["first_name"] != "Hana" {
		t.Fatalf("created user %v", u)
	}
	uid := u["id"].(string)
	_, eff := do(t, "GET", baseA+"/api/v1/users/"+uid+"/effective-roles", adminA, "")
	if !strings.Contains(fmt.Sprint(eff), "Customer User") {
		t.Fatalf("effective roles %v", eff)
	}
	_, ids := do(t, "GET", baseA+"/api/v1/users/"+uid+"/identities", adminA, "")
	links, _ := ids["items"].([]any)
	if len(links) != 1 || links[0].(map[string]any)["provider_id"] != idp["id"] || links[0].(map[string]any)["subject"] == "" {
		t.Fatalf("identities %v", ids)
	}

	// Signed out of the platform, a second sign-in of the same upstream
	// account signs in the same user (the provider's session is still on).
	run("sign out", chromedp.Navigate(baseA+"/logout"), chromedp.WaitVisible(chromedp.CSS("#logout-submit")),
		chromedp.Click(chromedp.CSS("#logout-submit")), chromedp.WaitVisible(chromedp.CSS("#notice")))
	run("again", chromedp.Navigate(baseA+"/login"), chromedp.WaitVisible(chromedp.CSS("#username")),
		chromedp.SendKeys(chromedp.CSS("#username"), "HANA@acme.test"), chromedp.Click(chromedp.CSS("#login-submit")))
	waitAt("second sign-in", baseA+"/account")
	if _, users := do(t, "GET", baseA+"/api/v1/users?email="+url.QueryEscape("hana@acme.test"), adminA, ""); len(users["items"].([]any)) != 1 {
		t.Fatalf("a second user was created: %v", users)
	}
}
