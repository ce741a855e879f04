package sqlstore

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"opsiam/internal/directory"
	"opsiam/internal/store"
)

// builder collects WHERE conditions and their arguments with $N placeholders.
type builder struct {
	where []string
	args  []any
}

// arg adds a value and returns its placeholder.
func (b *builder) arg(v any) string {
	b.args = append(b.args, v)
	return "$" + strconv.Itoa(len(b.args))
}

// cond adds one condition; placeholders in it come from arg.
func (b *builder) cond(c string) { b.where = append(b.where, c) }

// prefix adds "col starts with p" as a range, which uses the column's index
// (key columns compare bytewise in both dialects).
func (b *builder) prefix(col, p string) string {
	return fmt.Sprintf("(%s >= %s AND %s < %s)", col, b.arg(p), col, b.arg(p+"\U0010FFFF"))
}

func (b *builder) whereSQL() string {
	if len(b.where) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(b.where, " AND ")
}

// sortKey is a sortable column: its SQL and whether its values are integers.
type sortKey struct {
	col     string
	integer bool
	// expr, when set, is an SQL expression of the row (%s: the table
	// alias) sorted by instead of the column col names.
	expr string
}

// order is a parsed sort parameter.
type order struct {
	key  sortKey
	desc bool
}

// parseSort reads "field" or "-field" against the allowed fields.
func parseSort(s, def string, allowed map[string]sortKey) (order, error) {
	if s == "" {
		s = def
	}
	desc := strings.HasPrefix(s, "-")
	k, ok := allowed[strings.TrimPrefix(s, "-")]
	if !ok {
		return order{}, directory.FieldErrors{{Field: "sort", Code: "invalid",
			Message: fmt.Sprintf("sort: %q is not a field this list can be sorted by", s)}}
	}
	return order{key: k, desc: desc}, nil
}

// cursor is the position after the last row of a page: its sort value and id.
type cursor struct {
	V string `json:"v"`
	I string `json:"i"`
}

func encodeCursor(v, id string) string {
	b, _ := json.Marshal(cursor{V: v, I: id})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (cursor, error) {
	var c cursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err != nil || c.I == "" {
		return c, directory.FieldErrors{{Field: "cursor", Code: "invalid", Message: "cursor: not a cursor this list handed out"}}
	}
	return c, nil
}

// page adds keyset paging to b for the table alias t and returns the ORDER
// BY and LIMIT clause. Rows come in a stable order: the sort column, then id.
func (b *builder) page(t string, o order, cur string, limit int) (string, int, error) {
	limit = clampLimit(limit)
	col := t + "." + o.key.col
	if o.key.expr != "" {
		col = fmt.Sprintf(o.key.expr, t)
	}
	id := t + ".id"
	cmp, dir := ">", "ASC"
	if o.desc {
		cmp, dir = "<", "DESC"
	}
	if cur != "" {
		c, err := decodeCursor(cur)
		if err != nil {
			return "", 0, err
		}
		var v any = c.V
		if o.key.integer {
			n, err := strconv.ParseInt(c.V, 10, 64)
			if err != nil {
				return "", 0, directory.FieldErrors{{Field: "cursor", Code: "invalid", Message: "cursor: not a cursor this list handed out"}}
			}
			v = n
		}
		pv, pi := b.arg(v), b.arg(c.I)
		// The first comparison repeats what the second implies, so that the
		// database can start an index scan on col at the cursor.
		b.cond(fmt.Sprintf("%s %s= %s AND (%s %s %s OR (%s = %s AND %s %s %s))", col, cmp, pv, col, cmp, pv, col, pv, id, cmp, pi))
	}
	// One row more than asked tells whether another page follows.
	return fmt.Sprintf(" ORDER BY %s %s, %s %s LIMIT %d", col, dir, id, dir, limit+1), limit, nil
}

func clampLimit(n int) int {
	switch {
	case n <= 0:
		return store.DefaultLimit
	case n > store.MaxLimit:
		return store.MaxLimit
	}
	return n
}

// finish cuts the extra row off and builds the next cursor from the last row.
func finish[T any](items []T, limit int, key func(T) (string, string)) store.Page[T] {
	if len(items) <= limit {
		return store.Page[T]{Items: items}
	}
	items = items[:limit]
	v, id := key(items[limit-1])
	return store.Page[T]{Items: items, Next: encodeCursor(v, id)}
}
