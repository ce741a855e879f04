package gitlab

import (
	"strings"
	"unicode"
)

// Path derives a GitLab group path from an opsiam group name (P2). GitLab
// paths may hold only letters, digits, "_", "-" and "."; may not start or
// end with one of those special characters nor hold two in a row; and may
// not end in ".git" or ".atom". Group names (SPEC §8) also allow spaces and
// parentheses: those become "-". The path is lower case, so that names that
// differ only in case (which opsiam refuses anyway) share one path.
// Examples: "Ops Team (Tokyo)" → "ops-team-tokyo", "_infra" → "infra".
func Path(name string) string {
	var b strings.Builder
	special := func(r rune) bool { return r == '-' || r == '_' || r == '.' }
	last := '-' // as if a special character came before: trims the start
	for _, r := range strings.ToLower(name) {
		switch {
		case r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)):
		case special(r):
		default:
			r = '-'
		}
		if special(r) && special(last) {
			continue
		}
		b.WriteRune(r)
		last = r
	}
	p := strings.TrimRightFunc(b.String(), special)
	for _, suffix := range []string{".git", ".atom"} {
		if strings.HasSuffix(p, suffix) {
			p = strings.TrimSuffix(p, suffix) + "-" + suffix[1:]
		}
	}
	if p == "" {
		return "group"
	}
	return p
}
