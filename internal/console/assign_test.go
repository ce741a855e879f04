package console

import (
	"slices"
	"testing"

	"opsiam/internal/directory"
)

func TestDiff(t *testing.T) {
	t.Parallel() // each test has its own database, server and browser tab (issue 17, point 7)
	have := []directory.RoleID{"a", "b", "c"}
	add, remove := diff(have, []string{"b", "d", "", "d", "a"})
	if !slices.Equal(add, []directory.RoleID{"d"}) || !slices.Equal(remove, []directory.RoleID{"c"}) {
		t.Fatalf("diff = %v, %v; want [d], [c]", add, remove)
	}
	add, remove = diff(have, nil)
	if len(add) != 0 || !slices.Equal(remove, have) {
		t.Fatalf("empty dialog: %v, %v; want all removed", add, remove)
	}
}
