package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"opsiam/internal/store"
)

// authRequestData is the JSON form of the parameters of an auth request.
type authRequestData struct {
	RedirectURI         string   `json:"redirect_uri"`
	State               string   `json:"state,omitempty"`
	Nonce               string   `json:"nonce,omitempty"`
	Scopes              []string `json:"scopes"`
	ResponseType        string   `json:"response_type"`
	ResponseMode        string   `json:"response_mode,omitempty"`
	CodeChallenge       string   `json:"code_challenge,omitempty"`
	CodeChallengeMethod string   `json:"code_challenge_method,omitempty"`
	Prompt              []string `json:"prompt,omitempty"`
	MaxAge              int64    `json:"max_age"`
	UserID              string   `json:"user_id,omitempty"`
	SessionID           string   `json:"session_id,omitempty"`
	AuthTime            int64    `json:"auth_time,omitempty"`
	Done                bool     `json:"done,omitempty"`
	AMR                 []string `json:"amr,omitempty"`
	SessionEnd          int64    `json:"session_end,omitempty"`
	SessionRefresh      bool     `json:"session_refresh,omitempty"`
}

func (q *queries) SaveAuthRequest(ctx context.Context, r store.OIDCAuthRequest) error {
	data := jsonText(authRequestData{
		RedirectURI: r.RedirectURI, State: r.State, Nonce: r.Nonce, Scopes: r.Scopes,
		ResponseType: r.ResponseType, ResponseMode: r.ResponseMode, CodeChallenge: r.CodeChallenge,
		CodeChallengeMethod: r.CodeChallengeMethod, Prompt: r.Prompt, MaxAge: r.MaxAge, UserID: r.UserID,
		SessionID: r.SessionID, AuthTime: toMicros(r.AuthTime), Done: r.Done, AMR: r.AMR,
		SessionEnd: toMicros(r.SessionEnd), SessionRefresh: r.SessionRefresh,
	})
	code := sql.NullString{String: r.CodeHash, Valid: r.CodeHash != ""}
	_, err := q.exec(ctx, `INSERT INTO oidc_auth_requests (id, client_id, code_hash, expires_at, data)
 VALUES ($1, $2, $3, $4, $5)
 ON CONFLICT (id) DO UPDATE SET code_hash = excluded.code_hash, expires_at = excluded.expires_at, data = excluded.data`,
		r.ID, r.ClientID, code, toMicros(r.ExpiresAt), data)
	return err
}

func scanAuthRequest(row *sql.Row) (store.OIDCAuthRequest, error) {
	var r store.OIDCAuthRequest
	var code sql.NullString
	var expires, used int64
	var data string
	if err := row.Scan(&r.ID, &r.ClientID, &code, &expires, &used, &data); err != nil {
		return r, notFound(err)
	}
	var d authRequestData
	if err := json.Unmarshal([]byte(data), &d); err != nil {
		return r, err
	}
	r.CodeHash, r.ExpiresAt, r.UsedAt = code.String, fromMicros(expires), fromMicros(used)
	r.AMR, r.SessionEnd, r.SessionRefresh = d.AMR, fromMicros(d.SessionEnd), d.SessionRefresh
	r.RedirectURI, r.State, r.Nonce, r.Scopes = d.RedirectURI, d.State, d.Nonce, d.Scopes
	r.ResponseType, r.ResponseMode = d.ResponseType, d.ResponseMode
	r.CodeChallenge, r.CodeChallengeMethod, r.Prompt, r.MaxAge = d.CodeChallenge, d.CodeChallengeMethod, d.Prompt, d.MaxAge
	r.UserID, r.SessionID, r.AuthTime, r.Done = d.UserID, d.SessionID, fromMicros(d.AuthTime), d.Done
	return r, nil
}

const authRequestCols = `SELECT id, client_id, code_hash, expires_at, used_at, data FROM oidc_auth_requests`

// GetAuthRequest returns an unexpired auth request.
func (q *queries) GetAuthRequest(ctx context.Context, id string) (store.OIDCAuthRequest, error) {
	return scanAuthRequest(q.rd.QueryRowContext(ctx, authRequestCols+` WHERE id = $1 AND expires_at > $2 AND used_at = 0`, id, q.stamp()))
}

func (q *queries) GetAuthRequestByCode(ctx context.Context, codeHash string) (store.OIDCAuthRequest, error) {
	return scanAuthRequest(q.rd.QueryRowContext(ctx, authRequestCols+` WHERE code_hash = $1 AND expires_at > $2`, codeHash, q.stamp()))
}

func (q *queries) UseAuthRequest(ctx context.Context, id string, at time.Time) error {
	res, err := q.exec(ctx, `UPDATE oidc_auth_requests SET used_at = $1 WHERE id = $2 AND used_at = 0`, toMicros(at), id)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n > 0 {
		return err
	}
	var one int
	if err := q.wr.QueryRowContext(ctx, `SELECT 1 FROM oidc_auth_requests WHERE id = $1`, id).Scan(&one); err != nil {
		return notFound(err)
	}
	return store.ErrStale
}

func (q *queries) DeleteAuthRequest(ctx context.Context, id string) error {
	return q.execOne(ctx, `DELETE FROM oidc_auth_requests WHERE id = $1`, id)
}

// tokenData is the JSON form of the grant a token carries.
type tokenData struct {
	Scopes   []string `json:"scopes"`
	Audience []string `json:"audience,omitempty"`
	AMR      []string `json:"amr,omitempty"`
	AuthTime int64    `json:"auth_time,omitempty"`
}

func (q *queries) createToken(ctx context.Context, kind string, t store.OIDCToken) error {
	if t.CreatedAt.IsZero() {
		t.CreatedAt = q.now()
	}
	_, err := q.exec(ctx, `INSERT INTO oidc_tokens (id, kind, family_id, client_id, user_id, session_id, data,
 expires_at, used_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		t.ID, kind, t.FamilyID, t.ClientID, t.UserID, t.SessionID,
		jsonText(tokenData{Scopes: t.Scopes, Audience: t.Audience, AMR: t.AMR, AuthTime: toMicros(t.AuthTime)}),
		toMicros(t.ExpiresAt), toMicros(t.UsedAt), toMicros(t.CreatedAt))
	return err
}

// getToken returns an unexpired token of kind.
func (q *queries) getToken(ctx context.Context, kind, id string) (store.OIDCToken, error) {
	var t store.OIDCToken
	var data string
	var expires, used, created int64
	err := q.rd.QueryRowContext(ctx, `SELECT id, family_id, client_id, user_id, session_id, data, expires_at, used_at,
 created_at FROM oidc_tokens WHERE id = $1 AND kind = $2 AND expires_at > $3`, id, kind, q.stamp()).
		Scan(&t.ID, &t.FamilyID, &t.ClientID, &t.UserID, &t.SessionID, &data, &expires, &used, &created)
	if err != nil {
		return t, notFound(err)
	}
	var d tokenData
	if err := json.Unmarshal([]byte(data), &d); err != nil {
		return t, err
	}
	t.Scopes, t.Audience, t.AMR, t.AuthTime = d.Scopes, d.Audience, d.AMR, fromMicros(d.AuthTime)
	t.ExpiresAt, t.UsedAt, t.CreatedAt = fromMicros(expires), fromMicros(used), fromMicros(created)
	return t, nil
}

func (q *queries) CreateAccessToken(ctx context.Context, t store.OIDCToken) error {
	return q.createToken(ctx, "access", t)
}

func (q *queries) GetAccessToken(ctx context.Context, id string) (store.OIDCToken, error) {
	return q.getToken(ctx, "access", id)
}

func (q *queries) DeleteAccessToken(ctx context.Context, id string) error {
	return q.execOne(ctx, `DELETE FROM oidc_tokens WHERE id = $1 AND kind = 'access'`, id)
}

func (q *queries) CreateRefreshToken(ctx context.Context, t store.OIDCToken) error {
	return q.createToken(ctx, "refresh", t)
}

func (q *queries) GetRefreshToken(ctx context.Context, id string) (store.OIDCToken, error) {
	return q.getToken(ctx, "refresh", id)
}

func (q *queries) UseRefreshToken(ctx context.Context, id string, at time.Time) error {
	res, err := q.exec(ctx, `UPDATE oidc_tokens SET used_at = $1 WHERE id = $2 AND kind = 'refresh' AND used_at = 0`,
		toMicros(at), id)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil || n > 0 {
		return err
	}
	var one int
	err = q.wr.QueryRowContext(ctx, `SELECT 1 FROM oidc_tokens WHERE id = $1 AND kind = 'refresh'`, id).Scan(&one)
	if err != nil {
		return notFound(err)
	}
	return store.ErrStale
}

func (q *queries) RevokeFamily(ctx context.Context, familyID string) error {
	_, err := q.exec(ctx, `DELETE FROM oidc_tokens WHERE family_id = $1`, familyID)
	return err
}

func (q *queries) RevokeUserClientTokens(ctx context.Context, userID, clientID string) error {
	_, err := q.exec(ctx, `DELETE FROM oidc_tokens WHERE user_id = $1 AND client_id = $2`, userID, clientID)
	return err
}

func (q *queries) RevokeSessionClientTokens(ctx context.Context, sessionID, clientID string) error {
	if sessionID == "" {
		return nil // client credentials tokens belong to no session
	}
	_, err := q.exec(ctx, `DELETE FROM oidc_tokens WHERE session_id = $1 AND client_id = $2`, sessionID, clientID)
	return err
}

func (q *queries) RevokeUserSessionTokens(ctx context.Context, userID, sessionID string) error {
	if sessionID == "" {
		return nil
	}
	_, err := q.exec(ctx, `DELETE FROM oidc_tokens WHERE user_id = $1 AND session_id = $2`, userID, sessionID)
	return err
}

func (q *queries) PurgeOIDC(ctx context.Context, t, signInsBefore time.Time) error {
	return q.inTx(ctx, func(q *queries) error {
		if _, err := q.exec(ctx, `DELETE FROM oidc_auth_requests WHERE expires_at <= $1`, toMicros(t)); err != nil {
			return err
		}
		if _, err := q.exec(ctx, `DELETE FROM oidc_signins WHERE created_at < $1`, toMicros(signInsBefore)); err != nil {
			return err
		}
		_, err := q.exec(ctx, `DELETE FROM oidc_tokens WHERE expires_at <= $1`, toMicros(t))
		return err
	})
}
