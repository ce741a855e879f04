// Package metrics serves GET /metrics (SPEC §7, O3) in the Prometheus text
// exposition format (version 0.0.4), written with the standard library: a
// few request counters kept by a middleware, and gauges read when the
// endpoint is scraped (outbox deliveries by state, Go runtime figures).
//
// It keeps no global state: a Registry is built in cmd/opsiam and handed to
// the middleware and the handler.
package metrics

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Gauge is a value read at scrape time, with optional labels.
type Gauge struct {
	Name   string
	Help   string
	Sample func(ctx context.Context) ([]Sample, error)
}

// Sample is one value of a gauge; Labels are name/value pairs.
type Sample struct {
	Labels [][2]string
	Value  float64
}

// Registry holds the request counters and the gauges of one process.
type Registry struct {
	Start  time.Time
	Gauges []Gauge

	mu       sync.Mutex
	requests map[requestKey]*requestStat
}

type requestKey struct {
	method string
	class  string // status class: 2xx, 3xx, 4xx, 5xx
}

type requestStat struct {
	count   uint64
	seconds float64
}

// Middleware counts every request by method and status class, with the
// time spent serving it.
func (reg *Registry) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		reg.observe(r.Method, sw.status, time.Since(start))
	})
}

func (reg *Registry) observe(method string, status int, d time.Duration) {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions:
	default:
		method = "other" // bounded label values
	}
	k := requestKey{method: method, class: strconv.Itoa(status/100) + "xx"}
	reg.mu.Lock()
	defer reg.mu.Unlock()
	if reg.requests == nil {
		reg.requests = map[requestKey]*requestStat{}
	}
	s := reg.requests[k]
	if s == nil {
		s = &requestStat{}
		reg.requests[k] = s
	}
	s.count++
	s.seconds += d.Seconds()
}

// statusWriter remembers the status code a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer (flush).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// ServeHTTP writes every metric in the text exposition format. A gauge
// that fails to sample is left out and counted in opsiam_scrape_errors.
func (reg *Registry) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	var b strings.Builder
	reg.writeRequests(&b)
	errs := 0
	for _, g := range reg.Gauges {
		samples, err := g.Sample(r.Context())
		if err != nil {
			errs++
			continue
		}
		writeFamily(&b, g.Name, g.Help, "gauge", samples)
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	writeFamily(&b, "opsiam_uptime_seconds", "Seconds since the process started.", "gauge",
		[]Sample{{Value: time.Since(reg.Start).Seconds()}})
	writeFamily(&b, "go_goroutines", "Number of goroutines.", "gauge", []Sample{{Value: float64(runtime.NumGoroutine())}})
	writeFamily(&b, "go_memstats_heap_alloc_bytes", "Bytes of allocated heap objects.", "gauge", []Sample{{Value: float64(ms.HeapAlloc)}})
	writeFamily(&b, "opsiam_scrape_errors", "Gauges that could not be sampled in this scrape.", "gauge", []Sample{{Value: float64(errs)}})
	io.WriteString(w, b.String())
}

func (reg *Registry) writeRequests(b *strings.Builder) {
	reg.mu.Lock()
	keys := make([]requestKey, 0, len(reg.requests))
	for k := range reg.requests {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		return keys[i].method+keys[i].class < keys[j].method+keys[j].class
	})
	counts := make([]Sample, len(keys))
	secs := make([]Sample, len(keys))
	for i, k := range keys {
		labels := [][2]string{{"method", k.method}, {"code", k.class}}
		counts[i] = Sample{Labels: labels, Value: float64(reg.requests[k].count)}
		secs[i] = Sample{Labels: labels, Value: reg.requests[k].seconds}
	}
	reg.mu.Unlock()
	writeFamily(b, "opsiam_http_requests_total", "HTTP requests served, by method and status class.", "counter", counts)
	writeFamily(b, "opsiam_http_request_seconds_total", "Time spent serving HTTP requests, by method and status class.", "counter", secs)
}

func writeFamily(b *strings.Builder, name, help, typ string, samples []Sample) {
	fmt.Fprintf(b, "# HELP %s %s\n# TYPE %s %s\n", name, escapeHelp(help), name, typ)
	for _, s := range samples {
		b.WriteString(name)
		if len(s.Labels) > 0 {
			b.WriteByte('{')
			for i, l := range s.Labels {
				if i > 0 {
					b.WriteByte(',')
				}
				fmt.Fprintf(b, "%s=\"%s\"", l[0], escapeLabel(l[1]))
			}
			b.WriteByte('}')
		}
		b.WriteByte(' ')
		b.WriteString(strconv.FormatFloat(s.Value, 'g', -1, 64))
		b.WriteByte('\n')
	}
}

func escapeHelp(s string) string {
	return strings.NewReplacer(`\`, `\\`, "\n", `\n`).Replace(s)
}

func escapeLabel(s string) string {
	return strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`).Replace(s)
}
