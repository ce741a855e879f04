package sqlstore

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"opsiam/internal/directory"
	"opsiam/internal/store"
)

const passkeyCols = `id, user_id, credential_id, public_key, attestation_type, aaguid, sign_count, user_verified,
 backup_eligible, backup_state, transports, name, created_at, last_used_at`

func scanPasskey(r interface{ Scan(...any) error }) (store.Passkey, error) {
	var p store.Passkey
	var cred, aaguid, transports string
	var count, created, used int64
	if err := r.Scan(&p.ID, &p.UserID, &cred, &p.PublicKey, &p.AttestationType, &aaguid, &count, &p.UserVerified,
		&p.BackupEligible, &p.BackupState, &transports, &p.Name, &created, &used); err != nil {
		return store.Passkey{}, notFound(err)
	}
	var err error
	if p.CredentialID, err = base64.RawURLEncoding.DecodeString(cred); err != nil {
		return store.Passkey{}, err
	}
	if p.AAGUID, err = hex.DecodeString(aaguid); err != nil {
		return store.Passkey{}, err
	}
	if transports != "" {
		p.Transports = strings.Split(transports, ",")
	}
	p.SignCount = uint32(count)
	p.CreatedAt, p.LastUsedAt = fromMicros(created), fromMicros(used)
	return p, nil
}

func (q *queries) CreatePasskey(ctx context.Context, p store.Passkey) (store.Passkey, error) {
	now := q.now().UTC().Truncate(time.Microsecond)
	p.ID, p.CreatedAt, p.LastUsedAt = newID(now), now, time.Time{}
	_, err := q.exec(ctx, `INSERT INTO passkeys (`+passkeyCols+`)
 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 0)`,
		p.ID, string(p.UserID), base64.RawURLEncoding.EncodeToString(p.CredentialID), p.PublicKey, p.AttestationType,
		hex.EncodeToString(p.AAGUID), int64(p.SignCount), p.UserVerified, p.BackupEligible, p.BackupState,
		strings.Join(p.Transports, ","), p.Name, toMicros(now))
	if err != nil {
		return store.Passkey{}, err
	}
	return p, nil
}

func (q *queries) UserPasskeys(ctx context.Context, u directory.UserID) ([]store.Passkey, error) {
	rows, err := q.rd.QueryContext(ctx, `SELECT `+passkeyCols+` FROM passkeys WHERE user_id = $1 ORDER BY created_at, id`, string(u))
	if err != nil {
		return nil, unavailable(err)
	}
	defer rows.Close()
	out := []store.Passkey{}
	for rows.Next() {
		p, err := scanPasskey(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, unavailable(rows.Err())
}

func (q *queries) PasskeyByCredential(ctx context.Context, credentialID []byte) (store.Passkey, error) {
	return scanPasskey(q.rd.QueryRowContext(ctx, `SELECT `+passkeyCols+` FROM passkeys WHERE credential_id = $1`,
		base64.RawURLEncoding.EncodeToString(credentialID)))
}

func (q *queries) UsePasskey(ctx context.Context, id string, use store.PasskeyUse) error {
	err := q.execOne(ctx, `UPDATE passkeys SET sign_count = $2, backup_state = $3, last_used_at = $4
 WHERE id = $1 AND (sign_count < $2 OR (sign_count = 0 AND $2 = 0))`,
		id, int64(use.SignCount), use.BackupState, toMicros(use.At))
	if errors.Is(err, store.ErrNotFound) {
		if _, gone := q.passkey(ctx, id); gone == nil {
			return store.ErrStale
		}
	}
	return err
}

// passkey reads one passkey by id through the writer, so that inside a
// transaction it sees the transaction's writes.
func (q *queries) passkey(ctx context.Context, id string) (store.Passkey, error) {
	return scanPasskey(q.wr.QueryRowContext(ctx, `SELECT `+passkeyCols+` FROM passkeys WHERE id = $1`, id))
}

func (q *queries) DeletePasskey(ctx context.Context, u directory.UserID, id string) error {
	return q.execOne(ctx, `DELETE FROM passkeys WHERE user_id = $1 AND id = $2`, string(u), id)
}

func (q *queries) CreatePasskeyCeremony(ctx context.Context, c store.PasskeyCeremony) error {
	_, err := q.exec(ctx, `INSERT INTO passkey_ceremonies (hash, purpose, user_id, data, expires_at) VALUES ($1, $2, $3, $4, $5)`,
		c.Hash, c.Purpose, string(c.UserID), string(c.Data), toMicros(c.ExpiresAt))
	return err
}

func (q *queries) ConsumePasskeyCeremony(ctx context.Context, hash, purpose string, now time.Time) (store.PasskeyCeremony, error) {
	var c store.PasskeyCeremony
	var data string
	var exp int64
	err := q.wr.QueryRowContext(ctx, `DELETE FROM passkey_ceremonies WHERE hash = $1 AND purpose = $2 AND expires_at > $3
 RETURNING hash, purpose, user_id, data, expires_at`, hash, purpose, toMicros(now)).Scan(&c.Hash, &c.Purpose, &c.UserID, &data, &exp)
	if err != nil {
		return store.PasskeyCeremony{}, notFound(q.d.translate(err))
	}
	c.Data, c.ExpiresAt = []byte(data), fromMicros(exp)
	return c, nil
}

func (q *queries) DeleteExpiredPasskeyCeremonies(ctx context.Context, now time.Time) (int, error) {
	res, err := q.exec(ctx, `DELETE FROM passkey_ceremonies WHERE expires_at <= $1`, toMicros(now))
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}
