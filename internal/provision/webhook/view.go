package webhook

import (
	"time"

	"opsiam/internal/store"
)

// EndpointView is an endpoint as /api/v1/webhooks shows it (SPEC §7).
// Secret is set only in the answer to a create or a secret rotation.
type EndpointView struct {
	ID          string    `json:"id"`
	URL         string    `json:"url"`
	Description string    `json:"description"`
	EventTypes  []string  `json:"event_types"`
	Enabled     bool      `json:"enabled"`
	Secret      string    `json:"secret,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// View converts an endpoint for the API; the secret is shown only when
// withSecret is true (creation).
func View(w store.WebhookEndpoint, withSecret bool) EndpointView {
	v := EndpointView{ID: w.ID, URL: w.URL, Description: w.Description, EventTypes: w.EventTypes,
		Enabled: w.Enabled, CreatedAt: w.CreatedAt, UpdatedAt: w.UpdatedAt}
	if v.EventTypes == nil {
		v.EventTypes = []string{}
	}
	if withSecret {
		v.Secret = w.Secret
	}
	return v
}
