package main

import (
	"bytes"
	"context"
	"flag"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestOneFlagParser: every command separates the common flags with
// splitArgs and reads its own with parseInterspersed, wherever they stand
// (issue 17, point 2).
func TestOneFlagParser(t *testing.T) {
	t.Parallel() // its own data directory and server (issue 17, point 7)
	common, rest := splitArgs([]string{"add", "--data-dir", "/d", "--name", "N", "--public", "--insecure-issuer", "--log-level=debug", "extra"})
	if !slices.Equal(common, []string{"--data-dir", "/d", "--insecure-issuer", "--log-level=debug"}) ||
		!slices.Equal(rest, []string{"add", "--name", "N", "--public", "extra"}) {
		t.Fatalf("common %q rest %q", common, rest)
	}
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	name := fs.String("name", "", "")
	public := fs.Bool("public", false, "")
	pos, err := parseInterspersed(fs, rest)
	if err != nil || *name != "N" || !*public || !slices.Equal(pos, []string{"add", "extra"}) {
		t.Fatalf("parseInterspersed: %v %q %v %q", err, *name, *public, pos)
	}
}

func TestClientCLIRejectsBadInput(t *testing.T) {
	t.Parallel() // its own data directory and server (issue 17, point 7)
	dir := filepath.Join(t.TempDir(), "data")
	ensureDatabase(t, dir)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"client", "add", "--data-dir", dir, "--name", "x", "--redirect-uri", "http://app.example/cb"}, "redirect_uris"},
		{[]string{"client", "add", "--data-dir", dir, "--redirect-uri", "https://app.example/cb"}, "name"},
		{[]string{"client", "add", "--data-dir", dir, "--name", "x", "--public", "--grant-type", "client_credentials"}, "grant_types"},
		{[]string{"client", "delete", "--data-dir", dir, "nope"}, "not found"},
		{[]string{"client", "fly", "--data-dir", dir}, "unknown command"},
	}
	for _, tc := range tests {
		var out, errOut bytes.Buffer
		err := run(context.Background(), tc.args, func(string) string { return "" }, strings.NewReader(""), &out, &errOut)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: got %v, want an error naming %q", tc.args, err, tc.want)
		}
	}
}
