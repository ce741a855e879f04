package sqlstore

import (
	"context"
	"database/sql"

	"opsiam/internal/directory"
	"opsiam/internal/store"
)

// withExtra scans a row's leading columns with a scan function written for
// them and its trailing columns into extra.
type withExtra struct {
	r     interface{ Scan(...any) error }
	extra []any
}

func (w withExtra) Scan(dest ...any) error { return w.r.Scan(append(dest, w.extra...)...) }

// userSubjectSQL returns the user once per grant row (once with NULL grant
// columns when it has none), with its customer's code and the role
// revision; the grant rows are those of UserGrants, in the same order.
const userSubjectSQL = `SELECT ` + userCols + `, COALESCE(c.code, ''),
 (SELECT revision FROM role_revision WHERE id = 1), x.gid, x.gname, x.role_id
 FROM users u LEFT JOIN customers c ON c.id = u.customer_id
 LEFT JOIN (
 SELECT '' AS gid, '' AS gname, ur.role_id AS role_id FROM user_roles ur WHERE ur.user_id = $1
 UNION ALL
 SELECT g.id, g.name, gr.role_id FROM group_members m JOIN groups g ON g.id = m.group_id
 LEFT JOIN group_roles gr ON gr.group_id = g.id WHERE m.user_id = $1
 ) x ON 1 = 1
 WHERE u.id = $1
 ORDER BY x.gid, x.role_id`

// UserSubject implements store.UserSubjects in one statement.
func (q *queries) UserSubject(ctx context.Context, id directory.UserID) (store.Subject, error) {
	rows, err := q.rd.QueryContext(ctx, userSubjectSQL, string(id))
	if err != nil {
		return store.Subject{}, err
	}
	defer rows.Close()
	var s store.Subject
	found := false
	now := q.stamp()
	for rows.Next() {
		var code string
		var rev int64
		var gid, gname, role sql.NullString
		u, err := scanUser(withExtra{r: rows, extra: []any{&code, &rev, &gid, &gname, &role}}, now)
		if err != nil {
			return store.Subject{}, err
		}
		if !found {
			s.User, s.CustomerCode, s.RoleRevision, found = u, code, rev, true
		}
		switch {
		case !gid.Valid: // no grants at all
		case gid.String == "":
			s.Grants.Direct = append(s.Grants.Direct, directory.RoleID(role.String))
		default:
			if n := len(s.Grants.Groups); n == 0 || s.Grants.Groups[n-1].Group != directory.GroupID(gid.String) {
				s.Grants.Groups = append(s.Grants.Groups, directory.GroupGrant{Group: directory.GroupID(gid.String), GroupName: gname.String})
			}
			if role.Valid {
				last := &s.Grants.Groups[len(s.Grants.Groups)-1]
				last.Roles = append(last.Roles, directory.RoleID(role.String))
			}
		}
	}
	if err := rows.Err(); err != nil {
		return store.Subject{}, err
	}
	if !found {
		return store.Subject{}, store.ErrNotFound
	}
	return s, nil
}
