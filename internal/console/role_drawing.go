package console

import (
	"cmp"
	"slices"

	"opsiam/internal/directory"
)

// roleDrawing is what a role contains, two levels deep, laid out for an
// SVG drawn on the server (issue 17): the role on the left, the roles it
// contains in the middle column, theirs on the right, a line for each
// containment. A role that appears twice in the third column is drawn once.
type roleDrawing struct {
	W, H  int
	Nodes []drawNode
	Edges []drawEdge
	More  int // roles deeper than two levels, not drawn
}

type drawNode struct {
	ID         directory.RoleID
	Name       string
	X, Y       int // top left of the box
	W, H       int
	TX, TY     int // text anchor
	Root, Link bool
}

type drawEdge struct{ X1, Y1, X2, Y2 int }

const (
	boxW, boxH = 200, 28
	colGap     = 60
	rowGap     = 10
)

func drawRole(g *directory.RoleGraph, root directory.RoleID) roleDrawing {
	var d roleDrawing
	name := func(id directory.RoleID) string {
		if r, ok := g.Role(id); ok {
			return r.Name
		}
		return string(id)
	}
	col := func(c int) int { return 10 + c*(boxW+colGap) }
	row := func(i int) int { return 10 + i*(boxH+rowGap) }
	children := sortedByName(g, g.Contains(root))
	var grand []directory.RoleID
	for _, c := range children {
		for _, gc := range g.Contains(c) {
			if !slices.Contains(grand, gc) {
				grand = append(grand, gc)
			}
		}
	}
	grand = sortedByName(g, grand)
	rows := max(1, len(children), len(grand))
	d.W, d.H = col(3)-colGap+10, row(rows)
	at := map[directory.RoleID]drawNode{}
	add := func(id directory.RoleID, c, i int, rootNode bool) drawNode {
		n := drawNode{ID: id, Name: name(id), X: col(c), Y: row(i), W: boxW, H: boxH, Root: rootNode, Link: !rootNode}
		n.TX, n.TY = n.X+8, n.Y+boxH/2
		d.Nodes = append(d.Nodes, n)
		return n
	}
	r := add(root, 0, (rows-1)/2, true)
	for i, c := range children {
		n := add(c, 1, i, false)
		at[c] = n
		d.Edges = append(d.Edges, drawEdge{r.X + boxW, r.Y + boxH/2, n.X, n.Y + boxH/2})
	}
	placed := map[directory.RoleID]drawNode{}
	for i, gc := range grand {
		placed[gc] = add(gc, 2, i, false)
	}
	for _, c := range children {
		for _, gc := range g.Contains(c) {
			from, to := at[c], placed[gc]
			d.Edges = append(d.Edges, drawEdge{from.X + boxW, from.Y + boxH/2, to.X, to.Y + boxH/2})
			d.More += len(g.Contains(gc))
		}
	}
	return d
}

func sortedByName(g *directory.RoleGraph, ids []directory.RoleID) []directory.RoleID {
	out := slices.Clone(ids)
	slices.SortFunc(out, func(a, b directory.RoleID) int {
		ra, _ := g.Role(a)
		rb, _ := g.Role(b)
		return cmp.Compare(ra.Name, rb.Name)
	})
	return out
}
