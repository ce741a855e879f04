package sqlstore

import (
	"context"
	"encoding/json"
	"strconv"

	"opsiam/internal/store"
)

func (q *queries) AppendAudit(ctx context.Context, r store.AuditRecord) error {
	if r.At.IsZero() {
		r.At = q.now()
	}
	_, err := q.exec(ctx, `INSERT INTO audit_log (id, at, actor_id, actor_name, action, target_type, target_id,
 source, before, after) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		newID(r.At), toMicros(r.At), r.ActorID, r.ActorName, r.Action, r.TargetType, r.TargetID, r.Source,
		string(r.Before), string(r.After))
	return err
}

func (q *queries) ListAudit(ctx context.Context, aq store.AuditQuery) (store.Page[store.AuditRecord], error) {
	b := &builder{}
	if aq.ActorID != "" {
		b.cond("a.actor_id = " + b.arg(aq.ActorID))
	}
	if aq.TargetID != "" {
		b.cond("a.target_id = " + b.arg(aq.TargetID))
	}
	if aq.Action != "" {
		b.cond("a.action = " + b.arg(aq.Action))
	}
	if !aq.Since.IsZero() {
		b.cond("a.at >= " + b.arg(toMicros(aq.Since)))
	}
	if !aq.Until.IsZero() {
		b.cond("a.at < " + b.arg(toMicros(aq.Until)))
	}
	// Newest first, by the insertion sequence.
	tail, limit, err := b.page("a", order{key: sortKey{col: "seq", integer: true}, desc: true}, aq.Cursor, aq.Limit)
	if err != nil {
		return store.Page[store.AuditRecord]{}, err
	}
	rows, err := q.rd.QueryContext(ctx, `SELECT a.seq, a.id, a.at, a.actor_id, a.actor_name, a.action, a.target_type,
 a.target_id, a.source, a.before, a.after FROM audit_log a`+b.whereSQL()+tail, b.args...)
	type row struct {
		seq int64
		r   store.AuditRecord
	}
	items, err := scanAll(rows, err, func(s interface{ Scan(...any) error }) (row, error) {
		var x row
		var at int64
		var before, after string
		err := s.Scan(&x.seq, &x.r.ID, &at, &x.r.ActorID, &x.r.ActorName, &x.r.Action, &x.r.TargetType,
			&x.r.TargetID, &x.r.Source, &before, &after)
		x.r.At = fromMicros(at)
		if before != "" {
			x.r.Before = json.RawMessage(before)
		}
		if after != "" {
			x.r.After = json.RawMessage(after)
		}
		return x, err
	})
	if err != nil {
		return store.Page[store.AuditRecord]{}, err
	}
	p := finish(items, limit, func(x row) (string, string) { return strconv.FormatInt(x.seq, 10), x.r.ID })
	out := store.Page[store.AuditRecord]{Next: p.Next, Items: make([]store.AuditRecord, len(p.Items))}
	for i, x := range p.Items {
		out.Items[i] = x.r
	}
	return out, nil
}

func (q *queries) Enqueue(ctx context.Context, e store.Event) (store.Event, error) {
	e.CreatedAt = fromMicros(toMicros(q.now()))
	e.ID = newID(e.CreatedAt)
	if len(e.Payload) == 0 {
		e.Payload = json.RawMessage("{}")
	}
	err := q.wr.QueryRowContext(ctx, `INSERT INTO outbox_events (id, topic, aggregate, payload, created_at)
 VALUES ($1, $2, $3, $4, $5) RETURNING seq`,
		e.ID, e.Topic, e.Aggregate, string(e.Payload), toMicros(e.CreatedAt)).Scan(&e.Seq)
	if err != nil {
		return store.Event{}, q.d.translate(err)
	}
	return e, nil
}
