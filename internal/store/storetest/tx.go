package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"opsiam/internal/directory"
	"opsiam/internal/store"
)

func testTransactions(t *testing.T, open Factory) {
	ctx := context.Background()
	t.Run("failed transaction leaves nothing", func(t *testing.T) {
		s := open(t)
		boom := errors.New("boom")
		err := s.InTx(ctx, func(tx store.Tx) error {
			u, err := tx.CreateUser(ctx, newUser("ghost"))
			if err != nil {
				return err
			}
			g, err := tx.CreateGroup(ctx, directory.Group{Name: "ghosts"})
			if err != nil {
				return err
			}
			if err := tx.AddMember(ctx, g.ID, u.ID); err != nil {
				return err
			}
			if _, err := tx.GetUser(ctx, directory.Scope{}, u.ID); err != nil {
				return fmt.Errorf("a transaction must read its own writes: %w", err)
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("InTx returned %v, want the function's error", err)
		}
		if _, err := s.GetUserByUsername(ctx, directory.Scope{}, "ghost"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("user survived the rollback: %v", err)
		}
		if _, err := s.GetGroupByName(ctx, "ghosts"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("group survived the rollback: %v", err)
		}
	})
	t.Run("conflict inside a transaction rolls back earlier writes", func(t *testing.T) {
		s := open(t)
		mustUser(t, s, "taken")
		err := s.InTx(ctx, func(tx store.Tx) error {
			if _, err := tx.CreateGroup(ctx, directory.Group{Name: "half"}); err != nil {
				return err
			}
			_, err := tx.CreateUser(ctx, newUser("taken"))
			return err
		})
		if !errors.Is(err, store.ErrConflict) {
			t.Fatalf("got %v, want conflict", err)
		}
		if _, err := s.GetGroupByName(ctx, "half"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("half-written group survived: %v", err)
		}
	})
	t.Run("committed transaction is visible", func(t *testing.T) {
		s := open(t)
		err := s.InTx(ctx, func(tx store.Tx) error {
			_, err := tx.CreateRole(ctx, directory.Role{Name: "inner", Type: directory.RoleCustom})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.GetRoleByName(ctx, "inner"); err != nil {
			t.Fatal(err)
		}
	})
}

func testConcurrency(t *testing.T, open Factory) {
	ctx := context.Background()
	s := open(t)
	const n = 50
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			u := newUser(fmt.Sprintf("Racer%c", "rR"[i%2])) // one user name, two spellings
			u.Email = fmt.Sprintf("racer%d@example.com", i)
			errs[i] = s.InTx(ctx, func(tx store.Tx) error {
				_, err := tx.CreateUser(ctx, u)
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
		case errors.Is(err, store.ErrConflict):
		default:
			t.Errorf("create %d: %v, want success or conflict", i, err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d of %d concurrent creates of one user name succeeded, want exactly 1", ok, n)
	}
	if c, err := s.CountUsers(ctx, directory.Scope{}, store.UserFilter{Username: "RACERR"}); err != nil || c != 1 {
		t.Fatalf("count = %d, %v", c, err)
	}
}
