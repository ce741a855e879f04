package oidc

import (
	"net/http"
	"strings"
	"testing"

	"opsiam/internal/directory"
	"opsiam/internal/oidc/oidctest"
)

func TestPageTextsComplete(t *testing.T) {
	if err := pageTexts.Check(); err != nil {
		t.Fatal(err)
	}
}

// TestPagesInJapanese is defect 14 of issue 12: the ITSM refusal, the
// logout confirmation and the signed-out page speak the browser's language.
func TestPagesInJapanese(t *testing.T) {
	e := newEnv(t)
	_, secret := e.client("otobo", true)
	e.user("cust", "acme", directory.RoleNameCustomerUser)
	b := oidctest.Browser(t)
	b.Transport = langTransport{"ja"}
	rp := oidctest.NewRP(t, e.issuer, "otobo", secret)
	res := rp.Authorize(t, b, "cust", "password of cust", "verifier-0123456789012345678901234567890123", "n")
	if res.Status != http.StatusForbidden || !strings.Contains(res.Page, `lang="ja"`) ||
		!strings.Contains(res.Page, "アクセスが拒否されました") || !strings.Contains(res.Page, "ITSM エージェント") ||
		!strings.Contains(res.Page, "アプリケーションに戻る") {
		t.Fatalf("refusal page is not Japanese: %d\n%s", res.Status, res.Page)
	}
	resp, err := b.Get(e.issuer + "/oidc/logged-out")
	if err != nil {
		t.Fatal(err)
	}
	if body := oidctest.ReadBody(t, resp); !strings.Contains(body, "サインアウトしました") {
		t.Fatalf("the signed-out page is not Japanese:\n%s", body)
	}
	// The logout confirmation, with a session of the browser.
	e.user("plain", "")
	_, s := e.client("wiki", false)
	rp2 := oidctest.NewRP(t, e.issuer, "wiki", s)
	if res := rp2.Authorize(t, b, "plain", "password of plain", "verifier-0123456789012345678901234567890123", "n"); res.Code == "" {
		t.Fatalf("sign-in: %+v", res)
	}
	resp, err = b.Get(e.issuer + "/end_session?client_id=wiki")
	if err != nil {
		t.Fatal(err)
	}
	body := oidctest.ReadBody(t, resp)
	if !strings.Contains(body, "サインアウトしますか") || !strings.Contains(body, `lang="ja"`) {
		t.Fatalf("logout confirmation is not Japanese:\n%s", body)
	}
}

// langTransport sends Accept-Language on every request, as a browser set
// to that language does.
type langTransport struct{ lang string }

func (l langTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Accept-Language", l.lang)
	return http.DefaultTransport.RoundTrip(r)
}
