package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"opsiam/internal/store"
)

func testAudit(t *testing.T, open Factory) {
	ctx := context.Background()
	s := open(t)
	base := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for i := 0; i < 7; i++ {
		r := store.AuditRecord{
			At: base.Add(time.Duration(i) * time.Minute), ActorID: fmt.Sprintf("actor%d", i%2), ActorName: "someone",
			Action: "user.update", TargetType: "user", TargetID: fmt.Sprintf("u%d", i%3), Source: "192.0.2.1",
			Before: json.RawMessage(`{"n":1}`), After: json.RawMessage(`{"n":2}`),
		}
		if err := s.AppendAudit(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	list := func(q store.AuditQuery) []store.AuditRecord {
		return collect(t, func(c string) (store.Page[store.AuditRecord], error) {
			q.Cursor, q.Limit = c, 2
			return s.ListAudit(ctx, q)
		})
	}
	all := list(store.AuditQuery{})
	if len(all) != 7 || !all[0].At.After(all[6].At) {
		t.Fatalf("want 7 records newest first, got %d", len(all))
	}
	if string(all[0].After) != `{"n":2}` || all[0].Source != "192.0.2.1" {
		t.Fatalf("record not kept as written: %+v", all[0])
	}
	tests := []struct {
		name string
		q    store.AuditQuery
		want int
	}{
		{"by actor", store.AuditQuery{ActorID: "actor1"}, 3},
		{"by target", store.AuditQuery{TargetID: "u0"}, 3},
		{"by action", store.AuditQuery{Action: "user.delete"}, 0},
		{"by time", store.AuditQuery{Since: base.Add(2 * time.Minute), Until: base.Add(4 * time.Minute)}, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := list(tc.q); len(got) != tc.want {
				t.Fatalf("got %d records, want %d", len(got), tc.want)
			}
		})
	}
}

func testOutbox(t *testing.T, open Factory) {
	ctx := context.Background()
	s := open(t)
	a, err := s.Enqueue(ctx, store.Event{Topic: "group.created", Aggregate: "group:1", Payload: json.RawMessage(`{"name":"ops"}`)})
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Enqueue(ctx, store.Event{Topic: "group.member_added", Aggregate: "group:1"})
	if err != nil {
		t.Fatal(err)
	}
	if a.ID == "" || a.ID == b.ID || b.Seq <= a.Seq || a.CreatedAt.IsZero() {
		t.Fatalf("events not numbered: %+v %+v", a, b)
	}
	boom := errors.New("boom")
	var inTx store.Event
	err = s.InTx(ctx, func(tx store.Tx) error {
		inTx, err = tx.Enqueue(ctx, store.Event{Topic: "user.created", Aggregate: "user:1"})
		if err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) || inTx.Seq == 0 {
		t.Fatalf("enqueue inside a transaction: %v", err)
	}
	c, err := s.Enqueue(ctx, store.Event{Topic: "x", Aggregate: "y"})
	if err != nil || c.Seq <= b.Seq {
		t.Fatalf("after rollback: %+v %v", c, err)
	}
}
