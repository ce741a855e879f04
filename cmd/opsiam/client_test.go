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

func TestSplitFlags(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	fs.String("name", "", "")
	fs.Bool("public", false, "")
	mine, rest := splitFlags(fs, []string{"add", "--data-dir", "/d", "--name", "N", "--public", "--insecure-issuer", "--log-level=debug", "extra"})
	if !slices.Equal(mine, []string{"--name", "N", "--public"}) ||
		!slices.Equal(rest, []string{"--data-dir", "/d", "--insecure-issuer", "--log-level=debug", "add", "extra"}) {
		t.Fatalf("mine %q rest %q", mine, rest)
	}
}

func TestClientCLIRejectsBadInput(t *testing.T) {
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
