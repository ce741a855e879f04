package httpapi

import (
	"net/http"
	"time"

	"opsiam/internal/store"
)

// passkeyView is a passkey as the API shows it (SPEC §9): never its key.
type passkeyView struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"` // null: never used
}

func newPasskeyView(p store.Passkey) passkeyView {
	v := passkeyView{ID: p.ID, Name: p.Name, CreatedAt: p.CreatedAt}
	if !p.LastUsedAt.IsZero() {
		t := p.LastUsedAt
		v.LastUsedAt = &t
	}
	return v
}

// listPasskeys: GET /users/{id}/passkeys, who may read the user.
func (a *API) listPasskeys(w http.ResponseWriter, r *http.Request) error {
	list, err := a.Manage.ListPasskeys(r.Context(), actor(r), userID(r))
	if err != nil {
		return err
	}
	items := make([]passkeyView, len(list))
	for i, p := range list {
		items[i] = newPasskeyView(p)
	}
	return writeJSON(w, http.StatusOK, map[string]any{"items": items})
}

// removePasskey: DELETE /users/{id}/passkeys/{pid}, who may write the user.
func (a *API) removePasskey(w http.ResponseWriter, r *http.Request) error {
	if err := a.Manage.RemovePasskey(r.Context(), actor(r), userID(r), r.PathValue("pid")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
