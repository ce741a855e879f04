package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strconv"

	"opsiam/internal/directory"
	"opsiam/internal/store"
)

const tombstoneCols = `t.id, t.username, t.email, t.customer_id, t.itsm_link, t.deleted_at, t.taken_over_by,
 t.taken_over_at, t.version`

// tombstoneSorts are the fields tombstones can be sorted by (store.TombstoneQuery).
var tombstoneSorts = map[string]sortKey{
	"username":   {col: "username_key"},
	"email":      {col: "email_key"},
	"deleted_at": {col: "deleted_at", integer: true},
}

func scanTombstone(r interface{ Scan(...any) error }) (directory.Tombstone, error) {
	var t directory.Tombstone
	var customer, takenBy sql.NullString
	var deleted, takenAt int64
	if err := r.Scan(&t.ID, &t.Username, &t.Email, &customer, &t.ITSMLink, &deleted, &takenBy, &takenAt, &t.Version); err != nil {
		return t, notFound(err)
	}
	t.CustomerID = directory.CustomerID(customer.String)
	t.TakenOverBy = directory.UserID(takenBy.String)
	t.DeletedAt, t.TakenOverAt = fromMicros(deleted), fromMicros(takenAt)
	return t, nil
}

func (q *queries) CreateTombstone(ctx context.Context, t directory.Tombstone) (directory.Tombstone, error) {
	now := q.now()
	if t.DeletedAt.IsZero() {
		t.DeletedAt = now
	}
	t.ID = directory.TombstoneID(newID(now))
	t.DeletedAt, t.TakenOverAt = fromMicros(toMicros(t.DeletedAt)), fromMicros(toMicros(t.TakenOverAt))
	t.Version = 1
	_, err := q.exec(ctx, `INSERT INTO tombstones (id, username, username_key, email, email_key, customer_id,
 itsm_link, deleted_at, taken_over_by, taken_over_at, updated_at, version)
 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		string(t.ID), t.Username, directory.Key(t.Username), t.Email, directory.Key(t.Email),
		nullable(string(t.CustomerID)), t.ITSMLink, toMicros(t.DeletedAt), nullable(string(t.TakenOverBy)),
		toMicros(t.TakenOverAt), toMicros(now), t.Version)
	if err != nil {
		return directory.Tombstone{}, err
	}
	return t, nil
}

func (q *queries) GetTombstone(ctx context.Context, id directory.TombstoneID) (directory.Tombstone, error) {
	return scanTombstone(q.rd.QueryRowContext(ctx, `SELECT `+tombstoneCols+` FROM tombstones t WHERE t.id = $1`, string(id)))
}

func (q *queries) FindTombstones(ctx context.Context, username, email string) ([]directory.Tombstone, error) {
	b := &builder{}
	var or []string
	if k := directory.Key(username); k != "" {
		or = append(or, "t.username_key = "+b.arg(k))
	}
	if k := directory.Key(email); k != "" {
		or = append(or, "t.email_key = "+b.arg(k))
	}
	if len(or) == 0 {
		return nil, nil
	}
	cond := or[0]
	if len(or) == 2 {
		cond = "(" + or[0] + " OR " + or[1] + ")"
	}
	b.cond(cond)
	b.cond("t.taken_over_by IS NULL")
	rows, err := q.rd.QueryContext(ctx, `SELECT `+tombstoneCols+` FROM tombstones t`+b.whereSQL()+
		` ORDER BY t.deleted_at, t.id`, b.args...)
	return scanAll(rows, err, scanTombstone)
}

// updateLive writes a tombstone that must still be live at version t.Version.
func (q *queries) updateLive(ctx context.Context, t directory.Tombstone, takenBy sql.NullString, takenAt int64) (directory.Tombstone, error) {
	res, err := q.exec(ctx, `UPDATE tombstones SET username = $1, username_key = $2, email = $3, email_key = $4,
 taken_over_by = $5, taken_over_at = $6, updated_at = $7, version = version + 1
 WHERE id = $8 AND version = $9 AND taken_over_by IS NULL`,
		t.Username, directory.Key(t.Username), t.Email, directory.Key(t.Email), takenBy, takenAt, q.stamp(),
		string(t.ID), t.Version)
	if err != nil {
		return directory.Tombstone{}, err
	}
	if err := q.checkVersioned(ctx, res, "tombstones", string(t.ID)); err != nil {
		return directory.Tombstone{}, err
	}
	return scanTombstone(q.wr.QueryRowContext(ctx, `SELECT `+tombstoneCols+` FROM tombstones t WHERE t.id = $1`, string(t.ID)))
}

func (q *queries) RenameTombstone(ctx context.Context, t directory.Tombstone) (directory.Tombstone, error) {
	return q.updateLive(ctx, t, sql.NullString{}, 0)
}

func (q *queries) TakeOverTombstone(ctx context.Context, t directory.Tombstone) (directory.Tombstone, error) {
	if t.TakenOverBy == "" {
		return directory.Tombstone{}, errors.New("take over tombstone: no user given")
	}
	at := toMicros(t.TakenOverAt)
	if at == 0 {
		at = q.stamp()
	}
	return q.updateLive(ctx, t, nullable(string(t.TakenOverBy)), at)
}

func (q *queries) ListTombstones(ctx context.Context, tq store.TombstoneQuery) (store.Page[directory.Tombstone], error) {
	o, err := parseSort(tq.Sort, "username", tombstoneSorts)
	if err != nil {
		return store.Page[directory.Tombstone]{}, err
	}
	b := &builder{}
	if p := directory.Key(tq.Q); p != "" {
		b.cond("(" + b.prefix("t.username_key", p) + " OR " + b.prefix("t.email_key", p) + ")")
	}
	switch {
	case tq.Live == nil:
	case *tq.Live:
		b.cond("t.taken_over_by IS NULL")
	default:
		b.cond("t.taken_over_by IS NOT NULL")
	}
	if tq.TakenOverBy != "" {
		b.cond("t.taken_over_by = " + b.arg(string(tq.TakenOverBy)))
	}
	tail, limit, err := b.page("t", o, tq.Cursor, tq.Limit)
	if err != nil {
		return store.Page[directory.Tombstone]{}, err
	}
	rows, err := q.rd.QueryContext(ctx, `SELECT `+tombstoneCols+` FROM tombstones t`+b.whereSQL()+tail, b.args...)
	items, err := scanAll(rows, err, scanTombstone)
	if err != nil {
		return store.Page[directory.Tombstone]{}, err
	}
	return finish(items, limit, func(t directory.Tombstone) (string, string) {
		switch o.key.col {
		case "email_key":
			return directory.Key(t.Email), string(t.ID)
		case "deleted_at":
			return strconv.FormatInt(toMicros(t.DeletedAt), 10), string(t.ID)
		}
		return directory.Key(t.Username), string(t.ID)
	}), nil
}
