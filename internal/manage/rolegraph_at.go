package manage

import (
	"context"

	"opsiam/internal/directory"
)

// At returns the role graph of revision rev, a revision the caller has
// just read (store.UserSubjects reads it with the user): the loaded graph
// when it is of that revision, else a fresh load. It spares Get's own
// revision read.
func (c *RoleGraphs) At(ctx context.Context, rev int64) (*directory.RoleGraph, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.graph != nil && c.revision >= rev { // revisions only grow: a newer graph is as current
		return c.graph, nil
	}
	roles, edges, loaded, err := c.Store.RoleGraph(ctx)
	if err != nil {
		return nil, err
	}
	c.graph, c.revision = directory.NewRoleGraph(roles, edges), loaded
	return c.graph, nil
}
