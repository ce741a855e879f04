package provision_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"opsiam/internal/provision"
	"opsiam/internal/store"
	"opsiam/internal/store/sqlstore"
	"opsiam/internal/store/sqlstore/sqltest"
)

// openSQLite opens a fresh migrated SQLite store.
func openSQLite(t testing.TB) *sqlstore.DB {
	t.Helper()
	return openDB(t, filepath.Join(t.TempDir(), "opsiam.db"))
}

// openPostgres opens a fresh migrated PostgreSQL schema (or skips).
func openPostgres(t testing.TB) *sqlstore.DB {
	t.Helper()
	return openDB(t, sqltest.Postgres(t))
}

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

// recorder is a Target that records what it receives and can be told to
// fail. It is our own interface's test double, not a stand-in for a
// dependency.
type recorder struct {
	name   string
	prefix string // handles topics with this prefix

	mu       sync.Mutex
	got      []store.Event
	failures map[string]int // event ID → failures left
	fail     error          // error returned while failures remain
	block    chan struct{}  // if set, Deliver waits for it
}

func (r *recorder) Name() string              { return r.name }
func (r *recorder) Handles(topic string) bool { return strings.HasPrefix(topic, r.prefix) }
func (r *recorder) Deliver(ctx context.Context, e store.Event) error {
	if r.block != nil {
		<-r.block
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failures[e.ID] > 0 {
		r.failures[e.ID]--
		return r.fail
	}
	r.got = append(r.got, e)
	return nil
}

func (r *recorder) topics() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, e := range r.got {
		out = append(out, e.Topic)
	}
	return out
}

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)} }

func enqueue(t testing.TB, s store.Store, topic, aggregate string) store.Event {
	t.Helper()
	e, err := s.Enqueue(context.Background(), store.Event{Topic: topic, Aggregate: aggregate})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func newWorker(s store.Deliveries, c *clock, cfg provision.Config, targets ...provision.Target) *provision.Worker {
	w := provision.NewWorker(s, cfg, nil, targets...)
	w.Now = c.Now
	w.Rand = func(n int64) int64 { return n - 1 } // the longest delay
	return w
}

func rounds(t *testing.T, w *provision.Worker, n int) {
	t.Helper()
	for range n {
		if _, err := w.Round(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

func TestWorkerDeliversToEveryTargetInOrder(t *testing.T) {
	db := openSQLite(t)
	c := newClock()
	gitlab := &recorder{name: "gitlab", prefix: "group."}
	mail := &recorder{name: "mail", prefix: "mail."}
	for i := range 5 {
		enqueue(t, db, fmt.Sprintf("group.e%d", i), "group:a")
		enqueue(t, db, fmt.Sprintf("mail.m%d", i), "user:1")
	}
	w := newWorker(db, c, provision.Config{Batch: 4}, gitlab, mail)
	rounds(t, w, 10)
	if got := strings.Join(gitlab.topics(), " "); got != "group.e0 group.e1 group.e2 group.e3 group.e4" {
		t.Fatalf("gitlab got %s", got)
	}
	if got := strings.Join(mail.topics(), " "); got != "mail.m0 mail.m1 mail.m2 mail.m3 mail.m4" {
		t.Fatalf("mail got %s", got)
	}
	counts, err := db.CountDeliveries(context.Background())
	if err != nil || counts[store.DeliveryDone] != 10 || len(counts) != 1 {
		t.Fatalf("counts %v %v", counts, err)
	}
}

func TestWorkerRetriesWithBackoffThenSucceeds(t *testing.T) {
	db := openSQLite(t)
	c := newClock()
	e := enqueue(t, db, "group.created", "group:a")
	enqueue(t, db, "group.member_added", "group:a")
	target := &recorder{name: "gitlab", prefix: "group.", failures: map[string]int{e.ID: 2}, fail: errors.New("503")}
	w := newWorker(db, c, provision.Config{BackoffBase: 10 * time.Second, MaxAttempts: 5}, target)

	rounds(t, w, 1) // attempt 1 fails: retry after 10s
	c.Add(9 * time.Second)
	rounds(t, w, 1)
	if len(target.topics()) != 0 {
		t.Fatal("delivered early")
	}
	d, err := db.GetDelivery(context.Background(), store.DeliveryKey{Seq: e.Seq, Target: "gitlab"})
	if err != nil || d.Attempts != 1 || d.LastError != "503" || !d.NextAttemptAt.Equal(c.Now().Add(time.Second)) {
		t.Fatalf("after first failure: %+v %v", d, err)
	}
	c.Add(time.Second)
	rounds(t, w, 1) // attempt 2 fails: retry after 20s
	c.Add(20 * time.Second)
	rounds(t, w, 3) // attempt 3 succeeds, then the member event follows
	if got := strings.Join(target.topics(), " "); got != "group.created group.member_added" {
		t.Fatalf("got %s", got)
	}
}

func TestWorkerBackoff(t *testing.T) {
	w := provision.NewWorker(nil, provision.Config{BackoffBase: time.Second, BackoffMax: time.Minute}, nil)
	w.Rand = func(n int64) int64 { return 0 }
	low := []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second}
	for i, want := range low {
		if got := w.Backoff(i + 1); got != want {
			t.Errorf("backoff(%d) low = %v, want %v", i+1, got, want)
		}
	}
	w.Rand = func(n int64) int64 { return n - 1 }
	if got := w.Backoff(3); got != 4*time.Second {
		t.Errorf("backoff(3) high = %v, want 4s", got)
	}
	if got := w.Backoff(40); got != time.Minute {
		t.Errorf("backoff(40) = %v, want the 1m cap", got)
	}
}

func TestWorkerDeadAfterMaxAttemptsAndReplay(t *testing.T) {
	ctx := context.Background()
	db := openSQLite(t)
	c := newClock()
	bad := enqueue(t, db, "group.created", "group:a")
	enqueue(t, db, "group.member_added", "group:a")
	target := &recorder{name: "gitlab", prefix: "group.", fail: errors.New("boom"), failures: map[string]int{bad.ID: 3}}
	w := newWorker(db, c, provision.Config{BackoffBase: time.Second, MaxAttempts: 3}, target)
	for range 3 {
		rounds(t, w, 1)
		c.Add(time.Hour)
	}
	d, err := db.GetDelivery(ctx, store.DeliveryKey{Seq: bad.Seq, Target: "gitlab"})
	if err != nil || d.State != store.DeliveryDead || d.Attempts != 3 {
		t.Fatalf("after 3 attempts: %+v %v", d, err)
	}
	if len(target.topics()) != 0 {
		t.Fatalf("delivered past a dead event: %v", target.topics())
	}
	svc := &provision.Outbox{Store: db, Now: c.Now, Nudge: w.Nudge}
	page, err := svc.List(ctx, store.DeliveryQuery{State: store.DeliveryDead})
	if err != nil || len(page.Items) != 1 {
		t.Fatalf("dead list: %+v %v", page, err)
	}
	if err := svc.Replay(ctx, provision.Actor{ID: "u1", Name: "admin"}, page.Items[0].Key()); err != nil {
		t.Fatal(err)
	}
	rounds(t, w, 3)
	if got := strings.Join(target.topics(), " "); got != "group.created group.member_added" {
		t.Fatalf("after replay: %s", got)
	}
	audit, err := db.ListAudit(ctx, store.AuditQuery{Action: "outbox.replay"})
	if err != nil || len(audit.Items) != 1 || audit.Items[0].ActorName != "admin" {
		t.Fatalf("audit of the replay: %+v %v", audit.Items, err)
	}
}

func TestWorkerPermanentErrorIsDeadAtOnce(t *testing.T) {
	db := openSQLite(t)
	c := newClock()
	e := enqueue(t, db, "group.created", "group:a")
	target := &recorder{name: "gitlab", prefix: "group.", failures: map[string]int{e.ID: 1},
		fail: fmt.Errorf("422 name invalid: %w", provision.ErrPermanent)}
	w := newWorker(db, c, provision.Config{MaxAttempts: 10}, target)
	rounds(t, w, 1)
	d, err := db.GetDelivery(context.Background(), store.DeliveryKey{Seq: e.Seq, Target: "gitlab"})
	if err != nil || d.State != store.DeliveryDead || d.Attempts != 1 {
		t.Fatalf("%+v %v", d, err)
	}
}

func TestWorkerUnknownTargetIsRetried(t *testing.T) {
	db := openSQLite(t)
	c := newClock()
	e := enqueue(t, db, "group.created", "group:a")
	// Another replica fanned the event out to "gitlab"; this worker has no such target.
	if _, err := db.FanOut(context.Background(), 10, func(store.Event) []string { return []string{"gitlab"} }, c.Now()); err != nil {
		t.Fatal(err)
	}
	w := newWorker(db, c, provision.Config{}, &recorder{name: "mail", prefix: "mail."})
	rounds(t, w, 1)
	d, err := db.GetDelivery(context.Background(), store.DeliveryKey{Seq: e.Seq, Target: "gitlab"})
	if err != nil || d.State != store.DeliveryPending || d.Attempts != 1 || !strings.Contains(d.LastError, "no target") {
		t.Fatalf("%+v %v", d, err)
	}
}

func TestWorkerRunNudgeAndDrain(t *testing.T) {
	db := openSQLite(t)
	target := &recorder{name: "hook", prefix: "", block: make(chan struct{})}
	w := provision.NewWorker(db, provision.Config{Poll: time.Hour}, nil, target)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	time.Sleep(50 * time.Millisecond) // the first round finds nothing; next poll in an hour
	e := enqueue(t, db, "user.created", "user:1")
	w.Nudge()
	// The delivery starts and blocks; cancel while it is in flight.
	deadline := time.Now().Add(5 * time.Second)
	for {
		d, err := db.GetDelivery(context.Background(), store.DeliveryKey{Seq: e.Seq, Target: "hook"})
		if err == nil && d.Attempts == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the nudge did not start a delivery")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	close(target.block)
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	d, err := db.GetDelivery(context.Background(), store.DeliveryKey{Seq: e.Seq, Target: "hook"})
	if err != nil || d.State != store.DeliveryDone {
		t.Fatalf("in-flight delivery not drained: %+v %v", d, err)
	}
}

func TestDeliveryID(t *testing.T) {
	k := store.DeliveryKey{Seq: 42, Target: "webhook:01ab"}
	got, ok := provision.ParseDeliveryID(provision.DeliveryID(k))
	if !ok || got != k {
		t.Fatalf("round trip: %+v %v", got, ok)
	}
	for _, bad := range []string{"", "42", "x:gitlab", "0:gitlab", "42:", ":gitlab", "-1:a"} {
		if _, ok := provision.ParseDeliveryID(bad); ok {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestWorkerPurge(t *testing.T) {
	db := openSQLite(t)
	c := newClock()
	enqueue(t, db, "group.created", "group:a")
	w := newWorker(db, c, provision.Config{Retention: time.Hour}, &recorder{name: "gitlab", prefix: "group."})
	rounds(t, w, 1)
	// Events carry the store's clock (now); purge as if two hours passed.
	w.Now = func() time.Time { return time.Now().Add(2 * time.Hour) }
	n, err := w.Purge(context.Background())
	if err != nil || n != 1 {
		t.Fatalf("purged %d, %v", n, err)
	}
	if c, _ := db.CountDeliveries(context.Background()); len(c) != 0 {
		t.Fatalf("deliveries left: %v", c)
	}
}

func TestOutboxDiscardLetsTheQueueGoOn(t *testing.T) {
	ctx := context.Background()
	db := openSQLite(t)
	c := newClock()
	bad := enqueue(t, db, "group.created", "group:a")
	enqueue(t, db, "group.member_added", "group:a")
	target := &recorder{name: "gitlab", prefix: "group.", failures: map[string]int{bad.ID: 1},
		fail: fmt.Errorf("clash: %w", provision.ErrPermanent)}
	w := newWorker(db, c, provision.Config{}, target)
	rounds(t, w, 2)
	svc := &provision.Outbox{Store: db, Now: c.Now}
	k := store.DeliveryKey{Seq: bad.Seq, Target: "gitlab"}
	if err := svc.Replay(ctx, provision.Actor{}, store.DeliveryKey{Seq: 999, Target: "gitlab"}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("replay of nothing: %v", err)
	}
	if err := svc.Discard(ctx, provision.Actor{Name: "admin"}, k); err != nil {
		t.Fatal(err)
	}
	if err := svc.Discard(ctx, provision.Actor{Name: "admin"}, k); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("discard twice: %v", err)
	}
	rounds(t, w, 2)
	if got := strings.Join(target.topics(), " "); got != "group.member_added" {
		t.Fatalf("after discard: %s", got)
	}
	counts, err := svc.Counts(ctx)
	if err != nil || counts[store.DeliveryDiscarded] != 1 || counts[store.DeliveryDone] != 1 {
		t.Fatalf("counts %v %v", counts, err)
	}
}

func FuzzParseDeliveryID(f *testing.F) {
	f.Add("42:webhook:01ab")
	f.Add(":")
	f.Fuzz(func(t *testing.T, id string) {
		k, ok := provision.ParseDeliveryID(id)
		if ok && provision.DeliveryID(k) != id {
			t.Fatalf("%q parsed to %+v, printed back as %q", id, k, provision.DeliveryID(k))
		}
	})
}

func TestNudgeOnCommit(t *testing.T) {
	ctx := context.Background()
	db := openSQLite(t)
	nudges := 0
	s := provision.NudgeOnCommit(db, func() { nudges++ })
	if err := s.InTx(ctx, func(tx store.Tx) error {
		_, err := tx.Enqueue(ctx, store.Event{Topic: "user.created", Aggregate: "user:1"})
		return err
	}); err != nil || nudges != 1 {
		t.Fatalf("commit with an event: %d nudges, %v", nudges, err)
	}
	boom := errors.New("boom")
	_ = s.InTx(ctx, func(tx store.Tx) error {
		_, _ = tx.Enqueue(ctx, store.Event{Topic: "user.created", Aggregate: "user:1"})
		return boom
	})
	_ = s.InTx(ctx, func(tx store.Tx) error { _, err := tx.ListWebhooks(ctx); return err })
	if nudges != 1 {
		t.Fatalf("rollback or no event nudged: %d", nudges)
	}
	if _, err := s.Enqueue(ctx, store.Event{Topic: "x", Aggregate: "y"}); err != nil || nudges != 2 {
		t.Fatalf("enqueue outside a transaction: %d nudges, %v", nudges, err)
	}
}

func TestDeliveryView(t *testing.T) {
	d := store.Delivery{Event: store.Event{Seq: 7, ID: "ev", Topic: "group.created", Aggregate: "group:1",
		Payload: []byte(`{"name":"ops"}`)}, Target: "gitlab", State: store.DeliveryDead, Attempts: 3, LastError: "boom"}
	b, err := json.Marshal(provision.View(d))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"id":"7:gitlab","event_id":"ev","topic":"group.created","aggregate":"group:1","target":"gitlab","state":"dead",` +
		`"attempts":3,"last_error":"boom","payload":{"name":"ops"},"created_at":"0001-01-01T00:00:00Z","updated_at":"0001-01-01T00:00:00Z"}`
	if string(b) != want {
		t.Fatalf("got  %s\nwant %s", b, want)
	}
}
