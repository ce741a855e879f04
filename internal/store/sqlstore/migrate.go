package sqlstore

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

//go:embed migrations
var migrationFiles embed.FS

// Migration is one numbered schema change of one dialect, embedded in the
// binary from migrations/<dialect>/NNNN_name.sql. Released files are never
// edited; a change is a new file with the next number in both dialects.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Migrations lists the migrations of d in order.
func Migrations(d Dialect) ([]Migration, error) {
	dir := path.Join("migrations", string(d))
	entries, err := fs.ReadDir(migrationFiles, dir)
	if err != nil {
		return nil, err
	}
	var out []Migration
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".sql") {
			continue
		}
		num, rest, ok := strings.Cut(strings.TrimSuffix(name, ".sql"), "_")
		if !ok {
			return nil, fmt.Errorf("migration %s: name must be NNNN_name.sql", name)
		}
		v, err := strconv.Atoi(num)
		if err != nil {
			return nil, fmt.Errorf("migration %s: %w", name, err)
		}
		body, err := fs.ReadFile(migrationFiles, path.Join(dir, name))
		if err != nil {
			return nil, err
		}
		out = append(out, Migration{Version: v, Name: rest, SQL: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	for i := 1; i < len(out); i++ {
		if out[i].Version == out[i-1].Version {
			return nil, fmt.Errorf("migrations: version %d appears twice", out[i].Version)
		}
	}
	return out, nil
}

const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at BIGINT NOT NULL
)`

// Migrate applies every migration not yet recorded, each in its own
// transaction together with its record, and returns how many it applied.
// Running it again applies nothing.
func (db *DB) Migrate(ctx context.Context) (int, error) {
	all, err := Migrations(db.dialect)
	if err != nil {
		return 0, err
	}
	if _, err := db.write.ExecContext(ctx, createMigrationsTable); err != nil {
		return 0, fmt.Errorf("migrate: %w", err)
	}
	applied, err := appliedVersions(ctx, db.write)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, m := range all {
		if applied[m.Version] {
			continue
		}
		if err := db.apply(ctx, m); err != nil {
			return n, fmt.Errorf("migrate %04d_%s: %w", m.Version, m.Name, err)
		}
		n++
	}
	return n, nil
}

func (db *DB) apply(ctx context.Context, m Migration) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if db.dialect == Postgres {
		// Two replicas starting at once: the second waits here, then finds
		// the version recorded and skips it.
		if _, err := tx.ExecContext(ctx, `LOCK TABLE schema_migrations IN EXCLUSIVE MODE`); err != nil {
			return err
		}
		var done int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = $1`, m.Version).Scan(&done); err != nil {
			return err
		}
		if done > 0 {
			return nil
		}
	}
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
		m.Version, m.Name, toMicros(db.now())); err != nil {
		return err
	}
	return tx.Commit()
}

func appliedVersions(ctx context.Context, q querier) (map[int]bool, error) {
	rows, err := q.QueryContext(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int]bool{}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out[v] = true
	}
	return out, rows.Err()
}

// Pending tells how many migrations are not yet applied; readiness needs zero.
func (db *DB) Pending(ctx context.Context) (int, error) {
	all, err := Migrations(db.dialect)
	if err != nil {
		return 0, err
	}
	applied, err := appliedVersions(ctx, db.read)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, m := range all {
		if !applied[m.Version] {
			n++
		}
	}
	return n, nil
}
