package sqlstore

import "context"

// Query runs a read that returns one string column; for tests only.
func (db *DB) Query(ctx context.Context, q string) ([]string, error) {
	rows, err := db.write.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}
