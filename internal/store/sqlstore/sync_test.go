package sqlstore_test

import (
	"context"
	"path/filepath"
	"testing"

	"opsiam/internal/store/sqlstore"
)

// TestSQLiteSynchronous: --sqlite-synchronous full syncs every commit;
// the default is normal (issue 15).
func TestSQLiteSynchronous(t *testing.T) {
	for mode, want := range map[string]string{sqlstore.SyncFull: "2", sqlstore.SyncNormal: "1", "": "1"} {
		db, err := sqlstore.Open(context.Background(), filepath.Join(t.TempDir(), "s.db"), sqlstore.WithSQLiteSynchronous(mode))
		if err != nil {
			t.Fatal(err)
		}
		got, err := db.Query(context.Background(), "PRAGMA synchronous")
		db.Close()
		if err != nil || len(got) != 1 || got[0] != want {
			t.Errorf("mode %q: PRAGMA synchronous = %v, %v; want %s", mode, got, err, want)
		}
	}
}
