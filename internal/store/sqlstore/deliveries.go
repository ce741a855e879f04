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

// maxBatch bounds the rows handled by one statement (PostgreSQL allows
// 65,535 parameters).
const maxBatch = 1000

func (q *queries) FanOut(ctx context.Context, limit int, targets func(store.Event) []string, now time.Time) (int, error) {
	if limit <= 0 || limit > maxBatch {
		limit = maxBatch
	}
	n := 0
	err := q.inTx(ctx, func(q *queries) error {
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

// claimSQL selects the deliveries that may go now and leases them. A
// delivery may go when it is pending, due, not leased, no earlier event of
// its aggregate is still waiting to be fanned out, and no earlier delivery
// of its aggregate to the same target is pending or dead. On PostgreSQL the
// inner SELECT locks its rows and skips rows locked by another worker's
// claim; a row whose lease another worker set meanwhile is re-checked
// against lease_until after the lock (READ COMMITTED) and dropped.
func (d Dialect) claimSQL() string {
	return `UPDATE outbox_deliveries SET claimed_by = $1, lease_until = $2, attempts = attempts + 1, updated_at = $3
 WHERE (event_seq, target) IN (SELECT c.event_seq, c.target FROM outbox_deliveries c
  WHERE c.state = 'pending' AND c.next_attempt_at <= $3 AND c.lease_until <= $3
   AND NOT EXISTS (SELECT 1 FROM outbox_deliveries p WHERE p.target = c.target AND p.aggregate = c.aggregate
    AND p.event_seq < c.event_seq AND p.state IN ('pending', 'dead'))
   AND NOT EXISTS (SELECT 1 FROM outbox_events e WHERE e.aggregate = c.aggregate AND e.seq < c.event_seq AND NOT e.dispatched)
  ORDER BY c.event_seq LIMIT $4` + d.lockClause() + `)
 RETURNING event_seq, target`
}

func (q *queries) ClaimDeliveries(ctx context.Context, c store.Claim) ([]store.Delivery, error) {
	if c.Worker == "" {
		return nil, fmt.Errorf("claim: worker name required")
	}
	if c.Limit <= 0 || c.Limit > maxBatch {
		c.Limit = maxBatch
	}
	var out []store.Delivery
	err := q.inTx(ctx, func(q *queries) error {
		rows, err := q.wr.QueryContext(ctx, q.d.claimSQL(), c.Worker, toMicros(c.LeaseUntil), toMicros(c.Now), c.Limit)
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

// deliveryCols selects a delivery joined with its event (aliases d and e).
const deliveryCols = `d.event_seq, d.target, d.state, d.attempts, d.next_attempt_at, d.last_error, d.claimed_by,
 d.lease_until, d.created_at, d.updated_at, e.id, e.topic, e.aggregate, e.payload, e.created_at`

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
	err := q.inTx(ctx, func(q *queries) error {
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
	})
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
