package health

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestProbes(t *testing.T) {
	var readyErr error
	mux := http.NewServeMux()
	(&Handler{Ready: func(context.Context) error { return readyErr }}).Mount(mux)
	tests := []struct {
		name     string
		path     string
		readyErr error
		want     int
	}{
		{"alive", "/healthz", nil, 200},
		{"alive while not ready", "/healthz", errors.New("db down"), 200},
		{"ready", "/readyz", nil, 200},
		{"not ready", "/readyz", errors.New("db down"), 503},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			readyErr = tc.readyErr
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, httptest.NewRequest("GET", tc.path, nil))
			if rec.Code != tc.want {
				t.Fatalf("GET %s = %d, want %d", tc.path, rec.Code, tc.want)
			}
		})
	}
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("POST", "/healthz", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Fatalf("POST /healthz = %d", rec.Code)
	}
}
