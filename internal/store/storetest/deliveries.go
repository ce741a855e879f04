package storetest

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"opsiam/internal/store"
)

// t0 is the fixed clock of the delivery tests.
var t0 = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

func enqueue(t *testing.T, s store.Store, topic, aggregate string) store.Event {
	t.Helper()
	e, err := s.Enqueue(context.Background(), store.Event{Topic: topic, Aggregate: aggregate})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// toAll fans every event out to the given targets.
func toAll(targets ...string) func(store.Event) []string {
	return func(store.Event) []string { return targets }
}

func claim(t *testing.T, s store.Store, worker string, now time.Time, limit int) []store.Delivery {
	t.Helper()
	ds, err := s.ClaimDeliveries(context.Background(), store.Claim{Worker: worker, Now: now, LeaseUntil: now.Add(time.Minute), Limit: limit})
	if err != nil {
		t.Fatalf("claim: %v", err)
	}
	return ds
}

func keys(ds []store.Delivery) string {
	out := ""
	for _, d := range ds {
		out += fmt.Sprintf("%s/%s ", d.Event.Topic, d.Target)
	}
	return out
}

func settle(t *testing.T, s store.Store, ss ...store.Settle) int {
	t.Helper()
	n, err := s.SettleDeliveries(context.Background(), ss)
	if err != nil {
		t.Fatalf("settle: %v", err)
	}
	return n
}

func ok(d store.Delivery, now time.Time) store.Settle { return store.Settle{Delivery: d, Now: now} }

func testDeliveries(t *testing.T, open Factory) {
	ctx := context.Background()

	t.Run("fan out once per target", func(t *testing.T) {
		s := open(t)
		a := enqueue(t, s, "group.created", "group:a")
		enqueue(t, s, "mail.x", "user:1")
		targets := func(e store.Event) []string {
			if e.Topic == "mail.x" {
				return nil // nobody handles it: dispatched without deliveries
			}
			return []string{"gitlab", "webhook:1"}
		}
		n, err := s.FanOut(ctx, 10, targets, t0)
		if err != nil || n != 2 {
			t.Fatalf("fan out = %d, %v; want 2 events", n, err)
		}
		if n, err := s.FanOut(ctx, 10, targets, t0); err != nil || n != 0 {
			t.Fatalf("second fan out = %d, %v; want 0", n, err)
		}
		p, err := s.ListDeliveries(ctx, store.DeliveryQuery{})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Items) != 2 || p.Items[0].Target != "gitlab" || p.Items[1].Target != "webhook:1" {
			t.Fatalf("deliveries: %+v", p.Items)
		}
		d := p.Items[0]
		if d.State != store.DeliveryPending || d.Event.ID != a.ID || d.Event.Topic != a.Topic || d.Attempts != 0 ||
			string(d.Event.Payload) != "{}" || !d.CreatedAt.Equal(t0) {
			t.Fatalf("delivery: %+v", d)
		}
	})

	t.Run("order per aggregate and target", func(t *testing.T) {
		s := open(t)
		enqueue(t, s, "a1", "group:a")
		enqueue(t, s, "a2", "group:a")
		enqueue(t, s, "b1", "group:b")
		if _, err := s.FanOut(ctx, 10, toAll("t1", "t2"), t0); err != nil {
			t.Fatal(err)
		}
		got := claim(t, s, "w1", t0, 10)
		if keys(got) != "a1/t1 a1/t2 b1/t1 b1/t2 " {
			t.Fatalf("first claim: %s; want only the heads of each aggregate and target", keys(got))
		}
		if got[0].Attempts != 1 || got[0].ClaimedBy != "w1" || !got[0].LeaseUntil.Equal(t0.Add(time.Minute)) {
			t.Fatalf("claimed delivery: %+v", got[0])
		}
		if again := claim(t, s, "w2", t0, 10); len(again) != 0 {
			t.Fatalf("leased deliveries claimed again: %s", keys(again))
		}
		// a1 done for t1 only: a2 may go to t1, not to t2.
		if n := settle(t, s, ok(got[0], t0)); n != 1 {
			t.Fatalf("settle = %d", n)
		}
		if next := claim(t, s, "w1", t0, 10); keys(next) != "a2/t1 " {
			t.Fatalf("after a1/t1 done: %s", keys(next))
		}
	})

	t.Run("claim next along one aggregate", func(t *testing.T) {
		s := open(t)
		enqueue(t, s, "a1", "group:a")
		enqueue(t, s, "b1", "group:b")
		enqueue(t, s, "a2", "group:a")
		enqueue(t, s, "a3", "group:a")
		if _, err := s.FanOut(ctx, 10, toAll("t"), t0); err != nil {
			t.Fatal(err)
		}
		heads := claim(t, s, "w", t0, 1)
		c := store.Claim{Worker: "w", Now: t0, LeaseUntil: t0.Add(time.Minute)}
		stale := heads[0]
		stale.ClaimedBy = "other"
		if _, found, err := s.ClaimNext(ctx, c, ok(stale, t0)); found || err != nil {
			t.Fatalf("a settle of a lost claim went on: %v %v", found, err)
		}
		if d, _ := s.GetDelivery(ctx, heads[0].Key()); d.State != store.DeliveryPending {
			t.Fatalf("a lost claim was settled: %+v", d)
		}
		next, found, err := s.ClaimNext(ctx, c, ok(heads[0], t0))
		if err != nil || !found || next.Event.Topic != "a2" || next.Attempts != 1 || next.ClaimedBy != "w" {
			t.Fatalf("claim next: %+v %v %v", next, found, err)
		}
		if d, _ := s.GetDelivery(ctx, heads[0].Key()); d.State != store.DeliveryDone {
			t.Fatalf("the head was not settled: %+v", d)
		}
		// a2 waits for a retry: nothing follows it now.
		failed := store.Settle{Delivery: next, Err: "503", RetryAt: t0.Add(time.Hour), Now: t0}
		settle(t, s, failed)
		b1 := claim(t, s, "w", t0, 10)
		if keys(b1) != "b1/t " {
			t.Fatalf("other aggregates: %s", keys(b1))
		}
		settle(t, s, ok(b1[0], t0))
		later := t0.Add(2 * time.Hour)
		a2 := claim(t, s, "w", later, 10)
		if keys(a2) != "a2/t " {
			t.Fatalf("a2 after its retry time: %s", keys(a2))
		}
		c.Now, c.LeaseUntil = later, later.Add(time.Minute)
		a3, found, err := s.ClaimNext(ctx, c, ok(a2[0], later))
		if err != nil || !found || a3.Event.Topic != "a3" {
			t.Fatalf("a3: %+v %v %v", a3, found, err)
		}
		if _, found, err := s.ClaimNext(ctx, c, ok(a3, later)); found || err != nil {
			t.Fatalf("claimed past the end of the queue: %v %v", found, err)
		}
	})

	t.Run("lease runs out", func(t *testing.T) {
		s := open(t)
		enqueue(t, s, "a1", "group:a")
		if _, err := s.FanOut(ctx, 10, toAll("t"), t0); err != nil {
			t.Fatal(err)
		}
		first := claim(t, s, "crashed", t0, 10)
		later := t0.Add(2 * time.Minute)
		taken := claim(t, s, "w2", later, 10)
		if len(first) != 1 || len(taken) != 1 || taken[0].Attempts != 2 || taken[0].ClaimedBy != "w2" {
			t.Fatalf("take over: %+v", taken)
		}
		if n := settle(t, s, ok(first[0], later)); n != 0 {
			t.Fatal("the worker whose lease ran out settled a delivery another worker holds")
		}
		if n := settle(t, s, ok(taken[0], later)); n != 1 {
			t.Fatal("the new holder could not settle")
		}
		d, err := s.GetDelivery(ctx, taken[0].Key())
		if err != nil || d.State != store.DeliveryDone {
			t.Fatalf("after settle: %+v %v", d, err)
		}
	})

	t.Run("retry later", func(t *testing.T) {
		s := open(t)
		enqueue(t, s, "a1", "group:a")
		if _, err := s.FanOut(ctx, 10, toAll("t"), t0); err != nil {
			t.Fatal(err)
		}
		d := claim(t, s, "w", t0, 1)[0]
		retry := t0.Add(30 * time.Second)
		settle(t, s, store.Settle{Delivery: d, Err: "503 from target", RetryAt: retry, Now: t0})
		if got := claim(t, s, "w", retry.Add(-time.Millisecond), 1); len(got) != 0 {
			t.Fatal("claimed before its retry time")
		}
		got := claim(t, s, "w", retry, 1)
		if len(got) != 1 || got[0].Attempts != 2 || got[0].LastError != "503 from target" {
			t.Fatalf("retry: %+v", got)
		}
	})

	t.Run("dead holds its aggregate back until replayed or discarded", func(t *testing.T) {
		s := open(t)
		enqueue(t, s, "a1", "group:a")
		enqueue(t, s, "a2", "group:a")
		enqueue(t, s, "b1", "group:b")
		if _, err := s.FanOut(ctx, 10, toAll("t"), t0); err != nil {
			t.Fatal(err)
		}
		heads := claim(t, s, "w", t0, 10)
		settle(t, s, store.Settle{Delivery: heads[0], Err: "422 invalid", Dead: true, Now: t0}, ok(heads[1], t0))
		if got := claim(t, s, "w", t0.Add(time.Hour), 10); len(got) != 0 {
			t.Fatalf("a later event went past a dead one: %s", keys(got))
		}
		dead, err := s.ListDeliveries(ctx, store.DeliveryQuery{State: store.DeliveryDead})
		if err != nil || len(dead.Items) != 1 || dead.Items[0].Event.Topic != "a1" || dead.Items[0].LastError != "422 invalid" {
			t.Fatalf("dead list: %+v %v", dead.Items, err)
		}
		counts, err := s.CountDeliveries(ctx)
		if err != nil || counts[store.DeliveryDead] != 1 || counts[store.DeliveryDone] != 1 || counts[store.DeliveryPending] != 1 {
			t.Fatalf("counts: %v %v", counts, err)
		}
		if err := s.ReplayDelivery(ctx, store.DeliveryKey{Seq: heads[1].Event.Seq, Target: "t"}, t0); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("replay of a done delivery: %v, want ErrConflict", err)
		}
		if err := s.ReplayDelivery(ctx, store.DeliveryKey{Seq: 999999, Target: "t"}, t0); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("replay of a missing delivery: %v, want ErrNotFound", err)
		}
		later := t0.Add(2 * time.Hour)
		if err := s.ReplayDelivery(ctx, heads[0].Key(), later); err != nil {
			t.Fatal(err)
		}
		got := claim(t, s, "w", later, 10)
		if keys(got) != "a1/t " || got[0].Attempts != 1 {
			t.Fatalf("after replay: %s %+v", keys(got), got)
		}
		settle(t, s, store.Settle{Delivery: got[0], Err: "still bad", Dead: true, Now: later})
		if err := s.DiscardDelivery(ctx, heads[0].Key(), later); err != nil {
			t.Fatal(err)
		}
		if got := claim(t, s, "w", later, 10); keys(got) != "a2/t " {
			t.Fatalf("after discard: %s", keys(got))
		}
		if err := s.DiscardDelivery(ctx, heads[0].Key(), later); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("discard twice: %v, want ErrConflict", err)
		}
	})

	t.Run("purge keeps what is not finished", func(t *testing.T) {
		s := open(t)
		done := enqueue(t, s, "done", "group:a")
		dead := enqueue(t, s, "dead", "group:b")
		pending := enqueue(t, s, "pending", "group:c")
		none := enqueue(t, s, "nobody", "group:d")
		if _, err := s.FanOut(ctx, 10, func(e store.Event) []string {
			if e.Topic == "nobody" {
				return nil
			}
			return []string{"t"}
		}, t0); err != nil {
			t.Fatal(err)
		}
		undispatched := enqueue(t, s, "late", "group:e")
		ds := claim(t, s, "w", t0, 10)
		settle(t, s, ok(ds[0], t0), store.Settle{Delivery: ds[1], Err: "x", Dead: true, Now: t0},
			store.Settle{Delivery: ds[2], Err: "x", RetryAt: t0.Add(time.Hour), Now: t0})
		// Events are stamped with the store's clock: purge everything older than a day from now.
		n, err := s.PurgeOutbox(ctx, time.Now().Add(24*time.Hour), 100)
		if err != nil || n != 2 {
			t.Fatalf("purged %d, %v; want the done event and the one nobody handles", n, err)
		}
		if _, err := s.GetDelivery(ctx, store.DeliveryKey{Seq: done.Seq, Target: "t"}); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("done delivery left: %v", err)
		}
		for _, e := range []store.Event{dead, pending} {
			if _, err := s.GetDelivery(ctx, store.DeliveryKey{Seq: e.Seq, Target: "t"}); err != nil {
				t.Fatalf("%s purged: %v", e.Topic, err)
			}
		}
		if n, _ := s.FanOut(ctx, 10, toAll("t"), t0); n != 1 {
			t.Fatalf("the undispatched event %d was purged", undispatched.Seq)
		}
		if n, err := s.PurgeOutbox(ctx, time.Now().Add(-24*time.Hour), 100); err != nil || n != 0 {
			t.Fatalf("purged %d recent events", n)
		}
		_ = none
	})

	t.Run("list pages and filters", func(t *testing.T) {
		s := open(t)
		for i := range 7 {
			enqueue(t, s, "e", fmt.Sprintf("group:%d", i))
		}
		if _, err := s.FanOut(ctx, 3, toAll("x", "y"), t0); err != nil {
			t.Fatal(err)
		}
		if _, err := s.FanOut(ctx, 10, toAll("x", "y"), t0); err != nil {
			t.Fatal(err)
		}
		all := collect(t, func(c string) (store.Page[store.Delivery], error) {
			return s.ListDeliveries(ctx, store.DeliveryQuery{Limit: 4, Cursor: c})
		})
		if len(all) != 14 || !sort.SliceIsSorted(all, func(i, j int) bool { return all[i].Event.Seq < all[j].Event.Seq }) {
			t.Fatalf("paged %d deliveries, want 14 in event order", len(all))
		}
		ys := collect(t, func(c string) (store.Page[store.Delivery], error) {
			return s.ListDeliveries(ctx, store.DeliveryQuery{Target: "y", State: store.DeliveryPending, Limit: 2, Cursor: c})
		})
		if len(ys) != 7 {
			t.Fatalf("target y: %d deliveries", len(ys))
		}
		if _, err := s.ListDeliveries(ctx, store.DeliveryQuery{State: "weird"}); err == nil {
			t.Fatal("an unknown state was accepted")
		}
	})

	t.Run("concurrent workers never share a delivery", func(t *testing.T) {
		s := open(t)
		const events = 300
		for i := range events {
			enqueue(t, s, "e", fmt.Sprintf("group:%d", i%40))
		}
		var mu sync.Mutex
		seen := map[store.DeliveryKey]string{}
		var wg sync.WaitGroup
		errs := make(chan error, 4)
		for w := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				name := fmt.Sprintf("w%d", w)
				for idle := 0; idle < 20; {
					if _, err := s.FanOut(ctx, 25, toAll("t"), t0); err != nil {
						errs <- err
						return
					}
					ds, err := s.ClaimDeliveries(ctx, store.Claim{Worker: name, Now: t0, LeaseUntil: t0.Add(time.Hour), Limit: 10})
					if err != nil {
						errs <- err
						return
					}
					if len(ds) == 0 {
						idle++
						time.Sleep(2 * time.Millisecond)
						continue
					}
					idle = 0
					var ss []store.Settle
					mu.Lock()
					for _, d := range ds {
						if other, dup := seen[d.Key()]; dup {
							errs <- fmt.Errorf("%v claimed by %s and %s", d.Key(), other, name)
						}
						seen[d.Key()] = name
						ss = append(ss, ok(d, t0))
					}
					mu.Unlock()
					if _, err := s.SettleDeliveries(ctx, ss); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if len(seen) != events {
			t.Fatalf("%d of %d events delivered", len(seen), events)
		}
	})
}

func testWebhooks(t *testing.T, open Factory) {
	ctx := context.Background()
	s := open(t)
	w, err := s.CreateWebhook(ctx, store.WebhookEndpoint{URL: "https://itsm.example/hook", EventTypes: []string{"user.deleted", "group.*"},
		Secret: "whsec_c2VjcmV0", Enabled: true, Description: "ITSM"})
	if err != nil {
		t.Fatal(err)
	}
	if w.ID == "" || w.CreatedAt.IsZero() {
		t.Fatalf("created: %+v", w)
	}
	got, err := s.GetWebhook(ctx, w.ID)
	if err != nil || got.URL != w.URL || fmt.Sprint(got.EventTypes) != "[user.deleted group.*]" || got.Secret != w.Secret || !got.Enabled {
		t.Fatalf("get: %+v %v", got, err)
	}
	got.Enabled, got.EventTypes = false, []string{"*"}
	up, err := s.UpdateWebhook(ctx, got)
	if err != nil || up.Enabled || fmt.Sprint(up.EventTypes) != "[*]" {
		t.Fatalf("update: %+v %v", up, err)
	}
	if _, err := s.CreateWebhook(ctx, store.WebhookEndpoint{URL: "https://docs.example/hook", Secret: "whsec_eA=="}); err != nil {
		t.Fatal(err)
	}
	list, err := s.ListWebhooks(ctx)
	if err != nil || len(list) != 2 || list[0].ID != w.ID {
		t.Fatalf("list: %+v %v", list, err)
	}
	if err := s.DeleteWebhook(ctx, w.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetWebhook(ctx, w.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("get after delete: %v", err)
	}
	if err := s.DeleteWebhook(ctx, w.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("delete twice: %v", err)
	}
	if _, err := s.UpdateWebhook(ctx, w); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("update of a deleted endpoint: %v", err)
	}
}
