package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"opsiam/internal/auth"
	"opsiam/internal/directory"
	"opsiam/internal/signin"
	"opsiam/internal/store"
	"opsiam/internal/store/sqlstore"
	"opsiam/internal/store/sqlstore/sqltest"
)

// seedUsers adds n users (every tenth disabled, every fifth in a customer)
// in a few large transactions straight through the store: a fast bulk path
// for test data only; the console itself changes data through manage.
func seedUsers(tb testing.TB, db *sqlstore.DB, n int) {
	tb.Helper()
	ctx := context.Background()
	cu, err := db.CreateCustomer(ctx, directory.Customer{Code: "bench", Name: "Bench Corp", State: directory.CustomerValid})
	if err != nil {
		tb.Fatal(err)
	}
	global, err := db.GetGroupByName(ctx, directory.GlobalGroupName)
	if err != nil {
		tb.Fatal(err)
	}
	const batch = 10000
	for start := 0; start < n; start += batch {
		err := db.InTx(ctx, func(tx store.Tx) error {
			for i := start; i < start+batch && i < n; i++ {
				u := directory.User{Username: fmt.Sprintf("user%06d", i), Email: fmt.Sprintf("user%06d@example.test", i),
					FirstName: "Taro", LastName: "Yamada", Enabled: i%10 != 0, Timezone: "Asia/Tokyo"}
				if i%5 == 0 {
					u.CustomerID = cu.ID
				}
				created, err := tx.CreateUser(ctx, u)
				if err != nil {
					return err
				}
				if err := tx.AddMember(ctx, global.ID, created.ID); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
}

// BenchmarkUsersPage measures the server time of the users list page
// (first page of 50) over 100,000 users on SQLite and on PostgreSQL:
// handler time from request to the last byte, in process.
func BenchmarkUsersPage(b *testing.B) {
	b.Run("SQLite", func(b *testing.B) { benchUsersPage(b, openStore(b)) })
	b.Run("Postgres", func(b *testing.B) { benchUsersPage(b, openDSN(b, sqltest.Postgres(b))) })
}

func benchUsersPage(b *testing.B, db *sqlstore.DB) {
	seedUsers(b, db, 100_000)
	h, _ := handler(b, db, nil)
	token, _, err := authService(b, db).SignIn(context.Background(), "admin", adminPassword, auth.Source{Address: "127.0.0.1"})
	if err != nil {
		b.Fatal(err)
	}
	for _, path := range []string{"/console/users", "/console/users?view=billed", "/console/users?view=non_billed", "/console/users?q=user0999"} {
		b.Run(strings.TrimPrefix(path, "/console/"), func(b *testing.B) {
			for b.Loop() {
				req := httptest.NewRequest("GET", path, nil)
				req.AddCookie(&http.Cookie{Name: signin.SessionCookie, Value: token})
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "user0") {
					b.Fatalf("status %d", rec.Code)
				}
			}
		})
	}
}
