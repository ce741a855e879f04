package gitlab

import (
	"regexp"
	"strings"
	"testing"
)

func TestPath(t *testing.T) {
	tests := []struct{ name, want string }{
		{"ops", "ops"},
		{"Ops Team (Tokyo)", "ops-team-tokyo"},
		{"_infra", "infra"},
		{"a..b--c__d", "a.b-c_d"},
		{"web.git", "web-git"},
		{"feed.atom", "feed-atom"},
		{"日本語チーム", "group"},
		{"SRE 2", "sre-2"},
		{"x.", "x"},
		{"(", "group"},
	}
	for _, tc := range tests {
		if got := Path(tc.name); got != tc.want {
			t.Errorf("Path(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
}

// validPath is GitLab's path rule as documented for groups.
var validPath = regexp.MustCompile(`^[a-z0-9]([a-z0-9]|[-_.][a-z0-9])*$`)

func FuzzPath(f *testing.F) {
	f.Add("Ops Team (Tokyo)")
	f.Add("a.git")
	f.Add("-_.")
	f.Fuzz(func(t *testing.T, name string) {
		p := Path(name)
		if !validPath.MatchString(p) || strings.HasSuffix(p, ".git") || strings.HasSuffix(p, ".atom") {
			t.Fatalf("Path(%q) = %q is not a valid GitLab path", name, p)
		}
	})
}
