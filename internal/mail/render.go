package mail

import (
	"embed"
	"fmt"
	"strings"
	"text/template"
	"time"
)

//go:embed templates/*.txt
var templateFiles embed.FS

// Kinds of mail, named like their templates and like the store's link
// purposes.
const (
	KindPasswordSetup = "password_setup"
	KindPasswordReset = "password_reset"
	KindVerifyEmail   = "verify_email"
)

// Data is what a mail template may use.
type Data struct {
	Name     string // given name first (the English part)
	NameJA   string // family name first (the Japanese part)
	Username string
	Email    string
	Link     string
	Expires  string // in the user's time zone
}

// Templates are the parsed mail templates, one set per kind, each
// defining "subject" and "body" in Japanese followed by English.
type Templates map[string]*template.Template

// LoadTemplates parses every embedded template; a broken one is an error
// at start, not at send time (STYLE P11).
func LoadTemplates() (Templates, error) {
	out := Templates{}
	for _, kind := range []string{KindPasswordSetup, KindPasswordReset, KindVerifyEmail} {
		t, err := template.ParseFS(templateFiles, "templates/"+kind+".txt")
		if err != nil {
			return nil, err
		}
		for _, name := range []string{"subject", "body"} {
			if t.Lookup(name) == nil {
				return nil, fmt.Errorf("mail template %s: no %q", kind, name)
			}
		}
		out[kind] = t
	}
	return out, nil
}

// Render fills the template of kind.
func (ts Templates) Render(kind string, d Data) (subject, body string, err error) {
	t, ok := ts[kind]
	if !ok {
		return "", "", fmt.Errorf("no mail template %q", kind)
	}
	var s, b strings.Builder
	if err := t.ExecuteTemplate(&s, "subject", d); err != nil {
		return "", "", err
	}
	if err := t.ExecuteTemplate(&b, "body", d); err != nil {
		return "", "", err
	}
	return strings.TrimSpace(s.String()), b.String(), nil
}

// FormatExpiry writes t in the zone tz (falling back to UTC).
func FormatExpiry(t time.Time, tz string) string {
	loc, err := time.LoadLocation(tz)
	if err != nil {
		loc = time.UTC
	}
	return t.In(loc).Format("2006-01-02 15:04 MST")
}
