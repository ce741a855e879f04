package storetest

import (
	"context"
	"testing"
	"time"

	"opsiam/internal/store"
)

func testBillingSnapshots(t *testing.T, open Factory) {
	ctx := context.Background()
	s := open(t)
	at := time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC)
	for _, snap := range []store.BillingSnapshot{
		{Day: "2026-02-02", Billed: 5, NonBilled: 1, TakenAt: at},
		{Day: "2026-02-01", Billed: 4, NonBilled: 1, TakenAt: at},
		{Day: "2026-02-03", Billed: 6, NonBilled: 0, TakenAt: at},
		{Day: "2026-02-02", Billed: 7, NonBilled: 2, TakenAt: at}, // replaces the first
	} {
		if err := s.PutBillingSnapshot(ctx, snap); err != nil {
			t.Fatal(err)
		}
	}
	all, err := s.ListBillingSnapshots(ctx, "", "")
	if err != nil || len(all) != 3 || all[0].Day != "2026-02-01" || all[1].Billed != 7 || !all[2].TakenAt.Equal(at) {
		t.Fatalf("all: %+v %v", all, err)
	}
	some, err := s.ListBillingSnapshots(ctx, "2026-02-02", "2026-02-02")
	if err != nil || len(some) != 1 || some[0].NonBilled != 2 {
		t.Fatalf("one day: %+v %v", some, err)
	}
}
