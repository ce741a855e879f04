package sqlstore

import (
	"context"

	"opsiam/internal/directory"
	"opsiam/internal/store"
)

const tokenCols = `user_id, hash, created_at, expires_at, issued_by`

func scanToken(r interface{ Scan(...any) error }) (store.PlatformToken, error) {
	var t store.PlatformToken
	var created, expires int64
	if err := r.Scan(&t.UserID, &t.Hash, &created, &expires, &t.IssuedBy); err != nil {
		return store.PlatformToken{}, notFound(err)
	}
	t.CreatedAt, t.ExpiresAt = fromMicros(created), fromMicros(expires)
	return t, nil
}

func (q *queries) PutPlatformToken(ctx context.Context, t store.PlatformToken) error {
	if t.CreatedAt.IsZero() {
		t.CreatedAt = q.now()
	}
	_, err := q.exec(ctx, `INSERT INTO platform_tokens (`+tokenCols+`) VALUES ($1, $2, $3, $4, $5)
 ON CONFLICT (user_id) DO UPDATE SET hash = excluded.hash, created_at = excluded.created_at,
 expires_at = excluded.expires_at, issued_by = excluded.issued_by`,
		string(t.UserID), t.Hash, toMicros(t.CreatedAt), toMicros(t.ExpiresAt), t.IssuedBy)
	return err
}

func (q *queries) PlatformToken(ctx context.Context, u directory.UserID) (store.PlatformToken, error) {
	return scanToken(q.rd.QueryRowContext(ctx, `SELECT `+tokenCols+` FROM platform_tokens WHERE user_id = $1`, string(u)))
}

func (q *queries) PlatformTokenByHash(ctx context.Context, hash string) (store.PlatformToken, error) {
	return scanToken(q.rd.QueryRowContext(ctx, `SELECT `+tokenCols+` FROM platform_tokens WHERE hash = $1`, hash))
}

func (q *queries) DeletePlatformToken(ctx context.Context, u directory.UserID) error {
	return q.execOne(ctx, `DELETE FROM platform_tokens WHERE user_id = $1`, string(u))
}
