package sqltest

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the pgx driver for database/sql

	"opsiam/internal/store/sqlstore"
	"opsiam/internal/testenv"
)

// Postgres returns the DSN of a migrated PostgreSQL schema of its own for
// one test, as a fresh one is: migrated, with nothing but what the
// migrations insert. It skips like testenv.PostgresDSN.
//
// Migrating a new schema costs PostgreSQL about 0.12 s of CPU, and the
// test suite made 164 of them per run (issue 17, point 7). So each test
// process keeps the schemas its tests have finished with: when a test
// ends, its schema is emptied and refilled with the rows the migrations
// inserted (in one transaction, with the foreign keys' triggers off), its
// sequences are reset, and the next test gets it. A schema that cannot be
// reset (a lock still held, a role that is not a superuser) is dropped,
// and the next test gets a new one. Schemas of processes that have ended
// are dropped when the next process starts.
func Postgres(t testing.TB) string {
	t.Helper()
	base := testenv.PostgresDSN(t)
	p, err := poolFor(base)
	if err != nil {
		t.Fatalf("PostgreSQL schema pool: %v", err)
	}
	name, err := p.take()
	if err != nil {
		t.Fatalf("PostgreSQL schema: %v", err)
	}
	t.Cleanup(func() { p.give(name) })
	dsn, err := testenv.WithSearchPath(base, name)
	if err != nil {
		t.Fatalf("OPSIAM_TEST_POSTGRES_DSN: %v", err)
	}
	return dsn
}

var pools struct {
	sync.Mutex
	m map[string]*pgPool
}

func poolFor(base string) (*pgPool, error) {
	pools.Lock()
	defer pools.Unlock()
	if p := pools.m[base]; p != nil {
		return p, nil
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		return nil, err
	}
	admin.SetMaxIdleConns(2)
	p := &pgPool{base: base, admin: admin, prefix: fmt.Sprintf("tp_%d_", os.Getpid())}
	if err := p.dropStale(); err != nil {
		admin.Close()
		return nil, err
	}
	if err := admin.QueryRow(`SELECT rolsuper FROM pg_roles WHERE rolname = current_user`).Scan(&p.reuse); err != nil {
		admin.Close()
		return nil, err
	}
	if pools.m == nil {
		pools.m = map[string]*pgPool{}
	}
	pools.m[base] = p
	return p, nil
}

// pgPool is the migrated schemas of one test process on one server.
type pgPool struct {
	base   string
	admin  *sql.DB
	prefix string // tp_<pid>_
	reuse  bool   // the role may turn foreign keys off (a superuser)

	mu   sync.Mutex
	n    int
	free []string
	seed *seedRows // what the migrations inserted, read from the first schema
}

// seedRows is the state of a freshly migrated schema: the tables with
// rows (kept as copies in the schema <prefix>seed), every table, and the
// sequences' values.
type seedRows struct {
	schema string
	tables []string
	filled []string
	seqs   map[string]sql.NullInt64
}

func (p *pgPool) take() (string, error) {
	p.mu.Lock()
	if n := len(p.free); n > 0 {
		name := p.free[n-1]
		p.free = p.free[:n-1]
		p.mu.Unlock()
		return name, nil
	}
	p.n++
	name := fmt.Sprintf("%s%d", p.prefix, p.n)
	p.mu.Unlock()
	if _, err := p.admin.Exec(`CREATE SCHEMA ` + name); err != nil {
		return "", fmt.Errorf("create schema: %w", err)
	}
	ctx := context.Background()
	dsn, err := testenv.WithSearchPath(p.base, name)
	if err != nil {
		return "", err
	}
	db, err := sqlstore.Open(ctx, dsn)
	if err != nil {
		return "", err
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		return "", fmt.Errorf("migrate %s: %w", name, err)
	}
	if p.reuse {
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.seed == nil {
			s, err := p.readSeed(name)
			if err != nil {
				return "", fmt.Errorf("seed rows of %s: %w", name, err)
			}
			p.seed = s
		}
	}
	return name, nil
}

// give takes a schema back when its test has ended: reset for the next
// test, or dropped.
func (p *pgPool) give(name string) {
	p.mu.Lock()
	seed := p.seed
	p.mu.Unlock()
	if seed != nil && p.reset(name, seed) == nil {
		p.mu.Lock()
		p.free = append(p.free, name)
		p.mu.Unlock()
		return
	}
	_, _ = p.admin.Exec(`DROP SCHEMA IF EXISTS ` + name + ` CASCADE`)
}

// readSeed copies the rows of freshly migrated schema name into the
// schema <prefix>seed and notes the sequences.
func (p *pgPool) readSeed(name string) (*seedRows, error) {
	s := &seedRows{schema: p.prefix + "seed", seqs: map[string]sql.NullInt64{}}
	rows, err := p.admin.Query(`SELECT table_name FROM information_schema.tables
		WHERE table_schema = $1 AND table_type = 'BASE TABLE' ORDER BY table_name`, name)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var tbl string
		if err := rows.Scan(&tbl); err != nil {
			rows.Close()
			return nil, err
		}
		s.tables = append(s.tables, tbl)
	}
	rows.Close()
	if _, err := p.admin.Exec(`CREATE SCHEMA ` + s.schema); err != nil {
		return nil, err
	}
	for _, tbl := range s.tables {
		var any bool
		if err := p.admin.QueryRow(`SELECT EXISTS (SELECT 1 FROM ` + name + `.` + tbl + `)`).Scan(&any); err != nil {
			return nil, err
		}
		if !any {
			continue
		}
		if _, err := p.admin.Exec(`CREATE TABLE ` + s.schema + `.` + tbl + ` AS SELECT * FROM ` + name + `.` + tbl); err != nil {
			return nil, err
		}
		s.filled = append(s.filled, tbl)
	}
	seqs, err := p.admin.Query(`SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = $1`, name)
	if err != nil {
		return nil, err
	}
	defer seqs.Close()
	for seqs.Next() {
		var seq string
		var last sql.NullInt64
		if err := seqs.Scan(&seq, &last); err != nil {
			return nil, err
		}
		s.seqs[seq] = last
	}
	return s, seqs.Err()
}

// reset makes schema name as the migrations left it, in one transaction
// that gives up after a few seconds on a lock still held.
func (p *pgPool) reset(name string, s *seedRows) error {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	tx, err := p.admin.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var b strings.Builder
	b.WriteString(`SET LOCAL lock_timeout = '5s'; SET LOCAL session_replication_role = replica;`)
	for _, tbl := range s.tables {
		fmt.Fprintf(&b, ` DELETE FROM %s.%s;`, name, tbl)
	}
	for _, tbl := range s.filled {
		fmt.Fprintf(&b, ` INSERT INTO %s.%s OVERRIDING SYSTEM VALUE SELECT * FROM %s.%s;`, name, tbl, s.schema, tbl)
	}
	for seq, last := range s.seqs {
		if last.Valid {
			fmt.Fprintf(&b, ` SELECT setval('%s.%s', %d, true);`, name, seq, last.Int64)
		} else {
			fmt.Fprintf(&b, ` ALTER SEQUENCE %s.%s RESTART;`, name, seq)
		}
	}
	if _, err := tx.ExecContext(ctx, b.String()); err != nil {
		return err
	}
	return tx.Commit()
}

// dropStale drops the pool schemas of test processes that have ended.
func (p *pgPool) dropStale() error {
	rows, err := p.admin.Query(`SELECT nspname FROM pg_namespace WHERE nspname LIKE 'tp\_%'`)
	if err != nil {
		return err
	}
	var stale []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return err
		}
		parts := strings.SplitN(name, "_", 3)
		pid, err := strconv.Atoi(parts[1])
		if err != nil || pid == os.Getpid() {
			continue
		}
		if syscall.Kill(pid, 0) == syscall.ESRCH {
			stale = append(stale, name)
		}
	}
	rows.Close()
	for _, name := range stale {
		_, _ = p.admin.Exec(`DROP SCHEMA IF EXISTS ` + name + ` CASCADE`)
	}
	return nil
}
