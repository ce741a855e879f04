package metrics

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestMetrics(t *testing.T) {
	reg := &Registry{Start: time.Now().Add(-time.Minute), Gauges: []Gauge{
		{Name: "opsiam_outbox_deliveries", Help: "Deliveries by state.", Sample: func(context.Context) ([]Sample, error) {
			return []Sample{{Labels: [][2]string{{"state", "dead"}}, Value: 2}, {Labels: [][2]string{{"state", `we"ird`}}, Value: 1}}, nil
		}},
		{Name: "opsiam_broken", Help: "Fails.", Sample: func(context.Context) ([]Sample, error) { return nil, errors.New("db down") }},
	}}
	app := reg.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/missing" {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte("ok"))
	}))
	for _, p := range []string{"/a", "/b", "/missing"} {
		app.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", p, nil))
	}
	app.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("BREW", "/", nil))

	rec := httptest.NewRecorder()
	reg.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Fatalf("content type %q", ct)
	}
	for _, want := range []string{
		"# TYPE opsiam_http_requests_total counter\n",
		`opsiam_http_requests_total{method="GET",code="2xx"} 2` + "\n",
		`opsiam_http_requests_total{method="GET",code="4xx"} 1` + "\n",
		`opsiam_http_requests_total{method="other",code="2xx"} 1` + "\n",
		`opsiam_outbox_deliveries{state="dead"} 2` + "\n",
		`opsiam_outbox_deliveries{state="we\"ird"} 1` + "\n",
		"opsiam_scrape_errors 1\n",
		"# TYPE go_goroutines gauge\n",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, "opsiam_broken ") {
		t.Error("a failed gauge was written")
	}
	for _, line := range strings.Split(strings.TrimSpace(body), "\n") {
		if !strings.HasPrefix(line, "#") && len(strings.Fields(line)) != 2 {
			t.Errorf("malformed sample line %q", line)
		}
	}
}
