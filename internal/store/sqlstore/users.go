package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"opsiam/internal/directory"
	"opsiam/internal/store"
)

const userCols = `u.id, u.username, u.email, u.first_name, u.last_name, u.enabled, u.email_verified,
 u.otp_required, u.company, u.department, u.address, u.phone1, u.phone2, u.note, u.customer_id,
 u.timezone, u.itsm_signed_in, u.locked_until, u.last_login_at, u.created_at, u.updated_at, u.version, u.external_id`

// userSorts are the fields users can be sorted by (store.UserQuery).
var userSorts = map[string]sortKey{
	"username":   {col: "username_key"},
	"email":      {col: "email_key"},
	"first_name": {col: "first_name_key"},
	"last_name":  {col: "last_name_key"},
	"created_at": {col: "created_at", integer: true},
	"updated_at": {col: "updated_at", integer: true},
}

// userListSorts are userSorts plus the customer's code, which only the
// plain list sorts by (not the search, nor the member lists): a user
// without a customer sorts first.
var userListSorts = func() map[string]sortKey {
	m := map[string]sortKey{"customer": {col: "customer", expr: `COALESCE((SELECT cs.code FROM customers cs WHERE cs.id = %s.customer_id), '')`}}
	for k, v := range userSorts {
		m[k] = v
	}
	return m
}()

// userSortValue is the cursor value of u under the sort column col.
func userSortValue(u directory.User, col string) string {
	switch col {
	case "email_key":
		return directory.Key(u.Email)
	case "first_name_key":
		return directory.Key(u.FirstName)
	case "last_name_key":
		return directory.Key(u.LastName)
	case "created_at":
		return strconv.FormatInt(toMicros(u.CreatedAt), 10)
	case "updated_at":
		return strconv.FormatInt(toMicros(u.UpdatedAt), 10)
	}
	return directory.Key(u.Username)
}

func (q *queries) scanUsers(rows *sql.Rows, err error) ([]directory.User, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	now := q.stamp()
	var out []directory.User
	for rows.Next() {
		u, err := scanUser(rows, now)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

func scanUser(r interface{ Scan(...any) error }, now int64) (directory.User, error) {
	var u directory.User
	var customer sql.NullString
	var lockedUntil, lastLogin, created, updated int64
	err := r.Scan(&u.ID, &u.Username, &u.Email, &u.FirstName, &u.LastName, &u.Enabled, &u.EmailVerified,
		&u.OTPRequired, &u.Company, &u.Department, &u.Address, &u.Phone1, &u.Phone2, &u.Note, &customer,
		&u.Timezone, &u.ITSMSignedIn, &lockedUntil, &lastLogin, &created, &updated, &u.Version, &u.ExternalID)
	if err != nil {
		return u, notFound(err)
	}
	u.CustomerID = directory.CustomerID(customer.String)
	u.Locked = lockedUntil > now
	u.LastLoginAt = fromMicros(lastLogin)
	u.CreatedAt = fromMicros(created)
	u.UpdatedAt = fromMicros(updated)
	return u, nil
}

func nullable(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

func (q *queries) CreateUser(ctx context.Context, u directory.User) (directory.User, error) {
	now := q.now()
	u.ID = directory.UserID(newID(now))
	u.CreatedAt, u.UpdatedAt = now.UTC().Truncate(time.Microsecond), now.UTC().Truncate(time.Microsecond)
	u.Version = 1
	_, err := q.exec(ctx, `INSERT INTO users (id, username, username_key, email, email_key, first_name,
 first_name_key, last_name, last_name_key, enabled, email_verified, otp_required, company, department,
 address, phone1, phone2, note, customer_id, timezone, itsm_signed_in, last_login_at, created_at, updated_at, version, external_id)
 VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22,$23,$24,$25,$26)`,
		u.ID, u.Username, directory.Key(u.Username), u.Email, directory.Key(u.Email), u.FirstName,
		directory.Key(u.FirstName), u.LastName, directory.Key(u.LastName), u.Enabled, u.EmailVerified,
		u.OTPRequired, u.Company, u.Department, u.Address, u.Phone1, u.Phone2, u.Note, nullable(string(u.CustomerID)),
		u.Timezone, u.ITSMSignedIn, toMicros(u.LastLoginAt), toMicros(u.CreatedAt), toMicros(u.UpdatedAt), u.Version, u.ExternalID)
	if err != nil {
		return directory.User{}, err
	}
	return u, nil
}

// scoped adds the customer boundary of scope to b (P13).
func scoped(b *builder, scope directory.Scope) {
	if scope.Restricted() {
		b.cond("u.customer_id = " + b.arg(string(scope.Customer)))
	}
}

func (q *queries) getUserWhere(ctx context.Context, scope directory.Scope, cond string, v any) (directory.User, error) {
	b := &builder{}
	b.cond(fmt.Sprintf(cond, b.arg(v)))
	scoped(b, scope)
	row := q.rd.QueryRowContext(ctx, `SELECT `+userCols+` FROM users u`+b.whereSQL(), b.args...)
	return scanUser(row, q.stamp())
}

func (q *queries) GetUser(ctx context.Context, scope directory.Scope, id directory.UserID) (directory.User, error) {
	return q.getUserWhere(ctx, scope, "u.id = %s", string(id))
}

func (q *queries) GetUserByUsername(ctx context.Context, scope directory.Scope, username string) (directory.User, error) {
	return q.getUserWhere(ctx, scope, "u.username_key = %s", directory.Key(username))
}

// GetUserByLogin prefers a user-name match: a user name may look like a
// mail address (§8 allows @), and then it could equal another user's mail.
func (q *queries) GetUserByLogin(ctx context.Context, login string) (directory.User, error) {
	k := directory.Key(login)
	u, err := q.getUserWhere(ctx, directory.Scope{}, "u.username_key = %s", k)
	if errors.Is(err, store.ErrNotFound) {
		return q.getUserWhere(ctx, directory.Scope{}, "u.email_key = %s", k)
	}
	return u, err
}

func (q *queries) UpdateUser(ctx context.Context, u directory.User) (directory.User, error) {
	now := q.now().UTC().Truncate(time.Microsecond)
	res, err := q.exec(ctx, `UPDATE users SET email = $1, email_key = $2, first_name = $3, first_name_key = $4,
 last_name = $5, last_name_key = $6, enabled = $7, email_verified = $8, otp_required = $9, company = $10,
 department = $11, address = $12, phone1 = $13, phone2 = $14, note = $15, customer_id = $16, timezone = $17,
 itsm_signed_in = $18, last_login_at = $19, updated_at = $20, version = version + 1, external_id = $23
 WHERE id = $21 AND version = $22`,
		u.Email, directory.Key(u.Email), u.FirstName, directory.Key(u.FirstName), u.LastName, directory.Key(u.LastName),
		u.Enabled, u.EmailVerified, u.OTPRequired, u.Company, u.Department, u.Address, u.Phone1, u.Phone2, u.Note,
		nullable(string(u.CustomerID)), u.Timezone, u.ITSMSignedIn, toMicros(u.LastLoginAt), toMicros(now), u.ID, u.Version, u.ExternalID)
	if err != nil {
		return directory.User{}, err
	}
	if err := q.checkVersioned(ctx, res, "users", string(u.ID)); err != nil {
		return directory.User{}, err
	}
	return q.getUserWhere(ctx, directory.Scope{}, "u.id = %s", string(u.ID))
}

// checkVersioned tells ErrStale from ErrNotFound after an update guarded by
// a version that touched no row.
func (q *queries) checkVersioned(ctx context.Context, res sql.Result, table, id string) error {
	n, err := res.RowsAffected()
	if err != nil || n > 0 {
		return err
	}
	var one int
	err = q.wr.QueryRowContext(ctx, `SELECT 1 FROM `+table+` WHERE id = $1`, id).Scan(&one)
	if err != nil {
		return notFound(err)
	}
	return store.ErrStale
}

func (q *queries) DeleteUser(ctx context.Context, id directory.UserID) error {
	return q.execOne(ctx, `DELETE FROM users WHERE id = $1`, string(id))
}

// filterUsers adds the conditions of f to b.
func filterUsers(b *builder, f store.UserFilter) {
	if f.Username != "" {
		b.cond("u.username_key = " + b.arg(directory.Key(f.Username)))
	}
	if f.Email != "" {
		b.cond("u.email_key = " + b.arg(directory.Key(f.Email)))
	}
	if f.ExternalID != "" {
		b.cond("u.external_id = " + b.arg(f.ExternalID))
	}
	if f.CustomerID != "" {
		b.cond("u.customer_id = " + b.arg(string(f.CustomerID)))
	}
	if f.Enabled != nil {
		b.cond("u.enabled = " + b.arg(*f.Enabled))
	}
	if p := directory.Key(f.Q); p != "" {
		b.cond("(" + strings.Join(searchConds(b, p), " OR ") + ")")
	}
	switch f.Billing {
	case store.Billed:
		b.cond("u.enabled = " + b.arg(true))
		if free := freeRoleCond(b, f.FreeRoles); free != "" {
			b.cond("NOT " + free)
		}
	case store.NonBilled:
		c := "u.enabled = " + b.arg(false)
		if free := freeRoleCond(b, f.FreeRoles); free != "" {
			c = "(" + c + " OR " + free + ")"
		}
		b.cond(c)
	}
}

// freeRoleCond is true for a user who holds one of roles directly or
// through a group (B1: roles that effectively contain free_user).
func freeRoleCond(b *builder, roles []directory.RoleID) string {
	if len(roles) == 0 {
		return ""
	}
	ph := make([]string, len(roles))
	for i, r := range roles {
		ph[i] = b.arg(string(r))
	}
	in := strings.Join(ph, ", ")
	return fmt.Sprintf(`(EXISTS (SELECT 1 FROM user_roles ur WHERE ur.user_id = u.id AND ur.role_id IN (%s))
 OR EXISTS (SELECT 1 FROM group_members gm JOIN group_roles gr ON gr.group_id = gm.group_id
 WHERE gm.user_id = u.id AND gr.role_id IN (%s)))`, in, in)
}

func (q *queries) ListUsers(ctx context.Context, scope directory.Scope, uq store.UserQuery) (store.Page[directory.User], error) {
	sorts := userListSorts
	if directory.Key(uq.Q) != "" {
		sorts = userSorts
	}
	o, err := parseSort(uq.Sort, "username", sorts)
	if err != nil {
		return store.Page[directory.User]{}, err
	}
	if directory.Key(uq.Q) != "" {
		return q.searchUsers(ctx, scope, uq, o)
	}
	b := &builder{}
	scoped(b, scope)
	filterUsers(b, uq.UserFilter)
	tail, limit, err := b.page("u", o, uq.Cursor, uq.Limit)
	if err != nil {
		return store.Page[directory.User]{}, err
	}
	items, err := q.scanUsers(q.rd.QueryContext(ctx, `SELECT `+userCols+` FROM users u`+b.whereSQL()+tail, b.args...))
	if err != nil {
		return store.Page[directory.User]{}, err
	}
	code := ""
	if o.key.col == "customer" && len(items) > limit && items[limit-1].CustomerID != "" {
		c, err := q.GetCustomer(ctx, items[limit-1].CustomerID)
		if err != nil {
			return store.Page[directory.User]{}, err
		}
		code = c.Code
	}
	return finish(items, limit, func(u directory.User) (string, string) {
		if o.key.col == "customer" {
			return code, string(u.ID)
		}
		return userSortValue(u, o.key.col), string(u.ID)
	}), nil
}

func (q *queries) CountUsers(ctx context.Context, scope directory.Scope, f store.UserFilter) (int, error) {
	b := &builder{}
	scoped(b, scope)
	filterUsers(b, f)
	var n int
	err := q.rd.QueryRowContext(ctx, `SELECT count(*) FROM users u`+b.whereSQL(), b.args...).Scan(&n)
	return n, err
}
