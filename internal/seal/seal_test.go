package seal

import (
	"errors"
	"strings"
	"testing"
)

func TestBox(t *testing.T) {
	var kek, other [32]byte
	kek[0], other[0] = 1, 2
	a, _ := New(kek, "test a")
	b, _ := New(kek, "test b")
	c, _ := New(other, "test a")
	s, err := a.Seal("row1", "secret")
	if err != nil || !strings.HasPrefix(s, Prefix) || strings.Contains(s, "secret") {
		t.Fatalf("sealed %q %v", s, err)
	}
	if got, err := a.Open("row1", s); err != nil || got != "secret" {
		t.Fatalf("open: %q %v", got, err)
	}
	for name, open := range map[string]func() (string, error){
		"other row":  func() (string, error) { return a.Open("row2", s) },
		"other info": func() (string, error) { return b.Open("row1", s) },
		"other key":  func() (string, error) { return c.Open("row1", s) },
		"changed":    func() (string, error) { return a.Open("row1", changed(s)) },
		"clear":      func() (string, error) { return a.Open("row1", "secret") },
	} {
		if _, err := open(); !errors.Is(err, ErrUnreadable) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// changed returns s with one character of its sealed part replaced by
// another (not always "A": a character that is "A" already would leave s
// as it was, as it did once in 4,096 runs).
func changed(s string) string {
	i := len(Prefix) + (len(s)-len(Prefix))/2
	c := byte('A')
	if s[i] == 'A' {
		c = 'B'
	}
	return s[:i] + string(c) + s[i+1:]
}
