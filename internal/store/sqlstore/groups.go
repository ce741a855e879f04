package sqlstore

import (
	"context"
	"database/sql"
	"strconv"

	"opsiam/internal/directory"
	"opsiam/internal/store"
)

const groupCols = `g.id, g.name, g.email, g.description, g.created_at, g.updated_at, g.version, g.external_id`

var groupSorts = map[string]sortKey{"name": {col: "name_key"}, "created_at": {col: "created_at", integer: true}}

func scanGroup(r interface{ Scan(...any) error }) (directory.Group, error) {
	var g directory.Group
	var created, updated int64
	if err := r.Scan(&g.ID, &g.Name, &g.Email, &g.Description, &created, &updated, &g.Version, &g.ExternalID); err != nil {
		return g, notFound(err)
	}
	g.CreatedAt, g.UpdatedAt = fromMicros(created), fromMicros(updated)
	return g, nil
}

func scanGroups(rows *sql.Rows, err error) ([]directory.Group, error) {
	return scanAll(rows, err, scanGroup)
}

// scanAll reads every row with scan.
func scanAll[T any](rows *sql.Rows, err error, scan func(interface{ Scan(...any) error }) (T, error)) ([]T, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

func (q *queries) CreateGroup(ctx context.Context, g directory.Group) (directory.Group, error) {
	now := q.now()
	g.ID = directory.GroupID(newID(now))
	g.CreatedAt, g.UpdatedAt, g.Version = fromMicros(toMicros(now)), fromMicros(toMicros(now)), 1
	_, err := q.exec(ctx, `INSERT INTO groups (id, name, name_key, email, description, created_at, updated_at, version, external_id)
 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		g.ID, g.Name, directory.Key(g.Name), g.Email, g.Description, toMicros(g.CreatedAt), toMicros(g.UpdatedAt), g.Version, g.ExternalID)
	if err != nil {
		return directory.Group{}, err
	}
	return g, nil
}

func (q *queries) GetGroup(ctx context.Context, id directory.GroupID) (directory.Group, error) {
	return scanGroup(q.rd.QueryRowContext(ctx, `SELECT `+groupCols+` FROM groups g WHERE g.id = $1`, string(id)))
}

func (q *queries) GetGroupByName(ctx context.Context, name string) (directory.Group, error) {
	return scanGroup(q.rd.QueryRowContext(ctx, `SELECT `+groupCols+` FROM groups g WHERE g.name_key = $1`, directory.Key(name)))
}

func (q *queries) UpdateGroup(ctx context.Context, g directory.Group) (directory.Group, error) {
	res, err := q.exec(ctx, `UPDATE groups SET name = $1, name_key = $2, email = $3, description = $4,
 updated_at = $5, version = version + 1, external_id = $8 WHERE id = $6 AND version = $7`,
		g.Name, directory.Key(g.Name), g.Email, g.Description, q.stamp(), string(g.ID), g.Version, g.ExternalID)
	if err != nil {
		return directory.Group{}, err
	}
	if err := q.checkVersioned(ctx, res, "groups", string(g.ID)); err != nil {
		return directory.Group{}, err
	}
	return scanGroup(q.wr.QueryRowContext(ctx, `SELECT `+groupCols+` FROM groups g WHERE g.id = $1`, string(g.ID)))
}

func (q *queries) DeleteGroup(ctx context.Context, id directory.GroupID) error {
	return q.execOne(ctx, `DELETE FROM groups WHERE id = $1`, string(id))
}

func (q *queries) ListGroups(ctx context.Context, lq store.ListQuery) (store.Page[directory.Group], error) {
	o, err := parseSort(lq.Sort, "name", groupSorts)
	if err != nil {
		return store.Page[directory.Group]{}, err
	}
	b := &builder{}
	if p := directory.Key(lq.Q); p != "" {
		b.cond(b.prefix("g.name_key", p))
	}
	tail, limit, err := b.page("g", o, lq.Cursor, lq.Limit)
	if err != nil {
		return store.Page[directory.Group]{}, err
	}
	items, err := scanGroups(q.rd.QueryContext(ctx, `SELECT `+groupCols+` FROM groups g`+b.whereSQL()+tail, b.args...))
	if err != nil {
		return store.Page[directory.Group]{}, err
	}
	return finish(items, limit, func(g directory.Group) (string, string) {
		if o.key.integer {
			return itoa(toMicros(g.CreatedAt)), string(g.ID)
		}
		return directory.Key(g.Name), string(g.ID)
	}), nil
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
