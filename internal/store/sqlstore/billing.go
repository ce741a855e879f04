package sqlstore

import (
	"context"

	"opsiam/internal/store"
)

func (q *queries) PutBillingSnapshot(ctx context.Context, s store.BillingSnapshot) error {
	if s.TakenAt.IsZero() {
		s.TakenAt = q.now()
	}
	_, err := q.exec(ctx, `INSERT INTO billing_snapshots (day, billed, non_billed, taken_at) VALUES ($1, $2, $3, $4)
 ON CONFLICT (day) DO UPDATE SET billed = excluded.billed, non_billed = excluded.non_billed, taken_at = excluded.taken_at`,
		s.Day, s.Billed, s.NonBilled, toMicros(s.TakenAt))
	return err
}

func (q *queries) ListBillingSnapshots(ctx context.Context, from, to string) ([]store.BillingSnapshot, error) {
	b := &builder{}
	if from != "" {
		b.cond("day >= " + b.arg(from))
	}
	if to != "" {
		b.cond("day <= " + b.arg(to))
	}
	rows, err := q.rd.QueryContext(ctx, `SELECT day, billed, non_billed, taken_at FROM billing_snapshots`+b.whereSQL()+` ORDER BY day`, b.args...)
	return scanAll(rows, err, func(r interface{ Scan(...any) error }) (store.BillingSnapshot, error) {
		var s store.BillingSnapshot
		var at int64
		err := r.Scan(&s.Day, &s.Billed, &s.NonBilled, &at)
		s.TakenAt = fromMicros(at)
		return s, err
	})
}
