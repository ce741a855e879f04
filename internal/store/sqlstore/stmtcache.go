package sqlstore

import (
	"context"
	"database/sql"
	"sync"
)

// maxCachedStatements bounds a stmtCache; queries beyond it (say, ones
// built with a varying number of placeholders) run unprepared as before.
const maxCachedStatements = 512

// stmtCache is a querier over an SQLite pool that prepares each query text
// once and reuses the prepared statement. The modernc driver otherwise
// parses every statement on every call, which was the largest cost of the
// token endpoint after the RSA signature (docs/performance.md, issue 5).
// PostgreSQL does not need it: pgx caches prepared statements per
// connection itself.
type stmtCache struct {
	db *sql.DB

	mu    sync.Mutex
	stmts map[string]*sql.Stmt
}

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, stmts: map[string]*sql.Stmt{}}
}

// stmt returns the prepared statement for query, or nil when it cannot be
// prepared (the caller then runs the query directly and gets its error) or
// the cache is full.
func (c *stmtCache) stmt(ctx context.Context, query string) *sql.Stmt {
	c.mu.Lock()
	st, ok := c.stmts[query]
	full := len(c.stmts) >= maxCachedStatements
	c.mu.Unlock()
	if ok || full {
		return st
	}
	st, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if prev, ok := c.stmts[query]; ok { // another goroutine was first
		st.Close()
		return prev
	}
	c.stmts[query] = st
	return st
}

func (c *stmtCache) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := c.stmt(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return c.db.ExecContext(ctx, query, args...)
}

func (c *stmtCache) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := c.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return c.db.QueryContext(ctx, query, args...)
}

func (c *stmtCache) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := c.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return c.db.QueryRowContext(ctx, query, args...)
}

// cached returns the prepared statement for query if there is one.
func (c *stmtCache) cached(query string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stmts[query]
}

// txStmts is a querier over a transaction of the pool that c caches. A
// statement already prepared on the transaction's connection is reused
// (sql.Tx.StmtContext). One that is not is run directly and remembered in
// missed, to be prepared once the transaction has let go of its connection
// (the SQLite writer pool has only one: preparing on the pool inside the
// transaction would wait for ever).
type txStmts struct {
	tx     *sql.Tx
	c      *stmtCache
	missed []string
}

func (t *txStmts) lookup(query string) *sql.Stmt {
	st := t.c.cached(query)
	if st == nil {
		t.missed = append(t.missed, query)
	}
	return st
}

// prepareMissed prepares the queries the transaction ran unprepared.
func (t *txStmts) prepareMissed(ctx context.Context) {
	for _, q := range t.missed {
		t.c.stmt(ctx, q)
	}
}

func (t *txStmts) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := t.lookup(query); st != nil {
		return t.tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return t.tx.ExecContext(ctx, query, args...)
}

func (t *txStmts) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := t.lookup(query); st != nil {
		return t.tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	return t.tx.QueryContext(ctx, query, args...)
}

func (t *txStmts) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := t.lookup(query); st != nil {
		return t.tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return t.tx.QueryRowContext(ctx, query, args...)
}
