package sqlstore

import (
	"context"

	"opsiam/internal/directory"
	"opsiam/internal/store"
)

const customerCols = `c.id, c.code, c.name, c.street, c.zip, c.city, c.country, c.url, c.comment, c.state,
 c.created_at, c.updated_at, c.version`

var customerSorts = map[string]sortKey{"name": {col: "name_key"}, "code": {col: "code_key"}}

func scanCustomer(r interface{ Scan(...any) error }) (directory.Customer, error) {
	var c directory.Customer
	var created, updated int64
	if err := r.Scan(&c.ID, &c.Code, &c.Name, &c.Street, &c.Zip, &c.City, &c.Country, &c.URL, &c.Comment,
		&c.State, &created, &updated, &c.Version); err != nil {
		return c, notFound(err)
	}
	c.CreatedAt, c.UpdatedAt = fromMicros(created), fromMicros(updated)
	return c, nil
}

func (q *queries) CreateCustomer(ctx context.Context, c directory.Customer) (directory.Customer, error) {
	now := q.now()
	c.ID = directory.CustomerID(newID(now))
	c.CreatedAt, c.UpdatedAt, c.Version = fromMicros(toMicros(now)), fromMicros(toMicros(now)), 1
	_, err := q.exec(ctx, `INSERT INTO customers (id, code, code_key, name, name_key, street, zip, city, country,
 url, comment, state, created_at, updated_at, version) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15)`,
		c.ID, c.Code, directory.Key(c.Code), c.Name, directory.Key(c.Name), c.Street, c.Zip, c.City, c.Country,
		c.URL, c.Comment, string(c.State), toMicros(c.CreatedAt), toMicros(c.UpdatedAt), c.Version)
	if err != nil {
		return directory.Customer{}, err
	}
	return c, nil
}

func (q *queries) GetCustomer(ctx context.Context, id directory.CustomerID) (directory.Customer, error) {
	return scanCustomer(q.rd.QueryRowContext(ctx, `SELECT `+customerCols+` FROM customers c WHERE c.id = $1`, string(id)))
}

func (q *queries) GetCustomerByCode(ctx context.Context, code string) (directory.Customer, error) {
	return scanCustomer(q.rd.QueryRowContext(ctx, `SELECT `+customerCols+` FROM customers c WHERE c.code_key = $1`, directory.Key(code)))
}

// UpdateCustomer changes everything but the code, which never changes (C1).
func (q *queries) UpdateCustomer(ctx context.Context, c directory.Customer) (directory.Customer, error) {
	res, err := q.exec(ctx, `UPDATE customers SET name = $1, name_key = $2, street = $3, zip = $4, city = $5,
 country = $6, url = $7, comment = $8, state = $9, updated_at = $10, version = version + 1
 WHERE id = $11 AND version = $12`,
		c.Name, directory.Key(c.Name), c.Street, c.Zip, c.City, c.Country, c.URL, c.Comment, string(c.State),
		q.stamp(), string(c.ID), c.Version)
	if err != nil {
		return directory.Customer{}, err
	}
	if err := q.checkVersioned(ctx, res, "customers", string(c.ID)); err != nil {
		return directory.Customer{}, err
	}
	return scanCustomer(q.wr.QueryRowContext(ctx, `SELECT `+customerCols+` FROM customers c WHERE c.id = $1`, string(c.ID)))
}

func (q *queries) ListCustomers(ctx context.Context, cq store.CustomerQuery) (store.Page[directory.Customer], error) {
	o, err := parseSort(cq.Sort, "name", customerSorts)
	if err != nil {
		return store.Page[directory.Customer]{}, err
	}
	b := &builder{}
	if p := directory.Key(cq.Q); p != "" {
		b.cond("(" + b.prefix("c.name_key", p) + " OR " + b.prefix("c.code_key", p) + ")")
	}
	if cq.State != "" {
		b.cond("c.state = " + b.arg(string(cq.State)))
	}
	tail, limit, err := b.page("c", o, cq.Cursor, cq.Limit)
	if err != nil {
		return store.Page[directory.Customer]{}, err
	}
	rows, err := q.rd.QueryContext(ctx, `SELECT `+customerCols+` FROM customers c`+b.whereSQL()+tail, b.args...)
	items, err := scanAll(rows, err, scanCustomer)
	if err != nil {
		return store.Page[directory.Customer]{}, err
	}
	return finish(items, limit, func(c directory.Customer) (string, string) {
		if o.key.col == "code_key" {
			return directory.Key(c.Code), string(c.ID)
		}
		return directory.Key(c.Name), string(c.ID)
	}), nil
}
