package sqlstore

import (
	"context"
	"encoding/base64"
	"errors"
	"time"

	"opsiam/internal/store"
)

func (q *queries) CreateSigningKey(ctx context.Context, k store.SigningKey) error {
	if k.CreatedAt.IsZero() {
		k.CreatedAt = q.now()
	}
	_, err := q.exec(ctx, `INSERT INTO oidc_signing_keys (id, generation, algorithm, private_enc, created_at,
 retired_at, publish_until) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		k.ID, k.Generation, k.Algorithm, base64.StdEncoding.EncodeToString(k.PrivateEnc), toMicros(k.CreatedAt),
		toMicros(k.RetiredAt), toMicros(k.PublishUntil))
	if errors.Is(err, store.ErrConflict) {
		return &store.ConflictError{Field: "generation"}
	}
	return err
}

func (q *queries) ListSigningKeys(ctx context.Context) ([]store.SigningKey, error) {
	rows, err := q.rd.QueryContext(ctx, `SELECT id, generation, algorithm, private_enc, created_at, retired_at,
 publish_until FROM oidc_signing_keys ORDER BY generation DESC`)
	return scanAll(rows, err, func(r interface{ Scan(...any) error }) (store.SigningKey, error) {
		var k store.SigningKey
		var enc string
		var created, retired, until int64
		if err := r.Scan(&k.ID, &k.Generation, &k.Algorithm, &enc, &created, &retired, &until); err != nil {
			return k, err
		}
		b, err := base64.StdEncoding.DecodeString(enc)
		k.PrivateEnc = b
		k.CreatedAt, k.RetiredAt, k.PublishUntil = fromMicros(created), fromMicros(retired), fromMicros(until)
		return k, err
	})
}

func (q *queries) RetireSigningKey(ctx context.Context, id string, retiredAt, publishUntil time.Time) error {
	return q.execOne(ctx, `UPDATE oidc_signing_keys SET retired_at = $1, publish_until = $2 WHERE id = $3`,
		toMicros(retiredAt), toMicros(publishUntil), id)
}

func (q *queries) DeleteSigningKey(ctx context.Context, id string) error {
	return q.execOne(ctx, `DELETE FROM oidc_signing_keys WHERE id = $1`, id)
}

func (q *queries) RecordOIDCSignIn(ctx context.Context, s store.OIDCSignIn) error {
	if s.CreatedAt.IsZero() {
		s.CreatedAt = q.now()
	}
	_, err := q.exec(ctx, `INSERT INTO oidc_signins (session_id, client_id, user_id, created_at)
 VALUES ($1, $2, $3, $4) ON CONFLICT (session_id, client_id) DO NOTHING`,
		s.SessionID, s.ClientID, s.UserID, toMicros(s.CreatedAt))
	return err
}

func (q *queries) ListOIDCSignIns(ctx context.Context, sessionID string) ([]store.OIDCSignIn, error) {
	rows, err := q.rd.QueryContext(ctx, `SELECT session_id, client_id, user_id, created_at FROM oidc_signins
 WHERE session_id = $1 ORDER BY client_id`, sessionID)
	return scanAll(rows, err, scanSignIn)
}

func scanSignIn(r interface{ Scan(...any) error }) (store.OIDCSignIn, error) {
	var s store.OIDCSignIn
	var created int64
	err := r.Scan(&s.SessionID, &s.ClientID, &s.UserID, &created)
	s.CreatedAt = fromMicros(created)
	return s, err
}

func (q *queries) EndOIDCSignIns(ctx context.Context, sessionID string) ([]store.OIDCSignIn, error) {
	var out []store.OIDCSignIn
	err := q.inTx(ctx, func(q *queries) error {
		rows, err := q.wr.QueryContext(ctx, `DELETE FROM oidc_signins WHERE session_id = $1
 RETURNING session_id, client_id, user_id, created_at`, sessionID)
		out, err = scanAll(rows, err, scanSignIn)
		return err
	})
	return out, err
}

func (q *queries) EndUserOIDCSignIns(ctx context.Context, userID string) ([]store.OIDCSignIn, error) {
	var out []store.OIDCSignIn
	err := q.inTx(ctx, func(q *queries) error {
		rows, err := q.wr.QueryContext(ctx, `DELETE FROM oidc_signins WHERE user_id = $1
 RETURNING session_id, client_id, user_id, created_at`, userID)
		out, err = scanAll(rows, err, scanSignIn)
		return err
	})
	return out, err
}
