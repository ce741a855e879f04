package sqlstore_test

import (
	"context"
	"testing"

	"opsiam/internal/store"
	"opsiam/internal/store/sqlstore"
	"opsiam/internal/store/sqlstore/sqltest"
	"opsiam/internal/store/storetest"
	"opsiam/internal/testenv"
)

func TestSQLite(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) store.Store { return sqltest.Open(t, sqltest.SQLiteDSN(t)) })
}

func TestPostgres(t *testing.T) {
	t.Parallel()
	testenv.PostgresDSN(t)
	storetest.Run(t, func(t *testing.T) store.Store { return sqltest.Open(t, sqltest.Postgres(t)) })
}

func TestMigrationNumbersMatch(t *testing.T) {
	lite, err := sqlstore.Migrations(sqlstore.SQLite)
	if err != nil {
		t.Fatal(err)
	}
	pg, err := sqlstore.Migrations(sqlstore.Postgres)
	if err != nil {
		t.Fatal(err)
	}
	if len(lite) == 0 || len(lite) != len(pg) {
		t.Fatalf("sqlite has %d migrations, postgres %d", len(lite), len(pg))
	}
	for i := range lite {
		if lite[i].Version != pg[i].Version || lite[i].Name != pg[i].Name {
			t.Errorf("migration %d: sqlite %04d_%s, postgres %04d_%s", i, lite[i].Version, lite[i].Name, pg[i].Version, pg[i].Name)
		}
		if i > 0 && lite[i].Version <= lite[i-1].Version {
			t.Errorf("migration %d has number %d: numbers must increase", i, lite[i].Version)
		}
	}
}

func TestMigrateTwice(t *testing.T) {
	for _, tc := range []struct {
		name string
		dsn  func(t *testing.T) string
	}{
		{"SQLite", func(t *testing.T) string { return sqltest.SQLiteDSN(t) }},
		{"Postgres", func(t *testing.T) string { return testenv.PostgresSchema(t) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			dsn := tc.dsn(t)
			db := sqltest.Open(t, dsn)
			want, _ := sqlstore.Migrations(db.Dialect())
			if err := db.Ready(ctx); err != nil {
				t.Fatalf("not ready after migrating: %v", err)
			}
			before := schemaOf(t, db)
			n, err := db.Migrate(ctx)
			if err != nil || n != 0 {
				t.Fatalf("second migrate applied %d, %v; want 0", n, err)
			}
			if after := schemaOf(t, db); after != before {
				t.Fatalf("second migrate changed the schema:\n%s\n---\n%s", before, after)
			}
			if len(want) == 0 {
				t.Fatal("no migrations")
			}
		})
	}
}

func TestNotReadyBeforeMigrate(t *testing.T) {
	db, err := sqlstore.Open(context.Background(), sqltest.SQLiteDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Ready(context.Background()); err == nil {
		t.Fatal("an unmigrated database reported ready")
	}
}
