package console

import (
	"errors"
	"net/http"

	"opsiam/internal/directory"
)

// A user's detail page lists the user's passkeys (issue 18) and, where
// directory.MayRemovePasskey lets the viewer, removes one through the
// manage use case; where it does not, the button is disabled with the
// policy's reason.

func (c *Console) mountPasskeys(mux *http.ServeMux) {
	mux.Handle("POST "+Prefix+"users/{id}/passkeys/{pid}/delete", c.page(c.removePasskey))
}

// passkeyRemoval is what the viewer may do with u's passkeys: Allowed, or
// Reason says why not (empty when the viewer may not write users at all,
// and the column is not shown).
type passkeyRemoval struct {
	Allowed bool
	Reason  string
}

func passkeyRemovalFor(v *view, u directory.User) passkeyRemoval {
	a := v.Me.caller()
	err := directory.MayRemovePasskey(a.Holder(), a.ID, u)
	if err == nil {
		return passkeyRemoval{Allowed: true}
	}
	var fe directory.FieldErrors
	if errors.As(err, &fe) {
		return passkeyRemoval{Reason: v.T("passkeys.reason.reserved", u.Username)}
	}
	return passkeyRemoval{}
}

// removePasskey removes passkey pid of the user.
func (c *Console) removePasskey(w http.ResponseWriter, r *http.Request, v *view) error {
	if err := c.svc().RemovePasskey(r.Context(), actor(r, v), userID(r), r.PathValue("pid")); err != nil {
		return err
	}
	return redirect(w, r, Prefix+"users/"+string(userID(r))+"?done=passkey_removed")
}
