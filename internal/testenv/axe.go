package testenv

import (
	"errors"
	"os"
	"path/filepath"
	"sync"
)

// axe-core (npm, MPL-2.0) checks pages for accessibility; the Chromium
// tests inject it into every console and sign-in page (issue 17, point
// 15). .ci/run installs it into test/axe (npm ci there).

var axeOnce struct {
	sync.Once
	script string
	err    error
}

// AxeScript returns the source of axe.min.js from test/axe/node_modules,
// found from the working directory up to the module root; an error when it
// is not installed.
func AxeScript() (string, error) {
	axeOnce.Do(func() {
		dir, err := os.Getwd()
		if err != nil {
			axeOnce.err = err
			return
		}
		for {
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				b, err := os.ReadFile(filepath.Join(dir, "test", "axe", "node_modules", "axe-core", "axe.min.js"))
				axeOnce.script, axeOnce.err = string(b), err
				return
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				axeOnce.err = errors.New("no go.mod above the working directory")
				return
			}
			dir = parent
		}
	})
	return axeOnce.script, axeOnce.err
}

// AxeCheck is the JavaScript that runs axe on the loaded page for the
// rules of WCAG 2.0, 2.1 and 2.2 at levels A and AA and returns one line
// per violation: rule, help text and the first offending elements.
const AxeCheck = `(async () => {
  const r = await axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]}});
  return r.violations.map(v => v.id + " (" + v.impact + "): " + v.help + " — " +
    v.nodes.slice(0, 3).map(n => n.target.join(" ") + " " + (n.failureSummary || "").replace(/\s+/g, " ")).join(" | "));
})()`
