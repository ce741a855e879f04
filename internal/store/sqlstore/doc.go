// Package sqlstore implements store.Store on database/sql for two dialects:
// SQLite (the embedded default, through the pure-Go modernc.org/sqlite
// driver) and PostgreSQL (through pgx). One set of queries serves both: they
// use $N placeholders, which both accept, and times are stored as UTC
// microseconds. The few differences (opening, spotting a unique violation,
// the schema files) live in sqlite.go, postgres.go and migrations/.
//
// SQLite runs in WAL mode with a busy timeout and foreign keys on, and with
// one writer connection: all writes and transactions go through it, reads
// outside a transaction use a separate pool. A Store method must therefore
// not be called on the Store itself from inside InTx; use the Tx handed in.
package sqlstore
