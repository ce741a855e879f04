package sqlstore

import (
	"context"
	"database/sql"

	"opsiam/internal/directory"
	"opsiam/internal/store"
)

func (q *queries) AddMember(ctx context.Context, g directory.GroupID, u directory.UserID) error {
	_, err := q.exec(ctx, `INSERT INTO group_members (group_id, user_id) VALUES ($1, $2)
 ON CONFLICT (group_id, user_id) DO NOTHING`, string(g), string(u))
	return err
}

func (q *queries) RemoveMember(ctx context.Context, g directory.GroupID, u directory.UserID) error {
	return q.execOne(ctx, `DELETE FROM group_members WHERE group_id = $1 AND user_id = $2`, string(g), string(u))
}

// listUsersJoined pages through the users that join names, sorted by user
// name. Its q filter is that of /users (store.UserFilter.Q: a prefix of
// user name, mail, first name, last name or customer code), run as the
// same union of index-friendly branches (unionSearch).
func (q *queries) listUsersJoined(ctx context.Context, scope directory.Scope, join, cond, id string, lq store.ListQuery) (store.Page[directory.User], error) {
	o, err := parseSort(lq.Sort, "username", userSorts)
	if err != nil {
		return store.Page[directory.User]{}, err
	}
	b := &builder{}
	b.cond(cond + " = " + b.arg(id))
	scoped(b, scope)
	if directory.Key(lq.Q) != "" {
		return q.unionSearch(ctx, b, join, lq.Q, o, lq.Cursor, lq.Limit)
	}
	tail, limit, err := b.page("u", o, lq.Cursor, lq.Limit)
	if err != nil {
		return store.Page[directory.User]{}, err
	}
	items, err := q.scanUsers(q.rd.QueryContext(ctx, `SELECT `+userCols+` FROM users u `+join+b.whereSQL()+tail, b.args...))
	if err != nil {
		return store.Page[directory.User]{}, err
	}
	return finish(items, limit, func(u directory.User) (string, string) {
		return userSortValue(u, o.key.col), string(u.ID)
	}), nil
}

func (q *queries) ListMembers(ctx context.Context, scope directory.Scope, g directory.GroupID, lq store.ListQuery) (store.Page[directory.User], error) {
	return q.listUsersJoined(ctx, scope, "JOIN group_members m ON m.user_id = u.id", "m.group_id", string(g), lq)
}

func (q *queries) UserGroups(ctx context.Context, u directory.UserID) ([]directory.Group, error) {
	return scanGroups(q.rd.QueryContext(ctx, `SELECT `+groupCols+` FROM groups g
 JOIN group_members m ON m.group_id = g.id WHERE m.user_id = $1 ORDER BY g.name_key`, string(u)))
}

func (q *queries) AssignUserRole(ctx context.Context, u directory.UserID, r directory.RoleID) error {
	_, err := q.exec(ctx, `INSERT INTO user_roles (user_id, role_id) VALUES ($1, $2)
 ON CONFLICT (user_id, role_id) DO NOTHING`, string(u), string(r))
	return err
}

func (q *queries) UnassignUserRole(ctx context.Context, u directory.UserID, r directory.RoleID) error {
	return q.execOne(ctx, `DELETE FROM user_roles WHERE user_id = $1 AND role_id = $2`, string(u), string(r))
}

func (q *queries) UserRoles(ctx context.Context, u directory.UserID) ([]directory.Role, error) {
	rows, err := q.rd.QueryContext(ctx, `SELECT `+roleCols+` FROM roles r
 JOIN user_roles ur ON ur.role_id = r.id WHERE ur.user_id = $1 ORDER BY r.name_key`, string(u))
	return scanAll(rows, err, scanRole)
}

func (q *queries) AssignGroupRole(ctx context.Context, g directory.GroupID, r directory.RoleID) error {
	_, err := q.exec(ctx, `INSERT INTO group_roles (group_id, role_id) VALUES ($1, $2)
 ON CONFLICT (group_id, role_id) DO NOTHING`, string(g), string(r))
	return err
}

func (q *queries) UnassignGroupRole(ctx context.Context, g directory.GroupID, r directory.RoleID) error {
	return q.execOne(ctx, `DELETE FROM group_roles WHERE group_id = $1 AND role_id = $2`, string(g), string(r))
}

func (q *queries) GroupRoles(ctx context.Context, g directory.GroupID) ([]directory.Role, error) {
	rows, err := q.rd.QueryContext(ctx, `SELECT `+roleCols+` FROM roles r
 JOIN group_roles gr ON gr.role_id = r.id WHERE gr.group_id = $1 ORDER BY r.name_key`, string(g))
	return scanAll(rows, err, scanRole)
}

func (q *queries) RoleUsers(ctx context.Context, scope directory.Scope, r directory.RoleID, lq store.ListQuery) (store.Page[directory.User], error) {
	return q.listUsersJoined(ctx, scope, "JOIN user_roles ur ON ur.user_id = u.id", "ur.role_id", string(r), lq)
}

func (q *queries) RoleGroups(ctx context.Context, r directory.RoleID) ([]directory.Group, error) {
	return scanGroups(q.rd.QueryContext(ctx, `SELECT `+groupCols+` FROM groups g
 JOIN group_roles gr ON gr.group_id = g.id WHERE gr.role_id = $1 ORDER BY g.name_key`, string(r)))
}

func (q *queries) UserGrants(ctx context.Context, u directory.UserID) (directory.Grants, error) {
	rows, err := q.rd.QueryContext(ctx, `SELECT '', '', ur.role_id FROM user_roles ur WHERE ur.user_id = $1
 UNION ALL
 SELECT g.id, g.name, gr.role_id FROM group_members m JOIN groups g ON g.id = m.group_id
 LEFT JOIN group_roles gr ON gr.group_id = g.id WHERE m.user_id = $1
 ORDER BY 1, 3`, string(u))
	if err != nil {
		return directory.Grants{}, err
	}
	defer rows.Close()
	var gr directory.Grants
	for rows.Next() {
		var gid, gname string
		var role sql.NullString
		if err := rows.Scan(&gid, &gname, &role); err != nil {
			return directory.Grants{}, err
		}
		if gid == "" {
			gr.Direct = append(gr.Direct, directory.RoleID(role.String))
			continue
		}
		if n := len(gr.Groups); n == 0 || gr.Groups[n-1].Group != directory.GroupID(gid) {
			gr.Groups = append(gr.Groups, directory.GroupGrant{Group: directory.GroupID(gid), GroupName: gname})
		}
		if role.Valid {
			last := &gr.Groups[len(gr.Groups)-1]
			last.Roles = append(last.Roles, directory.RoleID(role.String))
		}
	}
	return gr, rows.Err()
}

func (q *queries) SetRelation(ctx context.Context, rel directory.GroupRelation) error {
	_, err := q.exec(ctx, `INSERT INTO group_relations (from_group_id, to_group_id, type) VALUES ($1, $2, $3)
 ON CONFLICT (from_group_id, to_group_id) DO UPDATE SET type = excluded.type`,
		string(rel.From), string(rel.To), string(rel.Type))
	return err
}

func (q *queries) RemoveRelation(ctx context.Context, from, to directory.GroupID) error {
	return q.execOne(ctx, `DELETE FROM group_relations WHERE from_group_id = $1 AND to_group_id = $2`, string(from), string(to))
}

func (q *queries) GroupRelations(ctx context.Context, g directory.GroupID) ([]directory.GroupRelation, error) {
	rows, err := q.rd.QueryContext(ctx, `SELECT from_group_id, to_group_id, type FROM group_relations
 WHERE from_group_id = $1 OR to_group_id = $1 ORDER BY from_group_id, to_group_id`, string(g))
	return scanAll(rows, err, func(r interface{ Scan(...any) error }) (directory.GroupRelation, error) {
		var rel directory.GroupRelation
		return rel, r.Scan(&rel.From, &rel.To, &rel.Type)
	})
}

func (q *queries) SetPasswordHash(ctx context.Context, u directory.UserID, hash string) error {
	_, err := q.exec(ctx, `INSERT INTO user_passwords (user_id, hash, updated_at) VALUES ($1, $2, $3)
 ON CONFLICT (user_id) DO UPDATE SET hash = excluded.hash, updated_at = excluded.updated_at`,
		string(u), hash, q.stamp())
	return err
}

func (q *queries) PasswordHash(ctx context.Context, u directory.UserID) (string, error) {
	var h string
	err := q.rd.QueryRowContext(ctx, `SELECT hash FROM user_passwords WHERE user_id = $1`, string(u)).Scan(&h)
	return h, notFound(err)
}
