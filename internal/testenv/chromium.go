package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// Chromium returns the path of a Chromium or Chrome binary for browser
// tests: OPSIAM_TEST_CHROMIUM, else chromium, chromium-browser or
// google-chrome on PATH (.ci/run installs Debian's chromium).
func Chromium(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("OPSIAM_TEST_CHROMIUM"); p != "" {
		if _, err := os.Stat(p); err != nil {
			Missing(t, "OPSIAM_TEST_CHROMIUM=%s: %v", p, err)
		}
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	Missing(t, "no chromium, chromium-browser or google-chrome on PATH (see .ci/run)")
	return ""
}
