package manage

import (
	"context"
	"sync"

	"opsiam/internal/directory"
	"opsiam/internal/store"
)

// RoleGraphs keeps the in-memory role graph of one process current. Every
// role or containment change bumps a revision in the database in the same
// transaction (store.Roles); Get compares that one-row revision with the one
// it loaded and reloads the graph only when they differ. So each replica
// sees a change as soon as it is committed, at the price of one primary-key
// read per Get, and the expensive closure is computed once per change.
type RoleGraphs struct {
	Store store.Roles

	mu       sync.Mutex
	graph    *directory.RoleGraph
	revision int64
}

// Get returns the current role graph.
func (c *RoleGraphs) Get(ctx context.Context) (*directory.RoleGraph, error) {
	rev, err := c.Store.RoleRevision(ctx)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.graph != nil && c.revision == rev {
		return c.graph, nil
	}
	roles, edges, loaded, err := c.Store.RoleGraph(ctx)
	if err != nil {
		return nil, err
	}
	c.graph, c.revision = directory.NewRoleGraph(roles, edges), loaded
	return c.graph, nil
}

// Load reads a role graph through tx, for use inside a transaction where
// the graph must include the transaction's own changes.
func Load(ctx context.Context, tx store.Roles) (*directory.RoleGraph, error) {
	roles, edges, _, err := tx.RoleGraph(ctx)
	if err != nil {
		return nil, err
	}
	return directory.NewRoleGraph(roles, edges), nil
}
