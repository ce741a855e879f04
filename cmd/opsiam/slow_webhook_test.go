package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestSlowWebhookDelaysOnlyItself is issue 14, item 5, through `opsiam
// serve`: one webhook endpoint takes 25 s per request, another answers at
// once; after 50 changes the fast endpoint and the mail target (the
// development mailbox's password-setup mails) have everything within
// seconds, while the slow one is still being served.
func TestSlowWebhookDelaysOnlyItself(t *testing.T) {
	var fast, slowStarted atomic.Int32
	stop := make(chan struct{})
	slowSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		slowStarted.Add(1)
		select {
		case <-time.After(25 * time.Second):
		case <-r.Context().Done():
		case <-stop:
		}
	}))
	defer slowSrv.Close()
	defer close(stop) // the slow endpoint lets go when the test ends
	fastSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.Header.Get("Content-Type"), "json") {
			fast.Add(1)
		}
	}))
	defer fastSrv.Close()
	dir := filepath.Join(t.TempDir(), "data")
	runWithEnv(t, nil, "migrate", "--data-dir", dir)
	admin := strings.TrimSpace(runCLI(t, dir, "", "", "token", "issue", "admin"))
	base, _ := startServer(t, nil, "--data-dir", dir)
	for _, u := range []string{slowSrv.URL, fastSrv.URL} {
		if code, r := do(t, "POST", base+"/api/v1/webhooks", admin, `{"url":"`+u+`/hook","event_types":["user.created"],"enabled":true}`); code != http.StatusCreated {
			t.Fatalf("webhook: %d %v", code, r)
		}
	}
	const n = 50
	for i := range n {
		body := fmt.Sprintf(`{"username":"u%02d","email":"u%02d@example.test","first_name":"F","last_name":"L"}`, i, i)
		if code, r := do(t, "POST", base+"/api/v1/users", admin, body); code != http.StatusCreated {
			t.Fatalf("user %d: %d %v", i, code, r)
		}
	}
	start := time.Now()
	mails := 0
	for time.Since(start) < 15*time.Second {
		resp, err := http.Get(base + "/dev/mail")
		if err != nil {
			t.Fatal(err)
		}
		page := readAll(t, resp)
		mails = strings.Count(page, "/password/setup?token=")
		if fast.Load() >= n && mails >= n {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if fast.Load() < n || mails < n {
		t.Fatalf("after %s: the fast endpoint got %d of %d events and the mailbox %d of %d mails (slow endpoint: %d requests begun)",
			time.Since(start).Round(time.Millisecond), fast.Load(), n, mails, n, slowStarted.Load())
	}
	if slowStarted.Load() == 0 {
		t.Fatal("the slow endpoint was never called")
	}
	t.Logf("fast endpoint and mailbox complete after %s", time.Since(start).Round(time.Millisecond))
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			return b.String()
		}
	}
}
