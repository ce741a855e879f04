package sqlstore

import (
	"context"
	"strings"

	"opsiam/internal/store"
)

// Webhook endpoints (P3). Event types are stored as one space-separated
// column: topics never contain spaces, and the list is only ever read whole.

const webhookCols = `id, url, description, event_types, secret, enabled, created_at, updated_at`

func scanWebhook(s interface{ Scan(...any) error }) (store.WebhookEndpoint, error) {
	var w store.WebhookEndpoint
	var types string
	var created, updated int64
	err := s.Scan(&w.ID, &w.URL, &w.Description, &types, &w.Secret, &w.Enabled, &created, &updated)
	w.EventTypes = strings.Fields(types)
	w.CreatedAt, w.UpdatedAt = fromMicros(created), fromMicros(updated)
	return w, err
}

func (q *queries) CreateWebhook(ctx context.Context, w store.WebhookEndpoint) (store.WebhookEndpoint, error) {
	now := fromMicros(q.stamp())
	w.ID, w.CreatedAt, w.UpdatedAt = newID(now), now, now
	_, err := q.exec(ctx, `INSERT INTO webhook_endpoints (`+webhookCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		w.ID, w.URL, w.Description, strings.Join(w.EventTypes, " "), w.Secret, w.Enabled, toMicros(now), toMicros(now))
	if err != nil {
		return store.WebhookEndpoint{}, err
	}
	return w, nil
}

func (q *queries) GetWebhook(ctx context.Context, id string) (store.WebhookEndpoint, error) {
	w, err := scanWebhook(q.rd.QueryRowContext(ctx, `SELECT `+webhookCols+` FROM webhook_endpoints WHERE id = $1`, id))
	return w, notFound(err)
}

func (q *queries) UpdateWebhook(ctx context.Context, w store.WebhookEndpoint) (store.WebhookEndpoint, error) {
	now := fromMicros(q.stamp())
	err := q.execOne(ctx, `UPDATE webhook_endpoints SET url = $1, description = $2, event_types = $3, secret = $4,
 enabled = $5, updated_at = $6 WHERE id = $7`,
		w.URL, w.Description, strings.Join(w.EventTypes, " "), w.Secret, w.Enabled, toMicros(now), w.ID)
	if err != nil {
		return store.WebhookEndpoint{}, err
	}
	return scanWebhook(q.wr.QueryRowContext(ctx, `SELECT `+webhookCols+` FROM webhook_endpoints WHERE id = $1`, w.ID))
}

func (q *queries) DeleteWebhook(ctx context.Context, id string) error {
	return q.execOne(ctx, `DELETE FROM webhook_endpoints WHERE id = $1`, id)
}

func (q *queries) ListWebhooks(ctx context.Context) ([]store.WebhookEndpoint, error) {
	rows, err := q.rd.QueryContext(ctx, `SELECT `+webhookCols+` FROM webhook_endpoints ORDER BY created_at, id`)
	return scanAll(rows, err, scanWebhook)
}
