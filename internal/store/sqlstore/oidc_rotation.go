package sqlstore

import (
	"context"
	"time"

	"opsiam/internal/store"
)

// oidcTokenCols is the column list of oidc_tokens in createToken's order.
const oidcTokenCols = `id, kind, family_id, client_id, user_id, session_id, data, expires_at, used_at, created_at`

// tokenArgs are one token's values for oidcTokenCols.
func (q *queries) tokenArgs(kind string, t store.OIDCToken) []any {
	if t.CreatedAt.IsZero() {
		t.CreatedAt = q.now()
	}
	return []any{t.ID, kind, t.FamilyID, t.ClientID, t.UserID, t.SessionID,
		jsonText(tokenData{Scopes: t.Scopes, Audience: t.Audience, AMR: t.AMR, AuthTime: toMicros(t.AuthTime)}),
		toMicros(t.ExpiresAt), toMicros(t.UsedAt), toMicros(t.CreatedAt)}
}

// rotatePostgres is one statement: the UPDATE that marks the old token used
// feeds the INSERT of both new tokens, so a lost race (the row no longer has
// used_at = 0 once its lock is released) inserts nothing. One round trip,
// atomic without an explicit transaction.
const rotatePostgres = `WITH used AS (
 UPDATE oidc_tokens SET used_at = $1 WHERE id = $2 AND kind = 'refresh' AND used_at = 0 RETURNING id)
INSERT INTO oidc_tokens (` + oidcTokenCols + `)
SELECT $3::text, $4::text, $5::text, $6::text, $7::text, $8::text, $9::text, $10::bigint, $11::bigint, $12::bigint FROM used
UNION ALL
SELECT $13::text, $14::text, $15::text, $16::text, $17::text, $18::text, $19::text, $20::bigint, $21::bigint, $22::bigint FROM used`

// rotateInsert stores both new tokens in one statement (SQLite).
const rotateInsert = `INSERT INTO oidc_tokens (` + oidcTokenCols + `)
 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10), ($11, $12, $13, $14, $15, $16, $17, $18, $19, $20)`

// RotateRefreshToken implements store.TokenRotation: on PostgreSQL one
// statement, on SQLite a transaction of an UPDATE and one two-row INSERT.
func (q *queries) RotateRefreshToken(ctx context.Context, oldID string, at time.Time, next, access store.OIDCToken) error {
	tokens := append(q.tokenArgs("refresh", next), q.tokenArgs("access", access)...)
	if q.d == Postgres {
		res, err := q.exec(ctx, rotatePostgres, append([]any{toMicros(at), oldID}, tokens...)...)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 2 {
			return err
		}
		return q.staleOrMissing(ctx, oldID)
	}
	return q.inTx(ctx, func(q *queries) error {
		res, err := q.exec(ctx, `UPDATE oidc_tokens SET used_at = $1 WHERE id = $2 AND kind = 'refresh' AND used_at = 0`,
			toMicros(at), oldID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return q.staleOrMissing(ctx, oldID)
		}
		_, err = q.exec(ctx, rotateInsert, tokens...)
		return err
	})
}

// staleOrMissing tells why a refresh token could not be marked used:
// ErrStale if it exists (already used), else ErrNotFound.
func (q *queries) staleOrMissing(ctx context.Context, id string) error {
	var one int
	err := q.wr.QueryRowContext(ctx, `SELECT 1 FROM oidc_tokens WHERE id = $1 AND kind = 'refresh'`, id).Scan(&one)
	if err != nil {
		return notFound(err)
	}
	return store.ErrStale
}
