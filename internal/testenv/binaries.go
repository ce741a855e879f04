package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// OAuth2Proxy returns the path of the oauth2-proxy binary, the outside
// relying party of the SSO tests (.ci/run installs it with go install):
// OPSIAM_TEST_OAUTH2_PROXY, else oauth2-proxy on PATH or in $GOPATH/bin
// ($HOME/go/bin). Missing otherwise: a failure in CI, a skip elsewhere.
func OAuth2Proxy(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("OPSIAM_TEST_OAUTH2_PROXY"); p != "" {
		if _, err := os.Stat(p); err != nil {
			Missing(t, "OPSIAM_TEST_OAUTH2_PROXY=%s: %v", p, err)
		}
		return p
	}
	if p, err := exec.LookPath("oauth2-proxy"); err == nil {
		return p
	}
	dirs := []string{os.Getenv("GOBIN")}
	if gp := os.Getenv("GOPATH"); gp != "" {
		dirs = append(dirs, filepath.Join(gp, "bin"))
	}
	if home, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(home, "go", "bin"))
	}
	for _, d := range dirs {
		if d == "" {
			continue
		}
		if p := filepath.Join(d, "oauth2-proxy"); isExecutable(p) {
			return p
		}
	}
	Missing(t, "no oauth2-proxy (go install github.com/oauth2-proxy/oauth2-proxy/v7@v7.15.6; see .ci/run)")
	return ""
}

func isExecutable(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir() && st.Mode()&0o111 != 0
}
