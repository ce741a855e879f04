package webhook_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"opsiam/internal/provision"
	"opsiam/internal/provision/webhook"
	"opsiam/internal/store"
	"opsiam/internal/store/sqlstore"
	"opsiam/internal/store/sqlstore/sqltest"
)

// BenchmarkWebhookDelivery measures events delivered per second from the
// PostgreSQL outbox to a local receiver that verifies every signature
// (issue 8, acceptance 4). Events are spread over `aggregates` aggregates:
// events of one aggregate go one at a time, in order.
func BenchmarkWebhookDelivery(b *testing.B) {
	for _, aggregates := range []int{10000, 100} {
		b.Run(fmt.Sprintf("aggregates=%d", aggregates), func(b *testing.B) {
			benchDelivery(b, openDB(b, sqltest.Postgres(b)), aggregates)
		})
	}
	// The embedded default, for comparison.
	b.Run("sqlite/aggregates=10000", func(b *testing.B) { benchDelivery(b, sqlite(b), 10000) })
}

func benchDelivery(b *testing.B, db *sqlstore.DB, aggregates int) {
	ctx := context.Background()
	var got atomic.Int64
	var secret atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := webhook.Verify(secret.Load().(string), r.Header, body, time.Now(), 0); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		got.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	ep, err := (&webhook.Service{Store: db, Now: time.Now}).Create(ctx, admin,
		webhook.Input{URL: srv.URL, EventTypes: []string{"*"}, Enabled: true})
	if err != nil {
		b.Fatal(err)
	}
	secret.Store(ep.Secret)
	payload := json.RawMessage(`{"group_id":"g1","group_name":"ops","user_id":"u1","username":"alice"}`)
	for i := 0; i < b.N; i += 1000 {
		err := db.InTx(ctx, func(tx store.Tx) error {
			for j := i; j < min(i+1000, b.N); j++ {
				if _, err := tx.Enqueue(ctx, store.Event{Topic: "group.member_added",
					Aggregate: fmt.Sprintf("group:%d", j%aggregates), Payload: payload}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	w := provision.NewWorker(db, provision.Config{Poll: 10 * time.Millisecond}, nil)
	w.Sources = []provision.TargetSource{webhook.NewSource(db)}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	b.ResetTimer()
	start := time.Now()
	go func() { done <- w.Run(runCtx) }()
	for got.Load() < int64(b.N) {
		time.Sleep(time.Millisecond)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	cancel()
	<-done
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
}
