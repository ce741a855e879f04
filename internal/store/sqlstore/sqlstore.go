package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"opsiam/internal/store"
)

// DB is the database/sql Store. Build it with Open.
type DB struct {
	*queries
	dialect Dialect
	write   *sql.DB // the writer (SQLite: one connection); all transactions
	read    *sql.DB // reads outside transactions (PostgreSQL: same pool as write)
	now     func() time.Time
	sync    string // SQLite synchronous mode; empty: SyncNormal
}

var _ store.Store = (*DB)(nil)

// Option changes how Open builds a DB.
type Option func(*DB)

// WithClock sets the clock used for timestamps and lock expiry (P6).
func WithClock(now func() time.Time) Option { return func(db *DB) { db.now = now } }

// SQLite synchronous modes (PRAGMA synchronous) that --sqlite-synchronous
// offers: NORMAL, the default, may lose the last commits on power failure
// (never on a crash of the process) but never corrupts; FULL syncs every
// commit and loses nothing acknowledged.
const (
	SyncNormal = "normal"
	SyncFull   = "full"
)

// WithSQLiteSynchronous sets SQLite's synchronous mode (SyncNormal or
// SyncFull); PostgreSQL ignores it.
func WithSQLiteSynchronous(mode string) Option { return func(db *DB) { db.sync = mode } }

// Open connects to the database that dsn names (see DialectOf) without
// migrating it; call Migrate before use.
func Open(ctx context.Context, dsn string, opts ...Option) (*DB, error) {
	db := &DB{dialect: DialectOf(dsn), now: time.Now}
	for _, o := range opts {
		o(db)
	}
	var err error
	switch db.dialect {
	case Postgres:
		db.write, err = openPostgres(dsn)
		db.read = db.write
	default:
		db.write, db.read, err = openSQLite(dsn, db.sync)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", db.dialect, err)
	}
	if err := db.write.PingContext(ctx); err != nil {
		db.Close()
		if db.dialect != Postgres {
			return nil, sqliteOpenError(dsn, err)
		}
		return nil, fmt.Errorf("open %s: %w", db.dialect, err)
	}
	db.queries = &queries{rd: db.read, wr: db.write, d: db.dialect, now: db.now, begin: db.write}
	if db.dialect != Postgres {
		db.queries.rd, db.queries.stmts = newStmtCache(db.read), newStmtCache(db.write)
		db.queries.wr = db.queries.stmts
	}
	return db, nil
}

// Dialect tells which database db talks to.
func (db *DB) Dialect() Dialect { return db.dialect }

// Close closes both pools.
func (db *DB) Close() error {
	err := db.write.Close()
	if db.read != db.write {
		err = errors.Join(err, db.read.Close())
	}
	return err
}

// Ready reports an error unless the database answers and every embedded
// migration has been applied.
// A database that answers reads but refuses writes (read-only, disk
// full) is not ready either: a write that changes nothing is tried in a
// transaction that is rolled back (issue 14).
func (db *DB) Ready(ctx context.Context) error {
	n, err := db.Pending(ctx)
	if err != nil {
		return unavailable(err)
	}
	if n > 0 {
		return fmt.Errorf("%d migrations pending", n)
	}
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return unavailable(err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `UPDATE role_revision SET revision = revision WHERE id = 1`); err != nil {
		return fmt.Errorf("the database refuses writes: %w", unavailable(err))
	}
	return nil
}

// InTx runs fn in one transaction (see store.Store).
func (db *DB) InTx(ctx context.Context, fn func(tx store.Tx) error) error {
	return db.queries.inTx(ctx, func(q *queries) error { return fn(q) })
}

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// queries implements store.Tx over a querier. Outside a transaction rd and
// wr are the read and write pools and begin opens new transactions; inside
// one, rd and wr are the transaction and begin is nil.
type queries struct {
	rd, wr querier
	d      Dialect
	now    func() time.Time
	begin  *sql.DB
	stmts  *stmtCache // SQLite: the writer pool's prepared statements (begin's)
}

var _ store.Tx = (*queries)(nil)

// inTx runs fn in a transaction, or in the current one if q already is one,
// so that a method writing several statements is atomic either way.
func (q *queries) inTx(ctx context.Context, fn func(q *queries) error) error {
	if q.begin == nil {
		return fn(q)
	}
	tx, err := q.begin.BeginTx(ctx, nil)
	if err != nil {
		return unavailable(err)
	}
	txq := &queries{rd: tx, wr: tx, d: q.d, now: q.now}
	var ts *txStmts
	if q.stmts != nil {
		ts = &txStmts{tx: tx, c: q.stmts}
		txq.rd, txq.wr = ts, ts
	}
	if err := fn(txq); err != nil {
		_ = tx.Rollback()
		return unavailable(err)
	}
	if err := tx.Commit(); err != nil {
		return q.d.translate(err)
	}
	if ts != nil {
		ts.prepareMissed(ctx)
	}
	return nil
}

// exec runs a write and translates constraint violations.
func (q *queries) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	res, err := q.wr.ExecContext(ctx, query, args...)
	return res, q.d.translate(err)
}

// execOne runs a write that must touch exactly one row, else ErrNotFound.
func (q *queries) execOne(ctx context.Context, query string, args ...any) error {
	res, err := q.exec(ctx, query, args...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// stamp returns the current time in microseconds, the unit of every stored time.
func (q *queries) stamp() int64 { return toMicros(q.now()) }

func toMicros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UTC().UnixMicro()
}

func fromMicros(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}

// newID makes an opaque id: 48 bits of milliseconds, then 80 random bits, in
// hex. Ids made later sort later, which keeps B-tree inserts local.
func newID(now time.Time) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(now.UnixMilli())<<16)
	if _, err := rand.Read(b[6:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return hex.EncodeToString(b[:])
}

// notFound turns sql.ErrNoRows into store.ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) || badText(err) {
		return store.ErrNotFound
	}
	return unavailable(err)
}

// unavailable marks err with store.ErrUnavailable when the driver says the
// database cannot serve now (issue 14); a connection that ends in the
// middle of an answer (EOF) is one that the database dropped.
func unavailable(err error) error {
	if err != nil && !errors.Is(err, store.ErrUnavailable) && (pgUnavailable(err) || sqliteUnavailable(err) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed)) {
		return errors.Join(store.ErrUnavailable, err)
	}
	return err
}
