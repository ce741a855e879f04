package i18n

import (
	"net/http/httptest"
	"testing"
)

func TestFromRequest(t *testing.T) {
	tests := []struct {
		name, url, accept, cookie, want string
	}{
		{"default", "/", "", "", "en"},
		{"japanese browser", "/", "ja,en-US;q=0.9,en;q=0.8", "", "ja"},
		{"english preferred", "/", "en-US,en;q=0.9,ja;q=0.8", "", "en"},
		{"weights", "/", "fr;q=1.0, ja;q=0.5, en;q=0.4", "", "ja"},
		{"region tag", "/", "ja-JP", "", "ja"},
		{"q zero refused", "/", "ja;q=0", "", "en"},
		{"cookie wins", "/", "ja", "en", "en"},
		{"query wins", "/?lang=ja", "en", "en", "ja"},
		{"unknown query ignored", "/?lang=de", "ja", "", "ja"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", tc.url, nil)
			if tc.accept != "" {
				r.Header.Set("Accept-Language", tc.accept)
			}
			if tc.cookie != "" {
				r.Header.Set("Cookie", CookieName+"="+tc.cookie)
			}
			if got := FromRequest(r); got != tc.want {
				t.Fatalf("FromRequest = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestCatalog(t *testing.T) {
	c := Catalog{"en": {"hi": "Hello %s", "only": "x"}, "ja": {"hi": "こんにちは %s"}}
	if err := c.Check(); err == nil {
		t.Fatal("Check missed ja:only")
	}
	if got := c.T("ja", "hi", "太郎"); got != "こんにちは 太郎" {
		t.Fatalf("T = %q", got)
	}
	if got := c.T("ja", "only"); got != "x" {
		t.Fatalf("fallback = %q", got)
	}
	if got := c.T("en", "nothing"); got != "nothing" {
		t.Fatalf("missing id = %q", got)
	}
}

func FuzzAcceptLanguage(f *testing.F) {
	f.Add("ja,en-US;q=0.9")
	f.Add(";q=,,")
	f.Fuzz(func(t *testing.T, h string) {
		if l := fromAcceptLanguage(h); !supported(l) {
			t.Fatalf("unsupported language %q", l)
		}
	})
}

func TestPersonName(t *testing.T) {
	for _, c := range []struct{ lang, first, last, want string }{
		{English, "Taro", "Yamada", "Taro Yamada"},
		{Japanese, "太郎", "山田", "山田 太郎"},
		{Japanese, "Taro", "", "Taro"},
		{English, "", "Yamada", "Yamada"},
		{"fr", "Jean", "Dupont", "Jean Dupont"},
	} {
		if got := PersonName(c.lang, c.first, c.last); got != c.want {
			t.Errorf("PersonName(%s, %q, %q) = %q, want %q", c.lang, c.first, c.last, got, c.want)
		}
	}
}
