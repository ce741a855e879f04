package sqltest

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"opsiam/internal/directory"
	"opsiam/internal/store"
	"opsiam/internal/testenv"
)

// TestPostgresPoolResets shows that a schema handed to a second test is
// as a freshly migrated one: every table holds as many rows as in a new
// schema, and the identity sequences start again. The first test writes
// a user, an audit record and a revision change into it and leaves them.
func TestPostgresPoolResets(t *testing.T) {
	base := testenv.PostgresDSN(t)
	p, err := poolFor(base)
	if err != nil {
		t.Fatal(err)
	}
	if !p.reuse {
		t.Skip("the PostgreSQL role is not a superuser: the pool makes a new schema per test")
	}
	ctx := context.Background()
	var used string
	t.Run("first", func(t *testing.T) {
		dsn := Postgres(t)
		db := Open(t, dsn)
		if err := db.InTx(ctx, func(tx store.Tx) error {
			if _, err := tx.CreateUser(ctx, directory.User{Username: "left", Email: "left@example.com", FirstName: "L", LastName: "B",
				Enabled: true, Timezone: "UTC"}); err != nil {
				return err
			}
			return tx.AppendAudit(ctx, store.AuditRecord{At: time.Now(), Action: "test.left", TargetType: "user", TargetID: "x"})
		}); err != nil {
			t.Fatal(err)
		}
		used = searchPath(t, dsn)
	})
	fresh := testenv.PostgresSchema(t)
	Open(t, fresh)
	freshName := searchPath(t, fresh)

	p.mu.Lock()
	var again bool
	for _, n := range p.free {
		again = again || n == used
	}
	p.mu.Unlock()
	if !again {
		t.Fatalf("schema %s did not go back to the pool", used)
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	for _, tbl := range p.seed.tables {
		var a, b int
		if err := admin.QueryRow(`SELECT count(*) FROM ` + used + `.` + tbl).Scan(&a); err != nil {
			t.Fatal(err)
		}
		if err := admin.QueryRow(`SELECT count(*) FROM ` + freshName + `.` + tbl).Scan(&b); err != nil {
			t.Fatal(err)
		}
		if a != b {
			t.Errorf("table %s: %d rows after the reset, %d in a new schema", tbl, a, b)
		}
	}
	var seq int64
	if err := admin.QueryRow(`INSERT INTO ` + used + `.audit_log (id, at, actor_id, actor_name, action, target_type, target_id, source)
		VALUES ('a', 1, '', '', 'x', 'user', 'x', '') RETURNING seq`).Scan(&seq); err != nil {
		t.Fatal(err)
	}
	var want int64
	if err := admin.QueryRow(`INSERT INTO ` + freshName + `.audit_log (id, at, actor_id, actor_name, action, target_type, target_id, source)
		VALUES ('a', 1, '', '', 'x', 'user', 'x', '') RETURNING seq`).Scan(&want); err != nil {
		t.Fatal(err)
	}
	if seq != want {
		t.Errorf("audit_log.seq after the reset is %d, in a new schema %d", seq, want)
	}
}

func searchPath(t *testing.T, dsn string) string {
	t.Helper()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var s string
	if err := db.QueryRow(`SELECT current_schema()`).Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}
