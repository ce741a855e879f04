package webhook_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"opsiam/internal/directory"
	"opsiam/internal/provision"
	"opsiam/internal/provision/webhook"
	"opsiam/internal/store"
	"opsiam/internal/store/sqlstore"
	"opsiam/internal/store/sqlstore/sqltest"
)

func openDB(t testing.TB, dsn string) *sqlstore.DB {
	t.Helper()
	db, err := sqlstore.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db
}

func sqlite(t testing.TB) *sqlstore.DB { return openDB(t, filepath.Join(t.TempDir(), "opsiam.db")) }

// receiver is a webhook receiver as an application would write it: it
// verifies every request with webhook.Verify and records messages by id.
type receiver struct {
	secret string
	fail   int // answer this many requests with 503 first

	mu       sync.Mutex
	ids      []string
	msgs     map[string]webhook.Message
	requests int
	bad      int
}

func (r *receiver) setSecret(s string) { r.mu.Lock(); r.secret = s; r.mu.Unlock() }

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests++
	if err := webhook.Verify(r.secret, req.Header, body, time.Now(), 0); err != nil {
		r.bad++
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	if r.fail > 0 {
		r.fail--
		http.Error(w, "busy", http.StatusServiceUnavailable)
		return
	}
	var m webhook.Message
	if err := json.Unmarshal(body, &m); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if r.msgs == nil {
		r.msgs = map[string]webhook.Message{}
	}
	r.ids = append(r.ids, req.Header.Get(webhook.HeaderID))
	r.msgs[req.Header.Get(webhook.HeaderID)] = m
	w.WriteHeader(http.StatusNoContent)
}

func (r *receiver) count() int { r.mu.Lock(); defer r.mu.Unlock(); return len(r.ids) }

var admin = provision.Actor{ID: "u-admin", Name: "admin", Source: "127.0.0.1"}

func TestServiceCRUD(t *testing.T) {
	ctx := context.Background()
	db := sqlite(t)
	svc := &webhook.Service{Store: db, Now: time.Now}
	w, err := svc.Create(ctx, admin, webhook.Input{URL: "https://itsm.example/hook", EventTypes: []string{"user.*"}, Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(w.Secret, "whsec_") || w.ID == "" {
		t.Fatalf("created without a secret to show: %+v", w)
	}
	got, err := svc.Get(ctx, w.ID)
	if err != nil || got.Secret != "" || got.URL != w.URL {
		t.Fatalf("get must not show the secret: %+v %v", got, err)
	}
	list, err := svc.List(ctx)
	if err != nil || len(list) != 1 || list[0].Secret != "" {
		t.Fatalf("list: %+v %v", list, err)
	}
	up, err := svc.Update(ctx, admin, w.ID, webhook.Input{URL: "https://itsm.example/v2", EventTypes: []string{"*"}})
	if err != nil || up.URL != "https://itsm.example/v2" || up.Enabled || up.Secret != "" {
		t.Fatalf("update: %+v %v", up, err)
	}
	stored, _ := db.GetWebhook(ctx, w.ID)
	if stored.Secret != w.Secret {
		t.Fatal("update changed the secret")
	}
	secret, err := svc.RotateSecret(ctx, admin, w.ID)
	if stored, _ = db.GetWebhook(ctx, w.ID); err != nil || secret == w.Secret || stored.Secret != secret {
		t.Fatalf("rotate: %v", err)
	}
	if err := svc.Delete(ctx, admin, w.ID); err != nil {
		t.Fatal(err)
	}
	if err := svc.Delete(ctx, admin, w.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("delete twice: %v", err)
	}
	if _, err := svc.Update(ctx, admin, "nope", webhook.Input{URL: "https://x.example", EventTypes: []string{"*"}}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("update of a missing endpoint: %v", err)
	}
	audit, err := db.ListAudit(ctx, store.AuditQuery{TargetID: w.ID, Limit: 10})
	if err != nil || len(audit.Items) != 4 {
		t.Fatalf("audit: %d records, %v", len(audit.Items), err)
	}
	for _, r := range audit.Items {
		if strings.Contains(string(r.Before)+string(r.After), "whsec_") {
			t.Fatalf("audit record %s holds a secret", r.Action)
		}
	}
}

func TestInputValidation(t *testing.T) {
	tests := []struct {
		name   string
		in     webhook.Input
		fields []string
	}{
		{"ok", webhook.Input{URL: "http://127.0.0.1:9/x", EventTypes: []string{"group.member_added", "user.*", "*"}}, nil},
		{"empty", webhook.Input{}, []string{"url", "event_types"}},
		{"ftp", webhook.Input{URL: "ftp://x.example", EventTypes: []string{"*"}}, []string{"url"}},
		{"relative", webhook.Input{URL: "/hook", EventTypes: []string{"*"}}, []string{"url"}},
		{"user info", webhook.Input{URL: "https://a:b@x.example", EventTypes: []string{"*"}}, []string{"url"}},
		{"bad type", webhook.Input{URL: "https://x.example", EventTypes: []string{"User Created"}}, []string{"event_types"}},
		{"long description", webhook.Input{URL: "https://x.example", EventTypes: []string{"*"}, Description: strings.Repeat("あ", 256)}, []string{"description"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.in.Validate()
			var fe directory.FieldErrors
			if tc.fields == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.As(err, &fe) {
				t.Fatalf("got %v, want field errors", err)
			}
			var got []string
			for _, f := range fe {
				got = append(got, f.Field)
			}
			if strings.Join(got, ",") != strings.Join(tc.fields, ",") {
				t.Fatalf("fields %v, want %v", got, tc.fields)
			}
		})
	}
}

func TestDeliverStatuses(t *testing.T) {
	var code int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(code) }))
	defer srv.Close()
	ep := &webhook.Endpoint{E: store.WebhookEndpoint{ID: "1", URL: srv.URL, Secret: webhook.NewSecret()}, Client: webhook.NewClient()}
	e := store.Event{ID: "ev1", Topic: "user.created", Payload: json.RawMessage(`{"user_id":"u1"}`)}
	for _, tc := range []struct {
		code     int
		ok, perm bool
	}{{200, true, false}, {204, true, false}, {500, false, false}, {429, false, false}, {410, false, true}, {302, false, false}} {
		code = tc.code
		err := ep.Deliver(context.Background(), e)
		if (err == nil) != tc.ok || errors.Is(err, provision.ErrPermanent) != tc.perm {
			t.Errorf("status %d: %v", tc.code, err)
		}
	}
}

// TestWorkerDeliversSignedWebhooks runs the worker with the database
// source: endpoints are read from the store, each receives only its event
// types, every message verifies, and a receiver that fails for a while
// gets each event exactly once after it recovers.
func TestWorkerDeliversSignedWebhooks(t *testing.T) {
	for _, tc := range []struct {
		name string
		open func(t testing.TB) *sqlstore.DB
	}{
		{"SQLite", sqlite},
		{"Postgres", func(t testing.TB) *sqlstore.DB { return openDB(t, sqltest.Postgres(t)) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			db := tc.open(t)
			itsm := &receiver{fail: 5}
			docs := &receiver{}
			itsmSrv, docsSrv := httptest.NewServer(itsm), httptest.NewServer(docs)
			defer itsmSrv.Close()
			defer docsSrv.Close()
			svc := &webhook.Service{Store: db, Now: time.Now}
			a, err := svc.Create(ctx, admin, webhook.Input{URL: itsmSrv.URL, EventTypes: []string{"user.*"}, Enabled: true})
			if err != nil {
				t.Fatal(err)
			}
			b, err := svc.Create(ctx, admin, webhook.Input{URL: docsSrv.URL, EventTypes: []string{"*"}, Enabled: true})
			if err != nil {
				t.Fatal(err)
			}
			itsm.setSecret(a.Secret)
			docs.setSecret(b.Secret)
			var userEvents []string
			for i := range 20 {
				topic := "group.member_added"
				if i%2 == 0 {
					topic = "user.updated"
				}
				e, err := db.Enqueue(ctx, store.Event{Topic: topic, Aggregate: "user:1", Payload: json.RawMessage(`{"user_id":"1"}`)})
				if err != nil {
					t.Fatal(err)
				}
				if topic == "user.updated" {
					userEvents = append(userEvents, e.ID)
				}
			}
			w := provision.NewWorker(db, provision.Config{Poll: 5 * time.Millisecond, BackoffBase: 5 * time.Millisecond,
				BackoffMax: 10 * time.Millisecond, MaxAttempts: 20}, nil)
			w.Sources = []provision.TargetSource{webhook.NewSource(db)}
			runCtx, cancel := context.WithCancel(ctx)
			done := make(chan error, 1)
			go func() { done <- w.Run(runCtx) }()
			deadline := time.Now().Add(20 * time.Second)
			for itsm.count() < 10 || docs.count() < 20 {
				if time.Now().After(deadline) {
					t.Fatalf("itsm got %d of 10, docs %d of 20", itsm.count(), docs.count())
				}
				time.Sleep(10 * time.Millisecond)
			}
			cancel()
			<-done
			if strings.Join(itsm.ids, ",") != strings.Join(userEvents, ",") {
				t.Fatalf("itsm got %v\nwant %v in order, once each", itsm.ids, userEvents)
			}
			if docs.count() != 20 || itsm.bad+docs.bad != 0 {
				t.Fatalf("docs got %d; %d unverifiable requests", docs.count(), itsm.bad+docs.bad)
			}
			if m := itsm.msgs[userEvents[0]]; m.Type != "user.updated" || string(m.Data) != `{"user_id":"1"}` || m.Timestamp.IsZero() {
				t.Fatalf("message: %+v", m)
			}
		})
	}
}

func TestViewShowsTheSecretOnlyWhenAsked(t *testing.T) {
	w := store.WebhookEndpoint{ID: "1", URL: "https://x.example", Secret: "whsec_abc", EventTypes: []string{"*"}}
	b, _ := json.Marshal(webhook.View(w, false))
	if strings.Contains(string(b), "whsec_") || !strings.Contains(string(b), `"event_types":["*"]`) {
		t.Fatalf("read view: %s", b)
	}
	b, _ = json.Marshal(webhook.View(w, true))
	if !strings.Contains(string(b), `"secret":"whsec_abc"`) {
		t.Fatalf("create view: %s", b)
	}
}
