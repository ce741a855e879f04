package testenv

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
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

// Chrome starts a headless Chromium for one test (Chromium finds the
// binary, or the test skips outside CI) and returns a chromedp context
// that ends with the test. As root it runs without the sandbox.
func Chrome(t testing.TB) context.Context {
	t.Helper()
	bin := Chromium(t)
	opts := []chromedp.ExecAllocatorOption{chromedp.ExecPath(bin), chromedp.Headless, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true), chromedp.Flag("lang", "en-US")}
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox)
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	ctx, cancelT := context.WithTimeout(ctx, 120*time.Second)
	t.Cleanup(func() { cancelT(); cancelC(); cancelA() })
	return ctx
}
