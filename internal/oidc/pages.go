package oidc

import (
	"html/template"
	"net/http"
	"strings"

	"opsiam/internal/i18n"
)

// pageTmpl renders the few pages the provider shows itself: a refusal
// (T2), an expired request, the logout confirmation and the signed-out
// page, in Japanese or English (O4).
var pageTmpl = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{{.Title}} · opsiam</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#222}
h1{font-size:1.4rem}a.button{display:inline-block;padding:.5rem 1rem;border:1px solid #888;border-radius:4px;text-decoration:none;color:#222}</style>
</head><body>
<h1>{{.Title}}</h1>
<p>{{.Message}}</p>
{{if .Link}}<p><a class="button" id="continue" href="{{.Link}}">{{.LinkText}}</a></p>{{end}}
{{if .Action}}<form method="post" action="{{.Action}}" id="logout-form">
{{range $k, $v := .Fields}}<input type="hidden" name="{{$k}}" value="{{$v}}">
{{end}}<button type="submit" id="logout-submit">{{.Button}}</button></form>{{end}}
</body></html>
`))

// pageTexts are the texts of the provider's pages (O4), checked complete
// by a test.
var pageTexts = i18n.Catalog{
	i18n.English: {
		"expired.title":    "Sign-in request expired",
		"expired.message":  "This sign-in request is unknown or has expired. Go back to the application and start again.",
		"denied.title":     "Access denied",
		"denied.back":      "Back to the application",
		"denied.disabled":  "Your account is disabled. Ask your administrator.",
		"denied.itsm":      "Your account may not use %s: it is open only to ITSM agents (roles itsm_admin, itsm_manager, itsm_user or itsm_viewer), and never to customer users. Ask your administrator if you need access.",
		"denied.role":      "Your account may not use %s: it is open only to holders of the role %s. Ask your administrator if you need access.",
		"denied.or":        " or ",
		"logout.title":     "Sign out?",
		"logout.message":   "An application asks to sign you out of the platform and all its applications.",
		"logout.button":    "Sign out",
		"loggedout.title":  "Signed out",
		"loggedout.detail": "You have been signed out of the platform and its applications.",
	},
	i18n.Japanese: {
		"expired.title":    "サインイン要求の期限切れ",
		"expired.message":  "このサインイン要求は不明か、期限が切れています。アプリケーションに戻って、もう一度始めてください。",
		"denied.title":     "アクセスが拒否されました",
		"denied.back":      "アプリケーションに戻る",
		"denied.disabled":  "アカウントは無効になっています。管理者に問い合わせてください。",
		"denied.itsm":      "このアカウントでは %s を利用できません。ITSM エージェント（ロール itsm_admin、itsm_manager、itsm_user、itsm_viewer）だけが利用でき、顧客ユーザーは利用できません。必要なら管理者に問い合わせてください。",
		"denied.role":      "このアカウントでは %s を利用できません。ロール %s を持つユーザーだけが利用できます。必要なら管理者に問い合わせてください。",
		"denied.or":        "、",
		"logout.title":     "サインアウトしますか？",
		"logout.message":   "アプリケーションが、プラットフォームとそのすべてのアプリケーションからのサインアウトを求めています。",
		"logout.button":    "サインアウト",
		"loggedout.title":  "サインアウトしました",
		"loggedout.detail": "プラットフォームとそのアプリケーションからサインアウトしました。",
	},
}

type page struct {
	Lang                           string
	Title, Message, Link, LinkText string
	// A form posting Fields to Action, for confirmations.
	Action, Button string
	Fields         map[string]string
}

// texts returns a lookup of the provider's texts in the language of r.
func texts(r *http.Request) (lang string, t func(id string, args ...any) string) {
	lang = i18n.FromRequest(r)
	return lang, func(id string, args ...any) string { return pageTexts.T(lang, id, args...) }
}

// orList joins names with the language's "or".
func orList(t func(string, ...any) string, names []string) string {
	return strings.Join(names, t("denied.or"))
}

// renderPage writes p with the same headers as the sign-in pages: no
// caching, no framing, and a policy without form-action, since the logout
// confirmation ends in a redirect to the application (issue 12, defect 1).
func renderPage(w http.ResponseWriter, status int, p page) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'")
	w.WriteHeader(status)
	_ = pageTmpl.Execute(w, p)
}

func (p *Provider) loggedOut(w http.ResponseWriter, r *http.Request) {
	lang, t := texts(r)
	renderPage(w, http.StatusOK, page{Lang: lang, Title: t("loggedout.title"), Message: t("loggedout.detail")})
}
