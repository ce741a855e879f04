// Command load drives a running `opsiam serve` with one scenario at a
// time and prints requests/s, latency percentiles and, when the server runs
// on this machine (-pid), its CPU time per request (issue 15). It is not
// part of `go test ./...`; .ci/run runs each scenario for a few seconds so
// that it cannot rot.
//
//	go run ./test/load -url http://127.0.0.1:8080 -admin-token TOKEN -password ADMINPW -scenario refresh -c 4 -d 10s
//
// Scenarios: signin (POST /login), authcode (the whole code flow with
// PKCE, sign-in included), refresh (each connection chains the refresh
// token it got back), client-credentials, userinfo, admin (list, search,
// create and update users through the REST API). The tool registers its own
// OIDC client through the API with the admin token.
package main

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// redirectURI is where the tool's client is sent back; the tool stops at
// the redirect and never connects there.
const redirectURI = "http://127.0.0.1:1/load/cb"

type config struct {
	base, adminToken, user, password, scenario string
	conns                                      int
	dur                                        time.Duration
	pid                                        int
	alg                                        string
}

func main() {
	var c config
	flag.StringVar(&c.base, "url", "http://127.0.0.1:8080", "base URL of the server")
	flag.StringVar(&c.adminToken, "admin-token", "", "a platform token of admin (opsiam token issue admin)")
	flag.StringVar(&c.user, "user", "admin", "user that signs in")
	flag.StringVar(&c.password, "password", "", "its password")
	flag.StringVar(&c.scenario, "scenario", "refresh", "signin, authcode, refresh, client-credentials, userinfo, admin, or start (-url is polled; the server's command follows --)")
	flag.IntVar(&c.conns, "c", 4, "connections (workers)")
	flag.DurationVar(&c.dur, "d", 10*time.Second, "duration")
	flag.StringVar(&c.alg, "alg", "", "ID token signing algorithm of the client the scenarios register (RS256, ES256, EdDSA; empty: the server's default)")
	flag.IntVar(&c.pid, "pid", 0, "the server's process id, for its CPU time per request (same machine only)")
	runs := flag.Int("runs", 9, "start scenario: how many starts")
	flag.Parse()
	var err error
	if c.scenario == "start" {
		err = startRun(c.base, *runs, flag.Args())
	} else {
		err = run(c)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

// client is the tool's registered OIDC client.
type client struct{ id, secret string }

func run(c config) error {
	if c.adminToken == "" {
		return errors.New("-admin-token is required")
	}
	cl, err := register(c)
	if err != nil {
		return err
	}
	op, err := scenario(c, cl)
	if err != nil {
		return err
	}
	var sig time.Duration
	if c.pid > 0 {
		sig = rawSignatureCPU()
	}
	cpu0 := cpuTime(c.pid)
	rss0 := residentKiB(c.pid)
	stopRSS, peakRSS := watchRSS(c.pid)
	lat, errs := drive(c, op)
	cpu := cpuTime(c.pid) - cpu0
	stopRSS()
	if c.pid > 0 {
		sig = (sig + rawSignatureCPU()) / 2
	}
	report(c, lat, errs, cpu, sig)
	if c.pid > 0 {
		fmt.Printf("scenario=%s server-rss-before=%.1fMiB server-peak-rss=%.1fMiB\n", c.scenario, float64(rss0)/1024, float64(peakRSS())/1024)
	}
	if len(lat) == 0 {
		return fmt.Errorf("no request succeeded (%d errors)", errs)
	}
	return nil
}

// drive runs op on c.conns workers for c.dur; each worker prepares its
// state with op(nil) first.
func drive(c config, op func(w *worker) error) ([]time.Duration, int64) {
	var mu sync.Mutex
	var all []time.Duration
	var errs atomic.Int64
	var wg sync.WaitGroup
	deadline := time.Now().Add(c.dur)
	for i := range c.conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := newWorker(c, i)
			var mine []time.Duration
			for time.Now().Before(deadline) {
				start := time.Now()
				if err := op(w); err != nil {
					if errs.Add(1) <= 3 {
						fmt.Fprintln(os.Stderr, "load: request failed:", err)
					}
					continue
				}
				mine = append(mine, time.Since(start))
			}
			mu.Lock()
			all = append(all, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return all, errs.Load()
}

func report(c config, lat []time.Duration, errs int64, cpu, sig time.Duration) {
	slices.Sort(lat)
	pct := func(p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(p*float64(len(lat))))]
	}
	fmt.Printf("scenario=%s c=%d duration=%s requests=%d errors=%d req/s=%.0f p50=%s p95=%s p99=%s",
		c.scenario, c.conns, c.dur, len(lat), errs, float64(len(lat))/c.dur.Seconds(),
		pct(0.50).Round(10*time.Microsecond), pct(0.95).Round(10*time.Microsecond), pct(0.99).Round(10*time.Microsecond))
	if c.pid > 0 && len(lat) > 0 {
		per := cpu / time.Duration(len(lat))
		fmt.Printf(" server-cpu/request=%s", per.Round(time.Microsecond))
		if sig > 0 {
			fmt.Printf(" raw-rs256-cpu=%s cost=%.2f", sig.Round(time.Microsecond), float64(per)/float64(sig))
		}
	}
	fmt.Println()
}

// rawSignatureCPU is the CPU time of one raw RS256 signature (RSA-2048,
// PKCS #1 v1.5 over SHA-256 of a JWT-sized payload) in this process,
// measured for a second on one goroutine per core: the unit in which issue
// 15 states the refresh grant's cost ("cost" in the report).
func rawSignatureCPU() time.Duration {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return 0
	}
	digest := sha256.Sum256([]byte(strings.Repeat("p", 400)))
	var n atomic.Int64
	var wg sync.WaitGroup
	cpu0 := cpuTime(os.Getpid())
	deadline := time.Now().Add(time.Second)
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				if _, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, digest[:]); err != nil {
					return
				}
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	if n.Load() == 0 {
		return 0
	}
	return (cpuTime(os.Getpid()) - cpu0) / time.Duration(n.Load())
}

// cpuTime is the user+system CPU time of process pid (Linux /proc), 0 without one.
func cpuTime(pid int) time.Duration {
	if pid <= 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * (time.Second / 100) // USER_HZ is 100 on Linux
}

// worker is one connection's state.
type worker struct {
	c       config
	n       int
	hc      *http.Client
	refresh string
	access  string
	seq     int
}

func newWorker(c config, n int) *worker {
	return &worker{c: c, n: n, hc: &http.Client{Timeout: 30 * time.Second,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if req.URL.Host == "127.0.0.1:1" {
				return http.ErrUseLastResponse
			}
			return nil
		}}}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// api calls the REST API with the admin token and decodes the answer.
func api(c config, hc *http.Client, method, path string, body any, out any) error {
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+"/api/v1"+path, r)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.adminToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, raw)
	}
	if out != nil {
		return json.Unmarshal(raw, out)
	}
	return nil
}

// register creates the tool's confidential client.
func register(c config) (client, error) {
	var out struct {
		ClientID string `json:"client_id"`
		Secret   string `json:"client_secret"`
	}
	err := api(c, http.DefaultClient, "POST", "/clients", map[string]any{"client_id": "load-" + randomHex(4), "name": "Load test",
		"redirect_uris": []string{redirectURI}, "grant_types": []string{"authorization_code", "refresh_token", "client_credentials"},
		"id_token_signed_response_alg": c.alg}, &out)
	return client{id: out.ClientID, secret: out.Secret}, err
}

// token posts a token request and returns its answer.
func (w *worker) token(cl client, form url.Values) (map[string]any, error) {
	req, _ := http.NewRequest("POST", w.c.base+"/oauth/token", strings.NewReader(form.Encode()))
	req.SetBasicAuth(cl.id, cl.secret)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := w.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil || resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("token: %d %v %v", resp.StatusCode, m, err)
	}
	return m, nil
}

var nextRE = regexp.MustCompile(`name="next" value="([^"]*)"`)

// signIn signs in through /login with a fresh cookie jar, following next.
func (w *worker) signIn(next string) (*http.Response, error) {
	jar, _ := cookiejar.New(nil)
	w.hc.Jar = jar
	resp, err := w.hc.Get(w.c.base + "/login?next=" + url.QueryEscape(next))
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	return w.postLogin(next)
}

// postLogin posts the sign-in form with the form token of the worker's
// cookie jar.
func (w *worker) postLogin(next string) (*http.Response, error) {
	u, _ := url.Parse(w.c.base)
	csrf := ""
	for _, ck := range w.hc.Jar.Cookies(u) {
		if ck.Name == "opsiam_csrf" {
			csrf = ck.Value
		}
	}
	return w.hc.PostForm(w.c.base+"/login", url.Values{"username": {w.c.user}, "password": {w.c.password}, "csrf": {csrf}, "next": {next}})
}

// codeFlow runs the authorization code flow with PKCE, signing in, and
// returns the token answer.
func (w *worker) codeFlow(cl client) (map[string]any, error) {
	verifier := randomHex(32)
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{"client_id": {cl.id}, "redirect_uri": {redirectURI}, "response_type": {"code"}, "scope": {"openid profile email"},
		"state": {randomHex(8)}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
	jar, _ := cookiejar.New(nil)
	w.hc.Jar = jar
	resp, err := w.hc.Get(w.c.base + "/authorize?" + q.Encode())
	if err != nil {
		return nil, err
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := nextRE.FindSubmatch(page)
	if m == nil {
		return nil, fmt.Errorf("authorize: no sign-in form (%d)", resp.StatusCode)
	}
	resp, err = w.postLogin(strings.ReplaceAll(string(m[1]), "&amp;", "&"))
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if loc == nil || loc.Query().Get("code") == "" {
		return nil, fmt.Errorf("no code after sign-in (%d %s)", resp.StatusCode, resp.Header.Get("Location"))
	}
	return w.token(cl, url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")},
		"redirect_uri": {redirectURI}, "code_verifier": {verifier}})
}

// scenario returns one request of the chosen scenario.
func scenario(c config, cl client) (func(w *worker) error, error) {
	switch c.scenario {
	case "signin":
		return func(w *worker) error {
			resp, err := w.signIn("/account")
			if err != nil {
				return err
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("sign-in: %d", resp.StatusCode)
			}
			return nil
		}, nil
	case "authcode":
		return func(w *worker) error { _, err := w.codeFlow(cl); return err }, nil
	case "refresh":
		return func(w *worker) error {
			if w.refresh == "" {
				m, err := w.codeFlow(cl)
				if err != nil {
					return err
				}
				w.refresh, _ = m["refresh_token"].(string)
				return nil
			}
			m, err := w.token(cl, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {w.refresh}})
			if err != nil {
				w.refresh = ""
				return err
			}
			w.refresh, _ = m["refresh_token"].(string)
			return nil
		}, nil
	case "client-credentials":
		return func(w *worker) error {
			_, err := w.token(cl, url.Values{"grant_type": {"client_credentials"}})
			return err
		}, nil
	case "userinfo":
		return func(w *worker) error {
			if w.access == "" {
				m, err := w.codeFlow(cl)
				if err != nil {
					return err
				}
				w.access, _ = m["access_token"].(string)
				return nil
			}
			req, _ := http.NewRequest("GET", c.base+"/userinfo", nil)
			req.Header.Set("Authorization", "Bearer "+w.access)
			resp, err := w.hc.Do(req)
			if err != nil {
				return err
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				w.access = ""
				return fmt.Errorf("userinfo: %d", resp.StatusCode)
			}
			return nil
		}, nil
	case "admin":
		prefix := randomHex(3)
		return func(w *worker) error {
			w.seq++
			switch w.seq % 4 {
			case 0:
				return api(c, w.hc, "GET", "/users?limit=50", nil, nil)
			case 1:
				return api(c, w.hc, "GET", "/users?q=load", nil, nil)
			case 2:
				name := fmt.Sprintf("load%s%d-%d", prefix, w.n, w.seq)
				return api(c, w.hc, "POST", "/users", map[string]any{"username": name, "email": name + "@example.test",
					"first_name": "Load", "last_name": "Test"}, nil)
			default:
				var page struct {
					Items []struct {
						ID string `json:"id"`
					} `json:"items"`
				}
				if err := api(c, w.hc, "GET", "/users?q=load"+prefix+"&limit=1", nil, &page); err != nil || len(page.Items) == 0 {
					return err
				}
				return api(c, w.hc, "PATCH", "/users/"+page.Items[0].ID, map[string]any{"note": "updated " + strconv.Itoa(w.seq)}, nil)
			}
		}, nil
	}
	return nil, fmt.Errorf("unknown scenario %q", c.scenario)
}
