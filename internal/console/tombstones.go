package console

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"opsiam/internal/directory"
)

// tombstoneRow is one deleted user a create or mail change meets (D2),
// with the choices allowed for it.
type tombstoneRow struct {
	Tombstone directory.Tombstone
	TakeOver  bool     // take over is allowed
	Rename    []string // fields a rename changes; empty: rename not offered
	Chosen    string   // the action posted before, to keep the choice
}

// tombstoneRows turns a TombstoneConflict into the rows of the choice
// screen shown inside the user form (D3).
func tombstoneRows(tc directory.TombstoneConflict, r *http.Request) []tombstoneRow {
	rows := make([]tombstoneRow, 0, len(tc.Tombstones))
	for _, t := range tc.Tombstones {
		row := tombstoneRow{Tombstone: t, Chosen: r.PostFormValue("tomb_action." + string(t.ID))}
		for _, ch := range tc.Choices {
			if ch.TombstoneID != t.ID {
				continue
			}
			switch ch.Action {
			case directory.TombstoneTakeOver:
				row.TakeOver = true
			case directory.TombstoneRename:
				row.Rename = ch.Fields
			}
		}
		rows = append(rows, row)
	}
	return rows
}

// resolutionFromForm reads the choices of the tombstone screen: for each
// tombstone id, tomb_action.ID (take_over or rename) and, for a rename,
// tomb_username.ID and tomb_email.ID with the new values. Nothing posted
// means no resolution (the first attempt).
func resolutionFromForm(r *http.Request) []directory.TombstoneResolution {
	var out []directory.TombstoneResolution
	keys := make([]string, 0)
	for k := range r.PostForm {
		if strings.HasPrefix(k, "tomb_action.") {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		id := strings.TrimPrefix(k, "tomb_action.")
		res := directory.TombstoneResolution{Action: directory.TombstoneAction(r.PostFormValue(k)), TombstoneID: directory.TombstoneID(id)}
		if res.Action == directory.TombstoneRename {
			res.Username = r.PostFormValue("tomb_username." + id)
			res.Email = r.PostFormValue("tomb_email." + id)
		}
		out = append(out, res)
	}
	return out
}

// asTombstoneConflict reports whether err asks for tombstone choices.
func asTombstoneConflict(err error) (directory.TombstoneConflict, bool) {
	var tc directory.TombstoneConflict
	ok := errors.As(err, &tc)
	return tc, ok
}
