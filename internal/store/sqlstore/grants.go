package sqlstore

import (
	"context"
	"database/sql"
	"strings"

	"opsiam/internal/directory"
)

func (q *queries) UsersGrants(ctx context.Context, ids []directory.UserID) (map[directory.UserID]directory.Grants, error) {
	out := make(map[directory.UserID]directory.Grants, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	b := &builder{}
	ph := make([]string, len(ids))
	for i, id := range ids {
		ph[i] = b.arg(string(id))
		out[id] = directory.Grants{}
	}
	in := strings.Join(ph, ", ")
	rows, err := q.rd.QueryContext(ctx, `SELECT ur.user_id, '', '', ur.role_id FROM user_roles ur WHERE ur.user_id IN (`+in+`)
 UNION ALL
 SELECT m.user_id, g.id, g.name, gr.role_id FROM group_members m JOIN groups g ON g.id = m.group_id
 LEFT JOIN group_roles gr ON gr.group_id = g.id WHERE m.user_id IN (`+in+`)
 ORDER BY 1, 2, 4`, b.args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var uid, gid, gname string
		var role sql.NullString
		if err := rows.Scan(&uid, &gid, &gname, &role); err != nil {
			return nil, err
		}
		gr := out[directory.UserID(uid)]
		switch {
		case gid == "":
			gr.Direct = append(gr.Direct, directory.RoleID(role.String))
		default:
			if n := len(gr.Groups); n == 0 || gr.Groups[n-1].Group != directory.GroupID(gid) {
				gr.Groups = append(gr.Groups, directory.GroupGrant{Group: directory.GroupID(gid), GroupName: gname})
			}
			if role.Valid {
				last := &gr.Groups[len(gr.Groups)-1]
				last.Roles = append(last.Roles, directory.RoleID(role.String))
			}
		}
		out[directory.UserID(uid)] = gr
	}
	return out, rows.Err()
}
