package sqlstore

import (
	"context"
	"strings"

	"opsiam/internal/directory"
	"opsiam/internal/store"
)

// searchConds are the conditions of the q filter (store.UserFilter.Q): a
// prefix of user name, mail, first name, last name or customer code.
func searchConds(b *builder, p string) []string {
	return append(nameConds(b, p),
		"u.customer_id IN (SELECT c.id FROM customers c WHERE "+b.prefix("c.code_key", p)+")")
}

// nameConds are the conditions of the q filter on the user's own columns.
func nameConds(b *builder, p string) []string {
	return []string{
		b.prefix("u.username_key", p),
		b.prefix("u.email_key", p),
		b.prefix("u.first_name_key", p),
		b.prefix("u.last_name_key", p),
	}
}

// searchUsers lists users matching the q filter (U5). One OR over five
// columns makes both databases scan the sort index from its start and
// filter (seconds at 1,000,000 users), so each column gets its own branch,
// which takes at most one page in sort order through its own index; the
// page is then cut from the union of the branches. The result is the same
// as the OR; docs/performance.md has the figures.
func (q *queries) searchUsers(ctx context.Context, scope directory.Scope, uq store.UserQuery, o order) (store.Page[directory.User], error) {
	b := &builder{}
	scoped(b, scope)
	f := uq.UserFilter
	f.Q = ""
	filterUsers(b, f)
	return q.unionSearch(ctx, b, "", uq.Q, o, uq.Cursor, uq.Limit)
}

// unionSearch runs the q filter text as one branch per searched column
// (see searchUsers). b holds the conditions every branch shares; join,
// when not empty, is joined to users u in every branch (group members,
// role holders), so each branch can still walk its column's index and
// probe the link table's primary key, or start from the link rows when
// the planner finds them few.
func (q *queries) unionSearch(ctx context.Context, b *builder, join, text string, o order, cursor string, limit int) (store.Page[directory.User], error) {
	tail, limit, err := b.page("u", o, cursor, limit)
	if err != nil {
		return store.Page[directory.User]{}, err
	}
	common := b.where
	p := directory.Key(text)
	conds := nameConds(b, p)
	// The customers whose code matches are looked up first: a subquery
	// here lets PostgreSQL walk every user when few customers exist.
	customers, err := q.customerIDsByPrefix(ctx, p)
	if err != nil {
		return store.Page[directory.User]{}, err
	}
	if len(customers) > 0 {
		ph := make([]string, len(customers))
		for i, c := range customers {
			ph[i] = b.arg(c)
		}
		conds = append(conds, "u.customer_id IN ("+strings.Join(ph, ", ")+")")
	}
	if join != "" {
		join = " " + join
	}
	var branches []string
	for i, c := range conds {
		where := strings.Join(append(append([]string(nil), common...), c), " AND ")
		branches = append(branches, "SELECT id FROM (SELECT u.id FROM users u"+join+" WHERE "+where+tail+") AS b"+string(rune('0'+i)))
	}
	query := `SELECT ` + userCols + ` FROM users u WHERE u.id IN (` + strings.Join(branches, " UNION ") + `)` + tail
	items, err := q.scanUsers(q.rd.QueryContext(ctx, query, b.args...))
	if err != nil {
		return store.Page[directory.User]{}, err
	}
	return finish(items, limit, func(u directory.User) (string, string) {
		return userSortValue(u, o.key.col), string(u.ID)
	}), nil
}

// customerIDsByPrefix returns the ids of the customers whose code starts
// with p (case-folded).
func (q *queries) customerIDsByPrefix(ctx context.Context, p string) ([]string, error) {
	b := &builder{}
	rows, err := q.rd.QueryContext(ctx, `SELECT c.id FROM customers c WHERE `+b.prefix("c.code_key", p), b.args...)
	return scanAll(rows, err, func(r interface{ Scan(...any) error }) (string, error) {
		var id string
		return id, r.Scan(&id)
	})
}
