package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"opsiam/internal/testenv"
)

// syncBuffer is a bytes.Buffer safe for the server goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var servingRE = regexp.MustCompile(`serving on (http://\S+)`)

// startServer runs `opsiam serve` with args until the test ends and returns
// its base URL and what it printed to stdout.
func startServer(t *testing.T, env map[string]string, args ...string) (string, *syncBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut syncBuffer
	done := make(chan error, 1)
	getenv := func(k string) string { return env[k] }
	go func() {
		done <- run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...), getenv, strings.NewReader(""), &out, &errOut)
	}()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", errOut.String())
		}
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve returned %v after shutdown", err)
			}
		case <-time.After(20 * time.Second):
			t.Error("serve did not shut down")
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if m := servingRE.FindStringSubmatch(out.String()); m != nil {
			return m[1], &out
		}
		select {
		case err := <-done:
			t.Fatalf("serve stopped: %v\n%s", err, errOut.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("server did not start; stderr:\n%s", errOut.String())
	return "", nil
}

func get(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

var passwordRE = regexp.MustCompile(`shown only this once:\s+(\S+)`)

func TestServeFirstAndSecondStart(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	// Each sub-test's cleanup stops its server before the next one starts.
	t.Run("first start", func(t *testing.T) {
		base, out := startServer(t, nil, "--data-dir", dir)
		if code := get(t, base+"/healthz"); code != 200 {
			t.Fatalf("/healthz = %d", code)
		}
		if code := get(t, base+"/readyz"); code != 200 {
			t.Fatalf("/readyz = %d", code)
		}
		m := passwordRE.FindStringSubmatch(out.String())
		if m == nil || len(m[1]) < 16 {
			t.Fatalf("first start printed no admin password:\n%s", out.String())
		}
	})
	t.Run("second start", func(t *testing.T) {
		base, out := startServer(t, nil, "--data-dir", dir)
		if code := get(t, base+"/healthz"); code != 200 {
			t.Fatalf("/healthz = %d", code)
		}
		if strings.Contains(out.String(), "password") {
			t.Fatalf("second start printed a password:\n%s", out.String())
		}
	})
}

func TestServeAdminPasswordFromEnvironment(t *testing.T) {
	env := map[string]string{"OPSIAM_ADMIN_PASSWORD": "a long admin secret", "OPSIAM_DATA_DIR": t.TempDir()}
	_, out := startServer(t, env)
	if strings.Contains(out.String(), "password") {
		t.Fatalf("printed a password although OPSIAM_ADMIN_PASSWORD was set:\n%s", out.String())
	}
}

func TestServePostgres(t *testing.T) {
	dsn := testenv.PostgresSchema(t)
	// Every replica on PostgreSQL needs the same key-encryption key.
	base, out := startServer(t, map[string]string{"OPSIAM_KEY_ENCRYPTION_KEY": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="}, "--database", dsn)
	if code := get(t, base+"/readyz"); code != 200 {
		t.Fatalf("/readyz = %d", code)
	}
	if passwordRE.FindStringSubmatch(out.String()) == nil {
		t.Fatalf("no admin password on first start:\n%s", out.String())
	}
}

func TestRunRejectsBadInput(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no command", nil, "no command"},
		{"unknown command", []string{"fly"}, "unknown command"},
		{"bad addr", []string{"serve", "--addr", "nowhere"}, "addr"},
		{"http issuer on a public host", []string{"serve", "--addr", "127.0.0.1:0", "--data-dir", "DATADIR", "--issuer", "http://id.example"}, "--insecure-issuer"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			for i, a := range tc.args {
				if a == "DATADIR" {
					tc.args[i] = t.TempDir()
				}
			}
			err := run(context.Background(), tc.args, func(string) string { return "" }, strings.NewReader(""), &out, &errOut)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("run(%v) = %v, want an error mentioning %q", tc.args, err, tc.want)
			}
		})
	}
}

// TestServeMetrics: GET /metrics (SPEC §7) answers in the Prometheus text
// format with request counters and the outbox gauge.
func TestServeMetrics(t *testing.T) {
	base, _ := startServer(t, nil, "--data-dir", t.TempDir())
	get(t, base+"/healthz")
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("/metrics = %d", resp.StatusCode)
	}
	for _, want := range []string{`opsiam_http_requests_total{method="GET",code="2xx"}`, "# TYPE opsiam_outbox_deliveries gauge", "opsiam_scrape_errors 0"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q:\n%s", want, body)
		}
	}
}

// TestFirstStartBusyPort: a first start that cannot listen creates no
// database, so the one-time admin password is not lost; the next start
// prints it once it listens. --addr with a port alone works, and the
// issuer names localhost (issue 17, point 3).
func TestFirstStartBusyPort(t *testing.T) {
	dir := t.TempDir()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	var out, errOut bytes.Buffer
	err = run(context.Background(), []string{"serve", "--addr", busy.Addr().String(), "--data-dir", dir}, func(string) string { return "" },
		strings.NewReader(""), &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "address already in use") {
		t.Fatalf("serve on a busy port: %v", err)
	}
	if strings.Contains(out.String(), "password") {
		t.Fatalf("a start that failed printed the admin password: %q", out.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "opsiam.db")); err == nil {
		t.Fatal("a start that could not listen created the database")
	}
	base, stdout := startServer(t, nil, "--data-dir", dir, "--addr", ":0")
	text := stdout.String()
	pw := regexp.MustCompile(`shown only this once:\n\n    (\S+)\n`).FindStringSubmatch(text)
	if pw == nil {
		t.Fatalf("first start output: %q", text)
	}
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(base, "http://"))
	var disc struct{ Issuer string }
	res, err := http.Get("http://127.0.0.1:" + port + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	json.NewDecoder(res.Body).Decode(&disc)
	if disc.Issuer != "http://localhost:"+port {
		t.Fatalf("issuer with --addr :0 = %q, want http://localhost:%s", disc.Issuer, port)
	}
}
