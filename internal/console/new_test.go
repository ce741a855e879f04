package console_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"opsiam/internal/console"
)

// TestBrokenTemplateStopsStart: a template that does not parse makes New
// fail, so the server does not start (STYLE P11).
func TestBrokenTemplateStopsStart(t *testing.T) {
	t.Parallel() // each test has its own database, server and browser tab (issue 17, point 7)
	db := openStore(t)
	_, svc := handler(t, db, nil)
	files := fstest.MapFS{}
	paths, err := filepath.Glob("templates/*.html")
	if err != nil || len(paths) == 0 {
		t.Fatalf("templates: %v", err)
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		files[filepath.ToSlash(p)] = &fstest.MapFile{Data: b}
	}
	as := authService(t, db)
	if _, err := console.New(console.Config{Manage: svc, Auth: as, Templates: files}); err != nil {
		t.Fatalf("the source templates do not parse: %v", err)
	}
	broken := string(files["templates/groups.html"].Data)
	files["templates/groups.html"] = &fstest.MapFile{Data: []byte(strings.Replace(broken, "{{end}}", "{{end", 1))}
	if _, err := console.New(console.Config{Manage: svc, Auth: as, Templates: files}); err == nil {
		t.Fatal("New accepted a broken template")
	}
}
