package sqlstore

import (
	"context"

	"opsiam/internal/directory"
)

// withExtra scans a row's leading columns with a scan function written for
// them and its trailing columns into extra.
type withExtra struct {
	r     interface{ Scan(...any) error }
	extra []any
}

func (w withExtra) Scan(dest ...any) error { return w.r.Scan(append(dest, w.extra...)...) }

// UserSubject implements store.UserSubjects: the user, its customer's code
// and the role revision in one statement.
func (q *queries) UserSubject(ctx context.Context, id directory.UserID) (directory.User, string, int64, error) {
	var code string
	var rev int64
	row := q.rd.QueryRowContext(ctx, `SELECT `+userCols+`, COALESCE(c.code, ''),
 (SELECT revision FROM role_revision WHERE id = 1)
 FROM users u LEFT JOIN customers c ON c.id = u.customer_id WHERE u.id = $1`, string(id))
	u, err := scanUser(withExtra{r: row, extra: []any{&code, &rev}}, q.stamp())
	return u, code, rev, err
}
