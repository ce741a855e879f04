package main

import (
	"os"
	"testing"

	"opsiam/internal/testenv"
)

// TestMain runs more tests at once than there are cores: most of them
// wait on server processes, databases and a browser.
func TestMain(m *testing.M) {
	testenv.Parallel(6)
	os.Exit(m.Run())
}
