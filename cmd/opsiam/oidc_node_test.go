package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"opsiam/internal/oidc/oidctest"
	"opsiam/internal/testenv"
)

// nodeRP starts test/rp-node/rp.mjs (panva's openid-client), or skips (fails
// in CI) when node or the script's node_modules (`npm ci`, done by .ci/run)
// are missing.
func nodeRP(t *testing.T, args ...string) (*exec.Cmd, io.WriteCloser, *bufio.Scanner, *strings.Builder) {
	return nodeRPWith(t, nil, args...)
}

// nodeRPWith is nodeRP with extra environment variables (RP_ALG).
func nodeRPWith(t *testing.T, env []string, args ...string) (*exec.Cmd, io.WriteCloser, *bufio.Scanner, *strings.Builder) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		testenv.Missing(t, "node is not installed")
	}
	dir, err := filepath.Abs(filepath.Join("..", "..", "test", "rp-node"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "openid-client")); err != nil {
		testenv.Missing(t, "test/rp-node/node_modules is missing: run `npm ci` there (.ci/run does)")
	}
	cmd := exec.Command(node, append([]string{"rp.mjs"}, args...)...)
	cmd.Dir = dir
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		in.Close()
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	return cmd, in, sc, &stderr
}

// nodeStep is one line the script prints.
type nodeStep struct {
	Step         string          `json:"step"`
	Alg          string          `json:"alg"`
	URL          string          `json:"url"`
	Error        string          `json:"error"`
	Cause        string          `json:"cause"`
	Claims       oidctest.Claims `json:"claims"`
	Userinfo     oidctest.Claims `json:"userinfo"`
	RefreshedSub string          `json:"refreshed_sub"`
	RefreshedSID string          `json:"refreshed_sid"`
	Reuse        string          `json:"reuse"`
	Logout       string          `json:"logout"`
	// the logged_out step of a confidential client
	LogoutSub          string `json:"logout_sub"`
	LogoutSID          string `json:"logout_sid"`
	Typ                string `json:"typ"`
	RefreshAfterLogout string `json:"refresh_after_logout"`
}

func readStep(t *testing.T, sc *bufio.Scanner, stderr *strings.Builder) nodeStep {
	t.Helper()
	if !sc.Scan() {
		t.Fatalf("the node relying party stopped: %v\n%s", sc.Err(), stderr.String())
	}
	var s nodeStep
	if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
		t.Fatalf("node printed %q: %v", sc.Text(), err)
	}
	if s.Step == "error" {
		t.Fatalf("the node relying party failed: %s (cause: %s)\n%s", s.Error, s.Cause, stderr.String())
	}
	return s
}

// TestOIDCNodeRelyingParty is acceptance 2 of issue 5: panva's
// openid-client, a relying party no one here wrote, runs discovery, code +
// PKCE (as a public client), refresh, userinfo and RP-initiated logout
// against `opsiam serve`, signing in through the real sign-in page.
func TestOIDCNodeRelyingParty(t *testing.T) {
	t.Parallel() // its own data directory and server (issue 17, point 7)
	dir := filepath.Join(t.TempDir(), "data")
	const pw = "a long admin secret"
	runWithEnv(t, map[string]string{"OPSIAM_ADMIN_PASSWORD": pw}, "migrate", "--data-dir", dir)
	out := runWithEnv(t, nil, "client", "add", "--data-dir", dir, "--client-id", "node-rp", "--name", "Node RP", "--public",
		"--redirect-uri", oidctest.RedirectURI("node-rp"), "--post-logout-redirect-uri", oidctest.PostLogoutURI("node-rp"))
	if strings.Contains(out, "client_secret") {
		t.Fatalf("a public client got a secret:\n%s", out)
	}
	base, _ := startServer(t, nil, "--data-dir", dir)
	_, in, sc, stderr := nodeRP(t, base, "node-rp", oidctest.RedirectURI("node-rp"), oidctest.PostLogoutURI("node-rp"))
	b := oidctest.Browser(t)

	s := readStep(t, sc, stderr)
	if s.Step != "authorize" || !strings.Contains(s.URL, "code_challenge_method=S256") {
		t.Fatalf("first step: %+v", s)
	}
	cb, res := oidctest.Browse(t, b, s.URL, "admin", pw)
	if cb == nil || res.Code == "" || !res.Prompted {
		t.Fatalf("authorization: %+v", res)
	}
	if _, err := io.WriteString(in, cb.String()+"\n"); err != nil {
		t.Fatal(err)
	}
	s = readStep(t, sc, stderr)
	c := s.Claims
	if s.Step != "done" || c.PreferredUsername != "admin" || c.Email != "admin@localhost" || c.SID == "" ||
		len(c.Roles) == 0 || len(c.Groups) == 0 {
		t.Fatalf("ID token claims seen by openid-client: %+v", s)
	}
	if s.Userinfo.Sub != c.Sub || s.Userinfo.PreferredUsername != "admin" || s.RefreshedSub != c.Sub || s.RefreshedSID != c.SID {
		t.Fatalf("userinfo / refresh seen by openid-client: %+v", s)
	}
	if s.Reuse != "invalid_grant" {
		t.Fatalf("a reused refresh token gave %q, want invalid_grant", s.Reuse)
	}

	// RP-initiated logout ends the platform session and returns to the app.
	resp, err := b.Get(s.Logout)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || loc != oidctest.PostLogoutURI("node-rp")+"?state=bye" {
		t.Fatalf("logout answered %d to %q", resp.StatusCode, loc)
	}
	resp, err = b.Get(base + "/account")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if !strings.HasSuffix(resp.Request.URL.Path, "/login") {
		t.Fatalf("still signed in to the platform after logout: ended at %s", resp.Request.URL)
	}
}

// TestOIDCNodeConfidentialClient is the confidential half of issue 12's
// node test: openid-client as a web application with a client secret runs
// the code flow with PKCE and refresh against `opsiam serve`, and receives
// and verifies (with jose, against the JWKS) the back-channel logout token
// of its session when the user logs out; its refresh token stops.
func TestOIDCNodeConfidentialClient(t *testing.T) {
	t.Parallel() // its own data directory and server (issue 17, point 7)
	dir := filepath.Join(t.TempDir(), "data")
	const pw = "a long admin secret"
	runWithEnv(t, map[string]string{"OPSIAM_ADMIN_PASSWORD": pw}, "migrate", "--data-dir", dir)
	admin := strings.TrimSpace(runCLI(t, dir, "", "", "token", "issue", "admin"))
	base, _ := startServer(t, nil, "--data-dir", dir)
	_, in, sc, stderr := nodeRP(t, base, "node-web", oidctest.RedirectURI("node-web"), oidctest.PostLogoutURI("node-web"), "--confidential")

	s := readStep(t, sc, stderr)
	if s.Step != "listening" || !strings.HasPrefix(s.URL, "http://127.0.0.1:") {
		t.Fatalf("first step: %+v", s)
	}
	body, _ := json.Marshal(map[string]any{"client_id": "node-web", "name": "Node web app",
		"redirect_uris": []string{oidctest.RedirectURI("node-web")}, "post_logout_redirect_uris": []string{oidctest.PostLogoutURI("node-web")},
		"backchannel_logout_uri": s.URL})
	code, c := do(t, "POST", base+"/api/v1/clients", admin, string(body))
	secret, _ := c["client_secret"].(string)
	if code != http.StatusCreated || secret == "" {
		t.Fatalf("register: %d %v", code, c)
	}
	if _, err := io.WriteString(in, secret+"\n"); err != nil {
		t.Fatal(err)
	}

	b := oidctest.Browser(t)
	s = readStep(t, sc, stderr)
	if s.Step != "authorize" {
		t.Fatalf("step: %+v", s)
	}
	cb, res := oidctest.Browse(t, b, s.URL, "admin", pw)
	if cb == nil || res.Code == "" {
		t.Fatalf("authorization: %+v", res)
	}
	if _, err := io.WriteString(in, cb.String()+"\n"); err != nil {
		t.Fatal(err)
	}
	s = readStep(t, sc, stderr)
	if s.Step != "done" || s.Claims.PreferredUsername != "admin" || s.RefreshedSID != s.Claims.SID || s.Reuse != "invalid_grant" {
		t.Fatalf("code flow and refresh seen by openid-client: %+v", s)
	}
	sid, sub := s.Claims.SID, s.Claims.Sub
	resp, err := b.Get(s.Logout)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	s = readStep(t, sc, stderr) // the script gives up after 20 s without a token
	if s.Step != "logged_out" || s.LogoutSub != sub || s.LogoutSID != sid || s.Typ != "logout+jwt" || s.RefreshAfterLogout != "invalid_grant" {
		t.Fatalf("back-channel logout seen by openid-client: %+v", s)
	}
}

// TestOIDCNodeRelyingPartyES256AndEdDSA is the interoperability part of
// issue 15: openid-client, told the client's id_token_signed_response_alg,
// verifies ES256 and EdDSA ID tokens (of the code and of a refresh).
func TestOIDCNodeRelyingPartyES256AndEdDSA(t *testing.T) {
	t.Parallel() // its own data directory and server (issue 17, point 7)
	dir := filepath.Join(t.TempDir(), "data")
	const pw = "a long admin secret"
	runWithEnv(t, map[string]string{"OPSIAM_ADMIN_PASSWORD": pw}, "migrate", "--data-dir", dir)
	for _, alg := range []string{"ES256", "EdDSA"} {
		runWithEnv(t, nil, "client", "add", "--data-dir", dir, "--client-id", "node-"+alg, "--name", "Node "+alg, "--public",
			"--id-token-alg", alg, "--redirect-uri", oidctest.RedirectURI("node-"+alg), "--post-logout-redirect-uri", oidctest.PostLogoutURI("node-"+alg))
	}
	base, _ := startServer(t, nil, "--data-dir", dir)
	for _, alg := range []string{"ES256", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			id := "node-" + alg
			_, in, sc, stderr := nodeRPWith(t, []string{"RP_ALG=" + alg}, base, id, oidctest.RedirectURI(id), oidctest.PostLogoutURI(id))
			s := readStep(t, sc, stderr)
			cb, res := oidctest.Browse(t, oidctest.Browser(t), s.URL, "admin", pw)
			if cb == nil || res.Code == "" {
				t.Fatalf("authorization: %+v", res)
			}
			if _, err := io.WriteString(in, cb.String()+"\n"); err != nil {
				t.Fatal(err)
			}
			s = readStep(t, sc, stderr)
			if s.Step != "done" || s.Alg != alg || s.Claims.PreferredUsername != "admin" || s.RefreshedSub != s.Claims.Sub {
				t.Fatalf("openid-client with %s: %+v", alg, s)
			}
		})
	}
}
