package gitlab

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	gl "gitlab.com/gitlab-org/api/client-go"
)

// renameGroup follows a rename of an opsiam group (group.updated, P2): the
// GitLab group found at the old name's path gets the new name and the new
// name's path (PUT /groups/:id), keeping its members and projects. It is
// idempotent, so a repeated delivery changes nothing:
//   - an update that did not change the name (previous == name, or no
//     previous_name in an event written before the field existed) does nothing;
//   - a group already renamed (found at the new path with the new name) is success;
//   - no group at the old path (made before GitLab was switched on, deleted
//     there, or renamed by an earlier delivery whose answer was lost): the
//     group under the new name is ensured, which is success when it exists and
//     creates it otherwise;
//   - a group at the old path with another name is not ours (a path clash,
//     see ensureGroup) and is left alone; the new name is ensured as above.
//
// A taken new path (another group) is refused by GitLab with 400, which is
// permanent: the delivery dies, visible in the outbox.
func (t *Target) renameGroup(ctx context.Context, previous, name string) error {
	if previous == "" || previous == name {
		return nil
	}
	if slices.ContainsFunc(t.skip, func(s string) bool { return strings.EqualFold(s, previous) }) {
		return t.ensureGroup(ctx, name)
	}
	oldPath, newPath := Path(previous), Path(name)
	g, _, err := t.c.Groups.GetGroup(oldPath, nil, gl.WithContext(ctx))
	switch {
	case errors.Is(err, gl.ErrNotFound):
		return t.ensureGroup(ctx, name)
	case err != nil:
		return classify(fmt.Errorf("gitlab: get group %s: %w", oldPath, err))
	case g.Name == name && strings.EqualFold(g.Path, newPath):
		return nil // renamed already (the paths of both names are equal)
	case g.Name != previous:
		return t.ensureGroup(ctx, name)
	}
	_, _, err = t.c.Groups.UpdateGroup(g.ID, &gl.UpdateGroupOptions{Name: gl.Ptr(name), Path: gl.Ptr(newPath)}, gl.WithContext(ctx))
	if err == nil {
		return nil
	}
	// Renamed meanwhile (by a delivery whose answer was lost)? Then done.
	if cur, _, gerr := t.c.Groups.GetGroup(newPath, nil, gl.WithContext(ctx)); gerr == nil && cur.ID == g.ID && cur.Name == name {
		return nil
	}
	return classify(fmt.Errorf("gitlab: rename group %s (%q) to %s (%q): %w", oldPath, previous, newPath, name, err))
}
