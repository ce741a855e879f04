package console_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"opsiam/internal/directory"
	"opsiam/internal/manage"
	"opsiam/internal/oidc"
	"opsiam/internal/store"
)

// TestBrowserEveryPageAccessible opens every console page (and every tab)
// in headless Chromium, in English and Japanese, and runs axe-core on it
// through checkPage: no WCAG A or AA violation, no input without a label
// (issue 17, point 15). The screenshots land in testdata/screenshots.
func TestBrowserEveryPageAccessible(t *testing.T) {
	t.Parallel() // each test has its own database, server and browser tab (issue 17, point 7)
	s := newServer(t)
	ctx := context.Background()
	u := s.user(t, "taro")
	g, err := s.svc.CreateGroup(ctx, sys, directory.Group{Name: "Night shift"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.svc.AddMembers(ctx, sys, g.ID, []directory.UserID{u.ID}); err != nil {
		t.Fatal(err)
	}
	r, err := s.svc.CreateRole(ctx, sys, directory.Role{Name: "Night lead"})
	if err != nil {
		t.Fatal(err)
	}
	itsm, _ := s.db.GetRoleByName(ctx, directory.RoleNameItsmUser)
	if err := s.svc.AddContains(ctx, sys, r.ID, []directory.RoleID{itsm.ID}); err != nil {
		t.Fatal(err)
	}
	c, err := s.svc.CreateCustomer(ctx, sys, directory.Customer{Code: "acme", Name: "Acme"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := (&oidc.ClientService{Store: s.db}).Create(ctx, oidc.Actor{Name: "test"}, oidc.ClientInput{ClientID: "app", Name: "App",
		RedirectURIs: []string{"https://app.example/cb"}}); err != nil {
		t.Fatal(err)
	}
	idpName, idpIssuer, idpClient := "Acme IdP", "https://login.acme.example", "opsiam"
	idp, err := s.svc.CreateIdentityProvider(ctx, sys, manage.ProviderPatch{Name: &idpName, Issuer: &idpIssuer, ClientID: &idpClient,
		CustomerID: &c.ID, Domains: &[]string{"acme.example"}})
	if err != nil {
		t.Fatal(err)
	}
	// A provider for platform staff, so that Taro's page shows the link form.
	staffIdP, staffIssuer := "Staff IdP", "https://login.staff.example"
	if _, err := s.svc.CreateIdentityProvider(ctx, sys, manage.ProviderPatch{Name: &staffIdP, Issuer: &staffIssuer, ClientID: &idpClient,
		Domains: &[]string{"staff.example"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.CreatePasskey(ctx, store.Passkey{UserID: u.ID, CredentialID: []byte{9, 9}, PublicKey: []byte{1}, Name: "Taro's phone"}); err != nil {
		t.Fatal(err)
	}
	day := time.Now().UTC()
	for i := range 5 {
		s.db.PutBillingSnapshot(ctx, store.BillingSnapshot{Day: day.AddDate(0, 0, i-4).Format(time.DateOnly), Billed: 3 + i, NonBilled: 1, TakenAt: day})
	}
	pages := []string{"/console/users", "/console/users?view=billed", "/console/users/new",
		"/console/users/" + string(u.ID) + "/edit", "/console/groups", "/console/groups/new",
		"/console/groups/" + string(g.ID) + "/edit", "/console/roles", "/console/roles/new", "/console/customers",
		"/console/customers/new", "/console/customers/" + string(c.ID), "/console/apps", "/console/apps/new",
		"/console/audit", "/console/outbox", "/console/billing", "/console/idps", "/console/idps/new",
		"/console/idps/" + idp.ID, "/console/nothing-here"}
	for _, tab := range []string{"groups", "roles", "effective"} {
		pages = append(pages, "/console/users/"+string(u.ID)+"?tab="+tab)
	}
	for _, tab := range []string{"members", "relations", "roles", "effective", "git"} {
		pages = append(pages, "/console/groups/"+string(g.ID)+"?tab="+tab)
	}
	for _, tab := range []string{"users", "groups", "contains"} {
		pages = append(pages, "/console/roles/"+string(r.ID)+"?tab="+tab)
	}
	for _, lang := range []string{"en", "ja"} {
		t.Run(lang, func(t *testing.T) {
			t.Parallel() // two tabs of the shared browser at once
			everyPage(t, s.URL, lang, pages, u, g, r, c)
		})
	}
}

// everyPage visits pages in one language; the ids name the screenshots.
func everyPage(t *testing.T, base, lang string, pages []string, u directory.User, g directory.Group, r directory.Role, c directory.Customer) {
	b := newTab(t, base, lang)
	b.signIn("admin", adminPassword, "/console/users")
	for _, p := range pages {
		b.navigate(p)
		b.waitURL(strings.SplitN(p, "?", 2)[0])
		name := strings.NewReplacer("/console/", "", "/", "-", "?", "-", "=", "-").Replace(p)
		name = strings.ReplaceAll(strings.ReplaceAll(name, string(u.ID), "user"), string(g.ID), "group")
		name = strings.ReplaceAll(strings.ReplaceAll(name, string(r.ID), "role"), string(c.ID), "customer")
		b.checkPage("every-" + lang + "-" + name)
		// What issue 17's console points put on these pages, as the
		// browser shows it.
		for _, c := range pointChecks(lang, string(u.ID))[p] {
			if !eval[bool](b, c) {
				t.Errorf("%s (%s): %s is false", p, lang, c)
			}
		}
	}
}

// pointChecks are JavaScript conditions per page for issue 17's console
// points: counts and sortable columns (8), name order (9), linked audit
// entries (12), the billing chart and the role drawing (13), last sign-in
// and ITSM use (14); and issue 18's passkeys on a user's page.
func pointChecks(lang, userID string) map[string][]string {
	name := map[string]string{"en": "Taro Yamada", "ja": "Yamada Taro"}[lang]
	return map[string][]string{
		"/console/users": {`!!document.querySelector("#count-all")`, `!!document.querySelector("#sort-customer")`,
			`document.querySelector("#users-table").innerText.includes("` + name + `")`},
		"/console/audit":   {`document.querySelectorAll("#audit-table a[href^='/console/']").length > 0`, `!!document.querySelector("#audit-csv")`},
		"/console/billing": {`document.querySelector("#billing-line-billed").points.length === 5`},
		"/console/users/" + userID + "?tab=groups": {`!!document.querySelector("#user-lastlogin")`, `!!document.querySelector("#user-itsm")`,
			// issue 18: the user's passkey, with its removal
			`document.querySelector("#user-passkeys").innerText.includes("Taro's phone")`,
			`!!document.querySelector("#user-passkeys button[id^='btn-passkey-remove-']:not([disabled])")`,
			`document.querySelector("#link-provider").options.length === 1`},
	}
}
