// Package i18n picks the language of a page (Japanese or English, O4) and
// looks texts up by id in message catalogues. The sign-in pages and the
// console each bring their own catalogue; this package holds no texts and
// no global state.
package i18n

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Supported languages; English is the fallback.
const (
	Japanese = "ja"
	English  = "en"
)

// Languages lists the supported languages in the order pages offer them.
var Languages = []string{Japanese, English}

// CookieName is the cookie that keeps a chosen language.
const CookieName = "opsiam_lang"

// Catalog maps language → message id → text. Texts may hold fmt verbs.
type Catalog map[string]map[string]string

// Check reports ids missing in one of the languages, so a catalogue is
// proven complete by a test rather than by a reader.
func (c Catalog) Check() error {
	var missing []string
	for _, a := range Languages {
		for id := range c[a] {
			for _, b := range Languages {
				if _, ok := c[b][id]; !ok {
					missing = append(missing, b+":"+id)
				}
			}
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return fmt.Errorf("i18n: missing texts: %s", strings.Join(missing, ", "))
	}
	return nil
}

// T returns the text of id in lang (falling back to English, then to the id
// itself), formatted with args when given.
func (c Catalog) T(lang, id string, args ...any) string {
	s, ok := c[lang][id]
	if !ok {
		if s, ok = c[English][id]; !ok {
			s = id
		}
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

// Has reports whether id exists in lang.
func (c Catalog) Has(lang, id string) bool { _, ok := c[lang][id]; return ok }

// FromRequest picks the language of r: a `lang` query parameter (the
// switch on every page), then the cookie, then Accept-Language (RFC 9110
// §12.5.4, highest weight first), then English.
func FromRequest(r *http.Request) string {
	if l := r.URL.Query().Get("lang"); supported(l) {
		return l
	}
	if c, err := r.Cookie(CookieName); err == nil && supported(c.Value) {
		return c.Value
	}
	return fromAcceptLanguage(r.Header.Get("Accept-Language"))
}

// Remember sets the language cookie when the request chose a language with
// the `lang` query parameter.
func Remember(w http.ResponseWriter, r *http.Request, secure bool) {
	if l := r.URL.Query().Get("lang"); supported(l) {
		http.SetCookie(w, &http.Cookie{Name: CookieName, Value: l, Path: "/", MaxAge: int((365 * 24 * time.Hour).Seconds()),
			HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode})
	}
}

func supported(l string) bool { return slices.Contains(Languages, l) }

func fromAcceptLanguage(h string) string {
	best, bestQ := English, -1.0
	for _, part := range strings.Split(h, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				continue
			}
			q = f
		}
		base, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
		if supported(base) && q > bestQ && q > 0 {
			best, bestQ = base, q
		}
	}
	return best
}

// PersonName writes a person's name in the order of lang (issue 17): family
// name first in Japanese ("山田 太郎"), given name first in English ("Taro
// Yamada"). Either part may be empty.
func PersonName(lang, first, last string) string {
	a, b := first, last
	if lang == Japanese {
		a, b = last, first
	}
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + " " + b
}
