package sqlstore

import "context"

// directoryLock is the advisory lock key of LockDirectory.
const directoryLock = 0x6f70736961 // "opsia"

// LockDirectory takes the directory lock for the rest of the transaction
// (PostgreSQL); SQLite's single writer already serialises, and outside a
// transaction nothing is held.
func (q *queries) LockDirectory(ctx context.Context) error {
	if q.d != Postgres || q.begin != nil {
		return nil
	}
	_, err := q.wr.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(directoryLock))
	return err
}
