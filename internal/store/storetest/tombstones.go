package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"opsiam/internal/directory"
	"opsiam/internal/store"
)

var tombstoneBase = time.Date(2026, 2, 3, 4, 5, 6, 789000, time.UTC)

// newTombstone builds a tombstone of a deleted user called name, deleted
// minutes after tombstoneBase.
func newTombstone(name string, minutes int) directory.Tombstone {
	return directory.Tombstone{
		Username:  name,
		Email:     name + "@example.com",
		ITSMLink:  "link-" + name,
		DeletedAt: tombstoneBase.Add(time.Duration(minutes) * time.Minute),
	}
}

func mustTombstone(t *testing.T, s store.Store, ts directory.Tombstone) directory.Tombstone {
	t.Helper()
	out, err := s.CreateTombstone(context.Background(), ts)
	if err != nil {
		t.Fatalf("create tombstone %s: %v", ts.Username, err)
	}
	return out
}

func tombstoneName(t directory.Tombstone) string { return t.Username }

func testTombstones(t *testing.T, open Factory) {
	ctx := context.Background()

	t.Run("create and get", func(t *testing.T) {
		s := open(t)
		c := mustCustomer(t, s, "ACME")
		in := newTombstone("Kim", 0)
		in.CustomerID, in.Email = c.ID, "Kim.Old@Example.com"
		ts := mustTombstone(t, s, in)
		if ts.ID == "" || ts.Version != 1 || !ts.Live() {
			t.Fatalf("create returned %+v", ts)
		}
		got, err := s.GetTombstone(ctx, ts.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Username != "Kim" || got.Email != "Kim.Old@Example.com" || got.CustomerID != c.ID ||
			got.ITSMLink != "link-Kim" || !got.DeletedAt.Equal(in.DeletedAt) || got.DeletedAt.Location() != time.UTC ||
			got.TakenOverBy != "" || !got.TakenOverAt.IsZero() || got.Version != 1 {
			t.Fatalf("get returned %+v", got)
		}
		noTime := newTombstone("Lee", 0)
		noTime.DeletedAt = time.Time{}
		if lee := mustTombstone(t, s, noTime); lee.DeletedAt.IsZero() {
			t.Fatal("a zero deleted-at was not set from the clock")
		}
		if _, err := s.GetTombstone(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("get of a missing tombstone: %v", err)
		}
	})

	t.Run("one tombstone per ITSM link", func(t *testing.T) {
		s := open(t)
		mustTombstone(t, s, newTombstone("kim", 0))
		dup := newTombstone("other", 1)
		dup.ITSMLink = "link-kim"
		_, err := s.CreateTombstone(ctx, dup)
		var ce *store.ConflictError
		if !errors.As(err, &ce) || ce.Field != "itsm_link" {
			t.Fatalf("second tombstone of one link: %v, want conflict on itsm_link", err)
		}
	})

	t.Run("find by user name or mail ignoring case", func(t *testing.T) {
		s := open(t)
		mustTombstone(t, s, newTombstone("bob", 2))
		mustTombstone(t, s, newTombstone("carol", 1))
		// Mails are not unique among tombstones (docs/architecture.md).
		again := newTombstone("carol2", 3)
		again.Email = "CAROL@example.com"
		mustTombstone(t, s, again)
		mustTombstone(t, s, newTombstone("dave", 0))
		tests := []struct {
			name, username, email string
			want                  []string
		}{
			{"user name", "BOB", "", []string{"bob"}},
			{"mail, two tombstones, oldest first", "", "Carol@Example.com", []string{"carol", "carol2"}},
			{"both keys", "bob", "carol@example.com", []string{"carol", "bob", "carol2"}},
			{"one tombstone under both keys once", "carol", "carol@example.com", []string{"carol", "carol2"}},
			{"no match", "zed", "zed@example.com", nil},
			{"empty keys match nothing", "", "", nil},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				got, err := s.FindTombstones(ctx, tc.username, tc.email)
				if err != nil {
					t.Fatal(err)
				}
				if n := names(got, tombstoneName); !equal(n, tc.want) {
					t.Fatalf("found %v, want %v", n, tc.want)
				}
			})
		}
	})

	t.Run("rename", func(t *testing.T) {
		s := open(t)
		ts := mustTombstone(t, s, newTombstone("bob", 0))
		ts.Username, ts.Email = "Bob.Old", "bob.old@example.com"
		got, err := s.RenameTombstone(ctx, ts)
		if err != nil {
			t.Fatal(err)
		}
		if got.Version != 2 || got.Username != "Bob.Old" || got.Email != "bob.old@example.com" || got.ITSMLink != "link-bob" || !got.Live() {
			t.Fatalf("rename returned %+v", got)
		}
		if found, _ := s.FindTombstones(ctx, "bob", "bob@example.com"); len(found) != 0 {
			t.Fatalf("old names still found: %v", names(found, tombstoneName))
		}
		if found, _ := s.FindTombstones(ctx, "bob.old", ""); len(found) != 1 {
			t.Fatalf("new user name not found: %v", found)
		}
		if _, err := s.RenameTombstone(ctx, ts); !errors.Is(err, store.ErrStale) {
			t.Fatalf("rename with an old version: %v, want ErrStale", err)
		}
		ts.ID = "nope"
		if _, err := s.RenameTombstone(ctx, ts); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("rename of a missing tombstone: %v, want ErrNotFound", err)
		}
	})

	t.Run("take over", func(t *testing.T) {
		s := open(t)
		u := mustUser(t, s, "newbob")
		ts := mustTombstone(t, s, newTombstone("bob", 0))
		at := tombstoneBase.Add(48 * time.Hour)
		taken := ts
		taken.Username, taken.Email, taken.TakenOverBy, taken.TakenOverAt = "newbob", "newbob@example.com", u.ID, at
		got, err := s.TakeOverTombstone(ctx, taken)
		if err != nil {
			t.Fatal(err)
		}
		if got.Live() || got.TakenOverBy != u.ID || !got.TakenOverAt.Equal(at) || got.Email != "newbob@example.com" ||
			got.Username != "newbob" || got.ITSMLink != "link-bob" || got.Version != 2 {
			t.Fatalf("take-over returned %+v", got)
		}
		if found, _ := s.FindTombstones(ctx, "newbob", "newbob@example.com"); len(found) != 0 {
			t.Fatal("a taken-over tombstone is still met by D2")
		}
		again := got
		if _, err := s.TakeOverTombstone(ctx, again); !errors.Is(err, store.ErrStale) {
			t.Fatalf("second take-over: %v, want ErrStale", err)
		}
		if _, err := s.RenameTombstone(ctx, again); !errors.Is(err, store.ErrStale) {
			t.Fatalf("rename after take-over: %v, want ErrStale", err)
		}
		// The user who took over may be deleted; the history stays.
		if err := s.DeleteUser(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
		if kept, err := s.GetTombstone(ctx, ts.ID); err != nil || kept.TakenOverBy != u.ID {
			t.Fatalf("history after the user's delete: %+v %v", kept, err)
		}
		noUser := mustTombstone(t, s, newTombstone("x", 1))
		if _, err := s.TakeOverTombstone(ctx, noUser); err == nil {
			t.Fatal("take-over without a user accepted")
		}
	})

	t.Run("list", func(t *testing.T) {
		s := open(t)
		u := mustUser(t, s, "taker")
		for i := 0; i < 7; i++ {
			mustTombstone(t, s, newTombstone(fmt.Sprintf("user%d", i), 10-i))
		}
		first, _ := s.FindTombstones(ctx, "user3", "")
		first[0].TakenOverBy = u.ID
		if _, err := s.TakeOverTombstone(ctx, first[0]); err != nil {
			t.Fatal(err)
		}
		list := func(q store.TombstoneQuery) []string {
			return names(collect(t, func(c string) (store.Page[directory.Tombstone], error) {
				q.Cursor, q.Limit = c, 2
				return s.ListTombstones(ctx, q)
			}), tombstoneName)
		}
		live, taken := true, false
		tests := []struct {
			name string
			q    store.TombstoneQuery
			want []string
		}{
			{"all by user name", store.TombstoneQuery{}, []string{"user0", "user1", "user2", "user3", "user4", "user5", "user6"}},
			{"by deleted time, newest first", store.TombstoneQuery{ListQuery: store.ListQuery{Sort: "-deleted_at"}},
				[]string{"user0", "user1", "user2", "user3", "user4", "user5", "user6"}},
			{"by deleted time", store.TombstoneQuery{ListQuery: store.ListQuery{Sort: "deleted_at"}},
				[]string{"user6", "user5", "user4", "user3", "user2", "user1", "user0"}},
			{"live", store.TombstoneQuery{Live: &live}, []string{"user0", "user1", "user2", "user4", "user5", "user6"}},
			{"taken over", store.TombstoneQuery{Live: &taken}, []string{"user3"}},
			{"taken over by a user", store.TombstoneQuery{TakenOverBy: u.ID}, []string{"user3"}},
			{"prefix of mail", store.TombstoneQuery{ListQuery: store.ListQuery{Q: "USER5@"}}, []string{"user5"}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				if got := list(tc.q); !equal(got, tc.want) {
					t.Fatalf("got %v, want %v", got, tc.want)
				}
			})
		}
		var fe directory.FieldErrors
		if _, err := s.ListTombstones(ctx, store.TombstoneQuery{ListQuery: store.ListQuery{Sort: "itsm_link"}}); !errors.As(err, &fe) {
			t.Fatalf("unknown sort: %v, want a field error", err)
		}
	})

	t.Run("rolled back with its transaction", func(t *testing.T) {
		s := open(t)
		boom := errors.New("boom")
		err := s.InTx(ctx, func(tx store.Tx) error {
			if _, err := tx.CreateTombstone(ctx, newTombstone("ghost", 0)); err != nil {
				return err
			}
			if found, err := tx.FindTombstones(ctx, "ghost", ""); err != nil || len(found) != 1 {
				return fmt.Errorf("a transaction must read its own tombstone: %v %w", found, err)
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("InTx returned %v", err)
		}
		if found, _ := s.FindTombstones(ctx, "ghost", ""); len(found) != 0 {
			t.Fatal("tombstone survived the rollback")
		}
	})

	t.Run("concurrent take-overs of one tombstone", func(t *testing.T) {
		s := open(t)
		ts := mustTombstone(t, s, newTombstone("bob", 0))
		const n = 8
		users := make([]directory.User, n)
		for i := range users {
			users[i] = mustUser(t, s, fmt.Sprintf("racer%d", i))
		}
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = s.InTx(ctx, func(tx store.Tx) error {
					found, err := tx.FindTombstones(ctx, "bob", "")
					if err != nil || len(found) == 0 {
						return fmt.Errorf("%w (found %d)", store.ErrStale, len(found))
					}
					take := found[0]
					take.TakenOverBy = users[i].ID
					_, err = tx.TakeOverTombstone(ctx, take)
					return err
				})
			}()
		}
		wg.Wait()
		ok := 0
		for i, err := range errs {
			switch {
			case err == nil:
				ok++
			case errors.Is(err, store.ErrStale):
			default:
				t.Errorf("take-over %d: %v, want success or ErrStale", i, err)
			}
		}
		if ok != 1 {
			t.Fatalf("%d of %d concurrent take-overs succeeded, want exactly 1", ok, n)
		}
		if got, _ := s.GetTombstone(ctx, ts.ID); got.Version != 2 {
			t.Fatalf("tombstone written %d times", got.Version-1)
		}
	})
}
