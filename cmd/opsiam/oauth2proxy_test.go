package main

import (
	"context"
	"html"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"opsiam/internal/oidc/oidctest"
	"opsiam/internal/testenv"
)

// freeAddr returns a loopback address with a port nobody listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// startOAuth2Proxy runs oauth2-proxy (v7.15.6, a binary we did not write)
// in front of a static upstream, as an OIDC relying party of issuer, with
// opsiam's end_session as its backend logout URL.
func startOAuth2Proxy(t *testing.T, issuer, clientID, secret, addr string) *syncBuffer {
	t.Helper()
	bin := testenv.OAuth2Proxy(t)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin,
		"--provider=oidc", "--oidc-issuer-url="+issuer, "--client-id="+clientID, "--client-secret="+secret,
		"--redirect-url=http://"+addr+"/oauth2/callback", "--http-address="+addr,
		"--cookie-secret=0123456789abcdef0123456789abcdef", "--cookie-secure=false", "--email-domain=*",
		"--upstream=static://200", "--skip-provider-button=true", "--code-challenge-method=S256",
		"--scope=openid email profile", "--backend-logout-url="+issuer+"/end_session?id_token_hint={id_token}",
		"--request-logging=false")
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); _ = cmd.Wait() })
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if resp, err := http.Get("http://" + addr + "/ping"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return out
			}
		}
	}
	t.Fatalf("oauth2-proxy did not start:\n%s", out.String())
	return nil
}

// TestOAuth2ProxyRelyingParty is the oauth2-proxy test of issue 12: a user
// signs in to an application behind oauth2-proxy through the sign-in page;
// the proxy's sign-out ends the platform session through its backend
// logout (defect 4); and a user whose mail is not verified is refused by
// the proxy, which needs email_verified to say so (defect 2).
func TestOAuth2ProxyRelyingParty(t *testing.T) {
	testenv.OAuth2Proxy(t)
	dir := filepath.Join(t.TempDir(), "data")
	const pw = "a long admin secret"
	runWithEnv(t, map[string]string{"OPSIAM_ADMIN_PASSWORD": pw}, "migrate", "--data-dir", dir)
	addr := freeAddr(t)
	out := runWithEnv(t, nil, "client", "add", "--data-dir", dir, "--client-id", "proxy", "--name", "oauth2-proxy",
		"--redirect-uri", "http://"+addr+"/oauth2/callback")
	admin := strings.TrimSpace(runCLI(t, dir, "", "", "token", "issue", "admin"))
	base, _ := startServer(t, nil, "--data-dir", dir)
	logs := startOAuth2Proxy(t, base, "proxy", secretRE.FindStringSubmatch(out)[1], addr)
	app := "http://" + addr + "/"

	browser := func() *http.Client {
		jar, _ := cookiejar.New(nil)
		return &http.Client{Jar: jar, Timeout: 30 * time.Second}
	}
	// visit opens the application and, when the sign-in page appears,
	// signs in as user; it returns the final answer's status and body.
	user, userPW := "admin", pw
	visit := func(b *http.Client) (int, string, bool) {
		t.Helper()
		resp, err := b.Get(app)
		if err != nil {
			t.Fatal(err)
		}
		prompted := false
		if strings.HasPrefix(resp.Request.URL.String(), base+"/login") {
			prompted = true
			page := oidctest.ReadBody(t, resp)
			resp = oidctest.SubmitLogin(t, b, resp.Request.URL, page, user, userPW)
		}
		body := oidctest.ReadBody(t, resp)
		return resp.StatusCode, body, prompted
	}

	b := browser()
	if status, body, prompted := visit(b); status != http.StatusOK || !prompted {
		t.Fatalf("sign-in through oauth2-proxy: %d (prompted %v)\n%s\nproxy:\n%s", status, prompted, body, logs)
	}
	if status, _, prompted := visit(b); status != http.StatusOK || prompted {
		t.Fatalf("second visit: %d (prompted %v)", status, prompted)
	}

	// The proxy's sign-out calls opsiam's end_session with the ID token,
	// server to server: the platform session ends all the same.
	resp, err := b.Get("http://" + addr + "/oauth2/sign_out")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	resp, err = b.Get(base + "/account")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if !strings.HasPrefix(resp.Request.URL.String(), base+"/login") {
		t.Fatalf("the platform session survived the proxy's backend logout: at %s\nproxy:\n%s", resp.Request.URL, logs)
	}

	// An unverified mail address is refused by the proxy: a new user sets
	// its password from the mail (the development mailbox) without
	// verifying its address.
	if code, u := do(t, "POST", base+"/api/v1/users", admin, `{"username":"yuki","email":"yuki@example.test",
		"first_name":"Yuki","last_name":"Ito"}`); code != http.StatusCreated || u["email_verified"] != false {
		t.Fatalf("create yuki: %d %v", code, u)
	}
	setPasswordFromMail(t, base, "yuki-lantern-5821")
	user, userPW = "yuki", "yuki-lantern-5821"
	status, body, _ := visit(browser())
	if status == http.StatusOK {
		t.Fatalf("oauth2-proxy let an unverified mail address in:\n%s", body)
	}
	for deadline := time.Now().Add(3 * time.Second); !strings.Contains(logs.String(), "verified") && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond) // the proxy logs after it answers
	}
	if !strings.Contains(logs.String(), "verified") {
		t.Errorf("the proxy refused for another reason (%d):\n%s", status, logs)
	}

}

var setupLinkInHTML = regexp.MustCompile(`http://[^\s"<>]+/password/setup\?token=[A-Za-z0-9_%-]+`)

// setPasswordFromMail sets password through the newest password-setup link
// in the development mailbox of the server at base, as the user would.
func setPasswordFromMail(t *testing.T, base, password string) {
	t.Helper()
	b := oidctest.Browser(t)
	var link string
	for deadline := time.Now().Add(20 * time.Second); link == "" && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		resp, err := b.Get(base + "/dev/mail")
		if err != nil {
			t.Fatal(err)
		}
		link = html.UnescapeString(setupLinkInHTML.FindString(oidctest.ReadBody(t, resp)))
	}
	if link == "" {
		t.Fatal("no password-setup mail")
	}
	resp, err := b.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	page := oidctest.ReadBody(t, resp)
	resp = oidctest.SubmitForm(t, b, resp.Request.URL, page, "password-form",
		url.Values{"password": {password}, "confirm": {password}})
	if body := oidctest.ReadBody(t, resp); resp.StatusCode != http.StatusOK || !strings.Contains(body, "notice") {
		t.Fatalf("setting the password: %d\n%s", resp.StatusCode, body)
	}
}

// TestOAuth2ProxyVerifiesES256AndEdDSA: oauth2-proxy, which verifies ID
// tokens with the algorithms discovery lists, signs users in with clients
// whose ID tokens are ES256 and EdDSA (issue 15, interoperability).
func TestOAuth2ProxyVerifiesES256AndEdDSA(t *testing.T) {
	testenv.OAuth2Proxy(t)
	dir := filepath.Join(t.TempDir(), "data")
	const pw = "a long admin secret"
	runWithEnv(t, map[string]string{"OPSIAM_ADMIN_PASSWORD": pw}, "migrate", "--data-dir", dir)
	addrs := map[string]string{}
	secrets := map[string]string{}
	for _, alg := range []string{"ES256", "EdDSA"} {
		addrs[alg] = freeAddr(t)
		out := runWithEnv(t, nil, "client", "add", "--data-dir", dir, "--client-id", "proxy-"+alg, "--name", "oauth2-proxy "+alg,
			"--id-token-alg", alg, "--redirect-uri", "http://"+addrs[alg]+"/oauth2/callback")
		secrets[alg] = secretRE.FindStringSubmatch(out)[1]
	}
	base, _ := startServer(t, nil, "--data-dir", dir)
	for _, alg := range []string{"ES256", "EdDSA"} {
		logs := startOAuth2Proxy(t, base, "proxy-"+alg, secrets[alg], addrs[alg])
		jar, _ := cookiejar.New(nil)
		b := &http.Client{Jar: jar, Timeout: 30 * time.Second}
		resp, err := b.Get("http://" + addrs[alg] + "/")
		if err != nil {
			t.Fatal(err)
		}
		page := oidctest.ReadBody(t, resp)
		resp = oidctest.SubmitLogin(t, b, resp.Request.URL, page, "admin", pw)
		if body := oidctest.ReadBody(t, resp); resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: oauth2-proxy answered %d\n%s\nproxy:\n%s", alg, resp.StatusCode, body, logs)
		}
	}
}
