package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"opsiam/internal/directory"
	"opsiam/internal/store"
)

// Delivery bookkeeping of the outbox (P1): see store.Deliveries and
// docs/architecture.md "Provisioning". Each statement is written once for
// both dialects; where PostgreSQL needs row locks so that several replicas
// share the work (FOR UPDATE SKIP LOCKED), lockClause adds them. SQLite has a
// single writer connection, so its transactions never overlap and need none.

// lockClause returns what makes a SELECT skip rows that another worker's
// open transaction holds.
func (d Dialect) lockClause() string {
	if d == Postgres {
		return " FOR UPDATE SKIP LOCKED"
	}
	return ""
}

// bookkeeping runs the worker's own writes in one transaction. On
// PostgreSQL it commits without waiting for the WAL flush (synchronous_commit
// off, this transaction only): a crash of the database may lose the last
// claims and outcomes, never a change or its events, and delivery is at
// least once anyway, so a lost "done" only means one more delivery, in
// order. That saves one disk flush per claim and settle.
func (q *queries) bookkeeping(ctx context.Context, fn func(q *queries) error) error {
	if q.begin == nil {
		return fn(q)
	}
	return q.inTx(ctx, func(q *queries) error {
		if q.d == Postgres {
			if _, err := q.wr.ExecContext(ctx, `SET LOCAL synchronous_commit = off`); err != nil {
				return err
			}
		}
		return fn(q)
	})
}

// maxBatch bounds the rows handled by one statement (PostgreSQL allows
// 65,535 parameters).
const maxBatch = 1000

func (q *queries) FanOut(ctx context.Context, limit int, targets func(store.Event) []string, now time.Time) (int, error) {
	if limit <= 0 || limit > maxBatch {
		limit = maxBatch
	}
	n := 0
	err := q.bookkeeping(ctx, func(q *queries) error {
		rows, err := q.wr.QueryContext(ctx, `SELECT seq, id, topic, aggregate, payload, created_at FROM outbox_events
 WHERE NOT dispatched ORDER BY seq LIMIT $1`+q.d.lockClause(), limit)
		events, err := scanAll(rows, err, scanEvent)
		if err != nil {
			return err
		}
		if len(events) == 0 {
			return nil
		}
		type row struct {
			seq       int64
			target    string
			aggregate string
		}
		var rowsOut []row
		seqs := make([]string, len(events))
		for i, e := range events {
			seqs[i] = strconv.FormatInt(e.Seq, 10)
			for _, t := range targets(e) {
				rowsOut = append(rowsOut, row{e.Seq, t, e.Aggregate})
			}
		}
		at := toMicros(now)
		for len(rowsOut) > 0 {
			k := min(len(rowsOut), maxBatch/3)
			b := &builder{}
			ts := b.arg(at)
			tuples := make([]string, k)
			for i, r := range rowsOut[:k] {
				tuples[i] = "(" + b.arg(r.seq) + ", " + b.arg(r.target) + ", " + b.arg(r.aggregate) + ", " + ts + ", " + ts + ", " + ts + ")"
			}
			if _, err := q.exec(ctx, `INSERT INTO outbox_deliveries (event_seq, target, aggregate, next_attempt_at, created_at, updated_at)
 VALUES `+strings.Join(tuples, ", ")+` ON CONFLICT DO NOTHING`, b.args...); err != nil {
				return err
			}
			rowsOut = rowsOut[k:]
		}
		// seqs are integers from the database: safe to inline.
		if _, err := q.exec(ctx, `UPDATE outbox_events SET dispatched = true WHERE seq IN (`+strings.Join(seqs, ", ")+`)`); err != nil {
			return err
		}
		n = len(events)
		return nil
	})
	return n, err
}

// lockClauseOf is lockClause for a query that joins: it locks rows of the
// named alias only.
func (d Dialect) lockClauseOf(alias string) string {
	if d == Postgres {
		return " FOR UPDATE OF " + alias + " SKIP LOCKED"
	}
	return ""
}

// claimSQL selects the deliveries that may go now and leases them. A
// delivery may go when it is the head of its (target, aggregate) queue (no
// earlier delivery there is pending or dead), pending, due and not leased,
// and no earlier event of its aggregate is still waiting to be fanned out.
// Heads are found with one GROUP BY over the index of open deliveries, so a
// long queue behind a few heads costs one index scan, not one probe per
// waiting row. On PostgreSQL the outer SELECT locks its rows and skips rows
// locked by another worker's claim; a row whose lease or state another
// worker changed meanwhile is re-checked after the lock (READ COMMITTED)
// and dropped. SQLite has one writer, so the same statement needs no lock.
func (d Dialect) claimSQL() string {
	return `UPDATE outbox_deliveries SET claimed_by = $1, lease_until = $2, attempts = attempts + 1, updated_at = $3
 WHERE (event_seq, target) IN (
  WITH heads AS (SELECT target, aggregate, min(event_seq) AS event_seq FROM outbox_deliveries
   WHERE state IN ('pending', 'dead') GROUP BY target, aggregate)
  SELECT c.event_seq, c.target FROM heads h JOIN outbox_deliveries c ON c.event_seq = h.event_seq AND c.target = h.target
  WHERE c.state = 'pending' AND c.next_attempt_at <= $3 AND c.lease_until <= $3
   AND NOT EXISTS (SELECT 1 FROM outbox_events e WHERE e.aggregate = c.aggregate AND e.seq < c.event_seq AND NOT e.dispatched)
  ORDER BY c.event_seq LIMIT $4` + d.lockClauseOf("c") + `)
 RETURNING event_seq, target`
}

// claimNextSQL is claimSQL for the one queue of (target, aggregate) after
// event_seq $7: its head, if that may go now.
func (d Dialect) claimNextSQL() string {
	return `UPDATE outbox_deliveries SET claimed_by = $1, lease_until = $2, attempts = attempts + 1, updated_at = $3
 WHERE (event_seq, target) IN (SELECT c.event_seq, c.target FROM outbox_deliveries c
  WHERE c.state = 'pending' AND c.next_attempt_at <= $3 AND c.lease_until <= $3
   AND c.target = $5 AND c.aggregate = $6 AND c.event_seq > $7
   AND NOT EXISTS (SELECT 1 FROM outbox_deliveries p WHERE p.target = c.target AND p.aggregate = c.aggregate
    AND p.event_seq < c.event_seq AND p.state IN ('pending', 'dead'))
   AND NOT EXISTS (SELECT 1 FROM outbox_events e WHERE e.aggregate = c.aggregate AND e.seq < c.event_seq AND NOT e.dispatched)
  ORDER BY c.event_seq LIMIT $4` + d.lockClause() + `)
 RETURNING event_seq, target`
}

func (q *queries) ClaimDeliveries(ctx context.Context, c store.Claim) ([]store.Delivery, error) {
	return q.claim(ctx, c, q.d.claimSQL())
}

func (q *queries) ClaimNext(ctx context.Context, c store.Claim, done store.Settle) (store.Delivery, bool, error) {
	c.Limit = 1
	var next store.Delivery
	found := false
	err := q.bookkeeping(ctx, func(q *queries) error {
		n, err := q.settle(ctx, []store.Settle{done})
		if err != nil || n == 0 {
			return err // n == 0: the claim was lost; the next is not ours to take
		}
		after := done.Delivery
		ds, err := q.claim(ctx, c, q.d.claimNextSQL(), after.Target, after.Event.Aggregate, after.Event.Seq)
		if err == nil && len(ds) == 1 {
			next, found = ds[0], true
		}
		return err
	})
	return next, found, err
}

func (q *queries) claim(ctx context.Context, c store.Claim, query string, args ...any) ([]store.Delivery, error) {
	if c.Worker == "" {
		return nil, fmt.Errorf("claim: worker name required")
	}
	if c.Limit <= 0 || c.Limit > maxBatch {
		c.Limit = maxBatch
	}
	args = append([]any{c.Worker, toMicros(c.LeaseUntil), toMicros(c.Now), c.Limit}, args...)
	var out []store.Delivery
	if q.d == Postgres {
		// One statement: the UPDATE hands its new rows to the join with
		// the events (the main query would not see them in the table).
		err := q.bookkeeping(ctx, func(q *queries) error {
			rows, err := q.wr.QueryContext(ctx, `WITH d AS (`+strings.Replace(query, "RETURNING event_seq, target",
				"RETURNING "+strings.ReplaceAll(deliveryRowCols, "d.", ""), 1)+`)
 SELECT `+deliveryCols+` FROM d JOIN outbox_events e ON e.seq = d.event_seq ORDER BY d.event_seq, d.target`, args...)
			out, err = scanAll(rows, err, scanDelivery)
			return err
		})
		return out, err
	}
	// SQLite: RETURNING may not name another table; read the events after.
	err := q.inTx(ctx, func(q *queries) error {
		rows, err := q.wr.QueryContext(ctx, query, args...)
		keys, err := scanAll(rows, err, func(s interface{ Scan(...any) error }) (store.DeliveryKey, error) {
			var k store.DeliveryKey
			return k, s.Scan(&k.Seq, &k.Target)
		})
		if err != nil || len(keys) == 0 {
			return err
		}
		out, err = q.deliveriesByKey(ctx, keys)
		return err
	})
	return out, err
}

// deliveryRowCols are the delivery's own columns (alias d).
const deliveryRowCols = `d.event_seq, d.target, d.state, d.attempts, d.next_attempt_at, d.last_error, d.claimed_by,
 d.lease_until, d.created_at, d.updated_at`

// deliveryCols selects a delivery joined with its event (aliases d and e).
const deliveryCols = deliveryRowCols + `, e.id, e.topic, e.aggregate, e.payload, e.created_at`

func scanDelivery(s interface{ Scan(...any) error }) (store.Delivery, error) {
	var d store.Delivery
	var state, payload string
	var next, lease, created, updated, ecreated int64
	err := s.Scan(&d.Event.Seq, &d.Target, &state, &d.Attempts, &next, &d.LastError, &d.ClaimedBy,
		&lease, &created, &updated, &d.Event.ID, &d.Event.Topic, &d.Event.Aggregate, &payload, &ecreated)
	d.State = store.DeliveryState(state)
	d.NextAttemptAt, d.LeaseUntil = fromMicros(next), fromMicros(lease)
	d.CreatedAt, d.UpdatedAt = fromMicros(created), fromMicros(updated)
	d.Event.Payload, d.Event.CreatedAt = json.RawMessage(payload), fromMicros(ecreated)
	return d, err
}

func scanEvent(s interface{ Scan(...any) error }) (store.Event, error) {
	var e store.Event
	var payload string
	var created int64
	err := s.Scan(&e.Seq, &e.ID, &e.Topic, &e.Aggregate, &payload, &created)
	e.Payload, e.CreatedAt = json.RawMessage(payload), fromMicros(created)
	return e, err
}

// deliveriesByKey loads deliveries in event order.
func (q *queries) deliveriesByKey(ctx context.Context, keys []store.DeliveryKey) ([]store.Delivery, error) {
	var out []store.Delivery
	for len(keys) > 0 {
		k := min(len(keys), maxBatch/2)
		b := &builder{}
		tuples := make([]string, k)
		for i, key := range keys[:k] {
			tuples[i] = "(" + b.arg(key.Seq) + ", " + b.arg(key.Target) + ")"
		}
		rows, err := q.wr.QueryContext(ctx, `SELECT `+deliveryCols+` FROM outbox_deliveries d
 JOIN outbox_events e ON e.seq = d.event_seq WHERE (d.event_seq, d.target) IN (`+strings.Join(tuples, ", ")+`)
 ORDER BY d.event_seq, d.target`, b.args...)
		ds, err := scanAll(rows, err, scanDelivery)
		if err != nil {
			return nil, err
		}
		out = append(out, ds...)
		keys = keys[k:]
	}
	return out, nil
}

func (q *queries) SettleDeliveries(ctx context.Context, ss []store.Settle) (int, error) {
	total := 0
	err := q.bookkeeping(ctx, func(q *queries) error {
		var err error
		total, err = q.settle(ctx, ss)
		return err
	})
	return total, err
}

// settle records outcomes inside the caller's transaction.
func (q *queries) settle(ctx context.Context, ss []store.Settle) (int, error) {
	total := 0
	body := func(q *queries) error {
		// Successes in batches: one statement per chunk.
		var done []store.Settle
		for _, s := range ss {
			if s.Err == "" {
				done = append(done, s)
				continue
			}
			state, retry := store.DeliveryPending, s.RetryAt
			if s.Dead {
				state, retry = store.DeliveryDead, time.Time{}
			}
			res, err := q.exec(ctx, `UPDATE outbox_deliveries SET state = $1, next_attempt_at = $2, last_error = $3,
 lease_until = 0, updated_at = $4
 WHERE event_seq = $5 AND target = $6 AND claimed_by = $7 AND attempts = $8 AND state = 'pending'`,
				string(state), toMicros(retry), truncate(s.Err, 2000), toMicros(s.Now),
				s.Delivery.Event.Seq, s.Delivery.Target, s.Delivery.ClaimedBy, s.Delivery.Attempts)
			if err != nil {
				return err
			}
			n, _ := res.RowsAffected()
			total += int(n)
		}
		for len(done) > 0 {
			k := min(len(done), maxBatch/4)
			b := &builder{}
			now := b.arg(toMicros(done[0].Now))
			tuples := make([]string, k)
			for i, s := range done[:k] {
				tuples[i] = "(" + b.arg(s.Delivery.Event.Seq) + ", " + b.arg(s.Delivery.Target) + ", " +
					b.arg(s.Delivery.ClaimedBy) + ", " + b.arg(s.Delivery.Attempts) + ")"
			}
			res, err := q.exec(ctx, `UPDATE outbox_deliveries SET state = 'done', last_error = '', lease_until = 0,
 updated_at = `+now+` WHERE state = 'pending' AND (event_seq, target, claimed_by, attempts) IN (`+strings.Join(tuples, ", ")+`)`,
				b.args...)
			if err != nil {
				return err
			}
			n, _ := res.RowsAffected()
			total += int(n)
			done = done[k:]
		}
		return nil
	}
	err := body(q)
	return total, err
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8Start(s[n]) {
		n--
	}
	return s[:n]
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

func (q *queries) ListDeliveries(ctx context.Context, dq store.DeliveryQuery) (store.Page[store.Delivery], error) {
	b := &builder{}
	if dq.State != "" {
		switch dq.State {
		case store.DeliveryPending, store.DeliveryDone, store.DeliveryDead, store.DeliveryDiscarded:
		default:
			return store.Page[store.Delivery]{}, directory.FieldErrors{{Field: "state", Code: "invalid",
				Message: "state: want pending, done, dead or discarded"}}
		}
		b.cond("d.state = " + b.arg(string(dq.State)))
	}
	if dq.Target != "" {
		b.cond("d.target = " + b.arg(dq.Target))
	}
	if dq.Cursor != "" {
		c, err := decodeCursor(dq.Cursor)
		seq, perr := strconv.ParseInt(c.V, 10, 64)
		if err != nil || perr != nil {
			return store.Page[store.Delivery]{}, directory.FieldErrors{{Field: "cursor", Code: "invalid",
				Message: "cursor: not a cursor this list handed out"}}
		}
		ps, pt := b.arg(seq), b.arg(c.I)
		b.cond(fmt.Sprintf("(d.event_seq > %s OR (d.event_seq = %s AND d.target > %s))", ps, ps, pt))
	}
	limit := clampLimit(dq.Limit)
	rows, err := q.rd.QueryContext(ctx, `SELECT `+deliveryCols+` FROM outbox_deliveries d
 JOIN outbox_events e ON e.seq = d.event_seq`+b.whereSQL()+fmt.Sprintf(` ORDER BY d.event_seq, d.target LIMIT %d`, limit+1), b.args...)
	items, err := scanAll(rows, err, scanDelivery)
	if err != nil {
		return store.Page[store.Delivery]{}, err
	}
	return finish(items, limit, func(d store.Delivery) (string, string) {
		return strconv.FormatInt(d.Event.Seq, 10), d.Target
	}), nil
}

func (q *queries) GetDelivery(ctx context.Context, k store.DeliveryKey) (store.Delivery, error) {
	d, err := scanDelivery(q.rd.QueryRowContext(ctx, `SELECT `+deliveryCols+` FROM outbox_deliveries d
 JOIN outbox_events e ON e.seq = d.event_seq WHERE d.event_seq = $1 AND d.target = $2`, k.Seq, k.Target))
	return d, notFound(err)
}

func (q *queries) ReplayDelivery(ctx context.Context, k store.DeliveryKey, now time.Time) error {
	return q.moveDead(ctx, k, `state = 'pending', attempts = 0, next_attempt_at = $1, lease_until = 0, updated_at = $1`,
		"'dead', 'discarded'", now)
}

func (q *queries) DiscardDelivery(ctx context.Context, k store.DeliveryKey, now time.Time) error {
	return q.moveDead(ctx, k, `state = 'discarded', updated_at = $1`, "'dead'", now)
}

// moveDead applies set to the delivery k if its state is one of from:
// ErrNotFound if there is no such delivery, ErrConflict if its state differs.
func (q *queries) moveDead(ctx context.Context, k store.DeliveryKey, set, from string, now time.Time) error {
	return q.inTx(ctx, func(q *queries) error {
		res, err := q.exec(ctx, `UPDATE outbox_deliveries SET `+set+` WHERE event_seq = $2 AND target = $3 AND state IN (`+from+`)`,
			toMicros(now), k.Seq, k.Target)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 1 {
			return nil
		}
		var state string
		err = q.wr.QueryRowContext(ctx, `SELECT state FROM outbox_deliveries WHERE event_seq = $1 AND target = $2`, k.Seq, k.Target).Scan(&state)
		if err != nil {
			return notFound(err)
		}
		return fmt.Errorf("%w: the delivery is %s", store.ErrConflict, state)
	})
}

func (q *queries) CountDeliveries(ctx context.Context) (map[store.DeliveryState]int, error) {
	rows, err := q.rd.QueryContext(ctx, `SELECT state, count(*) FROM outbox_deliveries GROUP BY state`)
	type kv struct {
		s string
		n int
	}
	items, err := scanAll(rows, err, func(s interface{ Scan(...any) error }) (kv, error) {
		var x kv
		return x, s.Scan(&x.s, &x.n)
	})
	if err != nil {
		return nil, err
	}
	out := map[store.DeliveryState]int{}
	for _, x := range items {
		out[store.DeliveryState(x.s)] = x.n
	}
	return out, nil
}

func (q *queries) PurgeOutbox(ctx context.Context, before time.Time, limit int) (int, error) {
	if limit <= 0 || limit > maxBatch {
		limit = maxBatch
	}
	// Deliveries go with their event (ON DELETE CASCADE).
	res, err := q.exec(ctx, `DELETE FROM outbox_events WHERE seq IN (SELECT e.seq FROM outbox_events e
 WHERE e.dispatched AND e.created_at < $1
  AND NOT EXISTS (SELECT 1 FROM outbox_deliveries d WHERE d.event_seq = e.seq AND d.state IN ('pending', 'dead'))
 ORDER BY e.seq LIMIT $2)`, toMicros(before), limit)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}
