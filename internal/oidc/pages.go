package oidc

import (
	"html/template"
	"net/http"
)

// pageTmpl renders the few pages the provider shows itself: a refusal
// (T2), an expired request, and the signed-out page.
var pageTmpl = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
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

type page struct {
	Title, Message, Link, LinkText string
	// A form posting Fields to Action, for confirmations.
	Action, Button string
	Fields         map[string]string
}

func renderPage(w http.ResponseWriter, status int, p page) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Frame-Options", "DENY")
	w.WriteHeader(status)
	_ = pageTmpl.Execute(w, p)
}

func (p *Provider) loggedOut(w http.ResponseWriter, _ *http.Request) {
	renderPage(w, http.StatusOK, page{Title: "Signed out", Message: "You have been signed out of the platform and its applications."})
}
