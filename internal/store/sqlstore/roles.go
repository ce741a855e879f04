package sqlstore

import (
	"context"

	"opsiam/internal/directory"
	"opsiam/internal/store"
)

const roleCols = `r.id, r.name, r.type, r.description, r.created_at, r.updated_at, r.version`

var roleSorts = map[string]sortKey{"name": {col: "name_key"}, "type": {col: "type"}}

func scanRole(r interface{ Scan(...any) error }) (directory.Role, error) {
	var role directory.Role
	var created, updated int64
	if err := r.Scan(&role.ID, &role.Name, &role.Type, &role.Description, &created, &updated, &role.Version); err != nil {
		return role, notFound(err)
	}
	role.CreatedAt, role.UpdatedAt = fromMicros(created), fromMicros(updated)
	return role, nil
}

// bumpRoles records that the role graph changed (see store.Roles).
func (q *queries) bumpRoles(ctx context.Context) error {
	_, err := q.exec(ctx, `UPDATE role_revision SET revision = revision + 1 WHERE id = 1`)
	return err
}

func (q *queries) CreateRole(ctx context.Context, r directory.Role) (directory.Role, error) {
	now := q.now()
	r.ID = directory.RoleID(newID(now))
	r.CreatedAt, r.UpdatedAt, r.Version = fromMicros(toMicros(now)), fromMicros(toMicros(now)), 1
	err := q.inTx(ctx, func(q *queries) error {
		if _, err := q.exec(ctx, `INSERT INTO roles (id, name, name_key, type, description, created_at, updated_at, version)
 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			r.ID, r.Name, directory.Key(r.Name), string(r.Type), r.Description, toMicros(r.CreatedAt), toMicros(r.UpdatedAt), r.Version); err != nil {
			return err
		}
		return q.bumpRoles(ctx)
	})
	if err != nil {
		return directory.Role{}, err
	}
	return r, nil
}

func (q *queries) GetRole(ctx context.Context, id directory.RoleID) (directory.Role, error) {
	return scanRole(q.rd.QueryRowContext(ctx, `SELECT `+roleCols+` FROM roles r WHERE r.id = $1`, string(id)))
}

func (q *queries) GetRoleByName(ctx context.Context, name string) (directory.Role, error) {
	return scanRole(q.rd.QueryRowContext(ctx, `SELECT `+roleCols+` FROM roles r WHERE r.name_key = $1`, directory.Key(name)))
}

func (q *queries) UpdateRole(ctx context.Context, r directory.Role) (directory.Role, error) {
	var out directory.Role
	err := q.inTx(ctx, func(q *queries) error {
		res, err := q.exec(ctx, `UPDATE roles SET description = $1, updated_at = $2, version = version + 1
 WHERE id = $3 AND version = $4`, r.Description, q.stamp(), string(r.ID), r.Version)
		if err != nil {
			return err
		}
		if err := q.checkVersioned(ctx, res, "roles", string(r.ID)); err != nil {
			return err
		}
		if err := q.bumpRoles(ctx); err != nil {
			return err
		}
		out, err = scanRole(q.wr.QueryRowContext(ctx, `SELECT `+roleCols+` FROM roles r WHERE r.id = $1`, string(r.ID)))
		return err
	})
	return out, err
}

func (q *queries) DeleteRole(ctx context.Context, id directory.RoleID) error {
	return q.inTx(ctx, func(q *queries) error {
		if err := q.execOne(ctx, `DELETE FROM roles WHERE id = $1`, string(id)); err != nil {
			return err
		}
		return q.bumpRoles(ctx)
	})
}

func (q *queries) ListRoles(ctx context.Context, rq store.RoleQuery) (store.Page[directory.Role], error) {
	o, err := parseSort(rq.Sort, "name", roleSorts)
	if err != nil {
		return store.Page[directory.Role]{}, err
	}
	b := &builder{}
	if p := directory.Key(rq.Q); p != "" {
		b.cond(b.prefix("r.name_key", p))
	}
	if rq.Type != "" {
		b.cond("r.type = " + b.arg(string(rq.Type)))
	}
	tail, limit, err := b.page("r", o, rq.Cursor, rq.Limit)
	if err != nil {
		return store.Page[directory.Role]{}, err
	}
	rows, err := q.rd.QueryContext(ctx, `SELECT `+roleCols+` FROM roles r`+b.whereSQL()+tail, b.args...)
	items, err := scanAll(rows, err, scanRole)
	if err != nil {
		return store.Page[directory.Role]{}, err
	}
	return finish(items, limit, func(r directory.Role) (string, string) {
		if o.key.col == "type" {
			return string(r.Type), string(r.ID)
		}
		return directory.Key(r.Name), string(r.ID)
	}), nil
}

func (q *queries) AddContainment(ctx context.Context, parent, child directory.RoleID) error {
	return q.inTx(ctx, func(q *queries) error {
		res, err := q.exec(ctx, `INSERT INTO role_contains (parent_id, child_id) VALUES ($1, $2)
 ON CONFLICT (parent_id, child_id) DO NOTHING`, string(parent), string(child))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		return q.bumpRoles(ctx)
	})
}

func (q *queries) RemoveContainment(ctx context.Context, parent, child directory.RoleID) error {
	return q.inTx(ctx, func(q *queries) error {
		if err := q.execOne(ctx, `DELETE FROM role_contains WHERE parent_id = $1 AND child_id = $2`, string(parent), string(child)); err != nil {
			return err
		}
		return q.bumpRoles(ctx)
	})
}

func (q *queries) RoleRevision(ctx context.Context) (int64, error) {
	var rev int64
	err := q.rd.QueryRowContext(ctx, `SELECT revision FROM role_revision WHERE id = 1`).Scan(&rev)
	return rev, err
}

func (q *queries) RoleGraph(ctx context.Context) ([]directory.Role, []directory.Containment, int64, error) {
	var roles []directory.Role
	var edges []directory.Containment
	var rev int64
	// The revision is read first: what follows is at least that new, and
	// if it moves meanwhile the caller sees a newer revision next time and
	// loads again.
	rev, err := q.RoleRevision(ctx)
	if err != nil {
		return nil, nil, 0, err
	}
	rows, err := q.rd.QueryContext(ctx, `SELECT `+roleCols+` FROM roles r ORDER BY r.name_key`)
	if roles, err = scanAll(rows, err, scanRole); err != nil {
		return nil, nil, 0, err
	}
	rows, err = q.rd.QueryContext(ctx, `SELECT parent_id, child_id FROM role_contains ORDER BY parent_id, child_id`)
	edges, err = scanAll(rows, err, func(r interface{ Scan(...any) error }) (directory.Containment, error) {
		var c directory.Containment
		return c, r.Scan(&c.Parent, &c.Child)
	})
	if err != nil {
		return nil, nil, 0, err
	}
	return roles, edges, rev, nil
}
