package console_test

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"opsiam/internal/directory"
	"opsiam/internal/manage"
	"opsiam/internal/store"
)

// TestBillingChart: the billing page draws the daily snapshots as an SVG
// chart made on the server (one point per day and series, no script) with
// the same numbers in a table, and only for callers with billing.read
// (issue 17, point 13).
func TestBillingChart(t *testing.T) {
	t.Parallel() // each test has its own database, server and browser tab (issue 17, point 7)
	s := newServer(t)
	s.user(t, "boss", "System Security Administrator")
	s.user(t, "agent")
	ctx := context.Background()
	day := time.Now().UTC().AddDate(0, 0, -9)
	for i := range 10 {
		d := day.AddDate(0, 0, i).Format(time.DateOnly)
		if err := s.db.PutBillingSnapshot(ctx, store.BillingSnapshot{Day: d, Billed: 10 + i, NonBilled: 3, TakenAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	cl := s.signIn(t, "boss", "boss password 1")
	_, body := cl.get("/console/billing?lang=en")
	points := func(id string) []string {
		m := regexp.MustCompile(`id="` + id + `" points="([^"]*)"`).FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("no %s in:\n%s", id, body)
		}
		return strings.Fields(m[1])
	}
	billed, non := points("billing-line-billed"), points("billing-line-nonbilled")
	if len(billed) != 10 || len(non) != 10 {
		t.Fatalf("%d and %d points, want 10 each", len(billed), len(non))
	}
	// Rising billed counts draw a line that rises (SVG y grows downwards);
	// the constant non-billed count is flat.
	yOf := func(p string) int { n, _ := strconv.Atoi(p[strings.IndexByte(p, ',')+1:]); return n }
	if !(yOf(billed[0]) > yOf(billed[9])) || yOf(non[0]) != yOf(non[9]) {
		t.Errorf("billed %v, non-billed %v", billed, non)
	}
	if strings.Contains(body, "<script") && strings.Contains(body[strings.Index(body, "<svg"):strings.Index(body, "</svg>")], "script") {
		t.Error("the chart uses a script")
	}
	if !strings.Contains(body, "<td>19</td>") || !strings.Contains(body, `role="img"`) || !strings.Contains(body, `id="billing-now"`) {
		t.Error("table, image role or current counts missing")
	}
	other := s.signIn(t, "agent", "agent password 1")
	if code, _ := other.get("/console/billing"); code != 404 {
		t.Errorf("a user without billing.read: %d", code)
	}
}

// TestRoleDrawing: a role's page draws what it contains two levels deep
// as SVG, each contained role a link, and says how much deeper is left out.
func TestRoleDrawing(t *testing.T) {
	t.Parallel() // each test has its own database, server and browser tab (issue 17, point 7)
	s := newServer(t)
	s.user(t, "boss", "System Security Administrator")
	ctx := context.Background()
	sys := manage.SystemCaller("", "test")
	var ids []directory.RoleID
	for _, n := range []string{"Ops lead", "Ops", "Ops junior", "Ops trainee"} {
		r, err := s.svc.CreateRole(ctx, sys, directory.Role{Name: n})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.ID)
	}
	for i := 0; i+1 < len(ids); i++ { // a chain: lead ⊃ ops ⊃ junior ⊃ trainee
		if err := s.svc.AddContains(ctx, sys, ids[i], []directory.RoleID{ids[i+1]}); err != nil {
			t.Fatal(err)
		}
	}
	cl := s.signIn(t, "boss", "boss password 1")
	_, body := cl.get("/console/roles/" + string(ids[0]) + "?tab=contains&lang=en")
	i, j := strings.Index(body, `<svg id="role-drawing"`), strings.Index(body, "</svg>")
	if i < 0 || j < i {
		t.Fatalf("no drawing:\n%s", body)
	}
	svg := body[i:j]
	for _, want := range []string{">Ops lead<", `href="/console/roles/` + string(ids[1]) + `?tab=contains"`, ">Ops junior<"} {
		if !strings.Contains(svg, want) {
			t.Errorf("drawing lacks %s", want)
		}
	}
	if strings.Contains(svg, "Ops trainee") || strings.Count(svg, "<line") != 2 {
		t.Errorf("drawing is not two levels deep: %s", svg)
	}
	if !strings.Contains(body, "1 more containments below the second level") {
		t.Error("the cut is not told")
	}
}

// TestUsersSortAndCounts: the users list sorts by its column headings,
// keeps the sort across paging and search, and shows each tree node's
// count (issue 17, point 8).
func TestUsersSortAndCounts(t *testing.T) {
	t.Parallel() // each test has its own database, server and browser tab (issue 17, point 7)
	s := newServer(t)
	s.user(t, "boss", "System Security Administrator")
	for _, n := range []string{"carol", "alice", "bob"} {
		s.user(t, n)
	}
	ctx := context.Background()
	if _, err := s.svc.SnapshotBilling(ctx); err != nil {
		t.Fatal(err)
	}
	cl := s.signIn(t, "boss", "boss password 1")
	order := func(body string) []string {
		var out []string
		for _, m := range regexp.MustCompile(`data-username="([^"]+)"`).FindAllStringSubmatch(body, -1) {
			out = append(out, m[1])
		}
		return out
	}
	_, body := cl.get("/console/users?lang=en")
	if got := strings.Join(order(body), ","); got != "admin,alice,bob,boss,carol" {
		t.Fatalf("default order: %s", got)
	}
	if !strings.Contains(body, `id="count-all">(5)<`) || !strings.Contains(body, `id="counts-asof"`) {
		t.Errorf("tree counts missing:\n%s", body[:min(len(body), 3000)])
	}
	_, body = cl.get("/console/users?sort=username&order=desc&lang=en")
	if got := strings.Join(order(body), ","); got != "carol,boss,bob,alice,admin" {
		t.Fatalf("descending: %s", got)
	}
	if !strings.Contains(body, `aria-sort="descending"`) || !strings.Contains(body, `name="order" value="desc"`) {
		t.Error("the sort is not marked or not kept by the search form")
	}
	// Paging keeps the sort.
	s2 := newServerPaged(t, 2)
	s2.user(t, "boss", "System Security Administrator")
	for _, n := range []string{"carol", "alice", "bob"} {
		s2.user(t, n)
	}
	cl2 := s2.signIn(t, "boss", "boss password 1")
	_, body = cl2.get("/console/users?sort=username&order=desc")
	next := regexp.MustCompile(`href="(/console/users\?[^"]*cursor=[^"]*)" id="page-next"`).FindStringSubmatch(body)
	if next == nil || !strings.Contains(next[1], "order=desc") {
		t.Fatalf("next link: %v", next)
	}
	_, body = cl2.get(strings.ReplaceAll(next[1], "&amp;", "&"))
	if got := strings.Join(order(body), ","); got != "bob,alice" {
		t.Fatalf("second page, descending: %s", got)
	}
}

// TestWhyCut: when more than directory.MaxWhyPaths paths grant a role, the
// effective roles tab says that the list was cut (issue 17, point 14).
func TestWhyCut(t *testing.T) {
	t.Parallel() // each test has its own database, server and browser tab (issue 17, point 7)
	s := newServer(t)
	s.user(t, "boss", "System Security Administrator")
	u := s.user(t, "wide")
	ctx := context.Background()
	sys := manage.SystemCaller("", "test")
	role, err := s.svc.CreateRole(ctx, sys, directory.Role{Name: "Wide role"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range directory.MaxWhyPaths + 1 {
		g, err := s.svc.CreateGroup(ctx, sys, directory.Group{Name: fmt.Sprintf("wide %03d", i)})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.svc.AssignGroupRoles(ctx, sys, g.ID, []directory.RoleID{role.ID}); err != nil {
			t.Fatal(err)
		}
		if err := s.svc.AddMembers(ctx, sys, g.ID, []directory.UserID{u.ID}); err != nil {
			t.Fatal(err)
		}
	}
	cl := s.signIn(t, "boss", "boss password 1")
	_, body := cl.get("/console/users/" + string(u.ID) + "?tab=effective&lang=en")
	if !strings.Contains(body, `id="why-cut-`+string(role.ID)+`">… and more paths: the first 100 are shown.<`) {
		t.Fatalf("no cut notice:\n%s", body)
	}
	if strings.Count(body, "group wide ") != directory.MaxWhyPaths {
		t.Errorf("%d paths shown", strings.Count(body, "group wide "))
	}
}

// TestRoleDescriptionsInJapanese: every role of the catalogue has a
// Japanese description on the roles page (issue 17, point 11).
func TestRoleDescriptionsInJapanese(t *testing.T) {
	t.Parallel() // each test has its own database, server and browser tab (issue 17, point 7)
	s := newServer(t)
	s.user(t, "boss", "System Security Administrator")
	cl := s.signIn(t, "boss", "boss password 1")
	_, body := cl.get("/console/roles?lang=ja&limit=200")
	for _, r := range directory.Catalog() {
		if strings.Contains(body, r.Description) {
			t.Errorf("%s: the English description is shown in Japanese", r.Name)
		}
	}
	if !strings.Contains(body, "プラットフォームのシステム管理者。") {
		t.Error("no Japanese description")
	}
}

// TestPickUsersScope: the picker searches only the users the caller may
// read (a customer administrator its own customer's; a user without
// user.read nobody).
func TestPickUsersScope(t *testing.T) {
	t.Parallel() // each test has its own database, server and browser tab (issue 17, point 7)
	s := newServer(t)
	ctx := context.Background()
	sys := manage.SystemCaller("", "test")
	acme, _ := s.svc.CreateCustomer(ctx, sys, directory.Customer{Code: "acme", Name: "Acme"})
	other, _ := s.svc.CreateCustomer(ctx, sys, directory.Customer{Code: "other", Name: "Other"})
	for name, cust := range map[string]directory.CustomerID{"pa-mine": acme.ID, "pa-theirs": other.ID, "pa-boss": acme.ID} {
		u, err := s.svc.CreateUser(ctx, sys, directory.User{Username: name, Email: name + "@example.test", FirstName: "P", LastName: "A", Enabled: true, CustomerID: cust})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.svc.SetPassword(ctx, sys, name, name+" password 1"); err != nil {
			t.Fatal(err)
		}
		roles := []string{"Customer User"}
		if name == "pa-boss" {
			roles = []string{"Customer Manager"}
		}
		r, _ := s.db.GetRoleByName(ctx, roles[0])
		if err := s.svc.AssignUserRoles(ctx, sys, u.ID, []directory.RoleID{r.ID}); err != nil {
			t.Fatal(err)
		}
	}
	boss := s.signIn(t, "pa-boss", "pa-boss password 1")
	_, body := boss.get("/console/pick/users?q=pa-")
	if !strings.Contains(body, `"pa-mine"`) || strings.Contains(body, "pa-theirs") {
		t.Fatalf("customer admin's picker: %s", body)
	}
	plain := s.signIn(t, "pa-mine", "pa-mine password 1")
	if _, body := plain.get("/console/pick/users?q=pa-"); strings.TrimSpace(body) != "[]" {
		t.Fatalf("a customer user's picker: %s", body)
	}
}

// TestValidationInJapanese: the refusals of a form are in the page's
// language (issue 17, point 11): a Japanese page shows Japanese messages
// next to the fields, not the rules' English sentences.
func TestValidationInJapanese(t *testing.T) {
	t.Parallel() // each test has its own database, server and browser tab (issue 17, point 7)
	s := newServer(t)
	s.user(t, "boss", "System Security Administrator")
	cl := s.signIn(t, "boss", "boss password 1")
	form := url.Values{"pi": {"1"}, "username": {"-bad"}, "email": {"not a mail"}, "first_name": {""}, "last_name": {strings.Repeat("長", 70)}}
	code, body := cl.post("/console/users", "/console/users/new?lang=ja", form)
	if code != 422 {
		t.Fatalf("status %d", code)
	}
	for _, want := range []string{"入力が必要です。", "64 文字以内で入力してください。", "先頭は英字か数字です。", "メールアドレスの形式ではありません。"} {
		if !strings.Contains(body, want) {
			t.Errorf("no %q in the refused form", want)
		}
	}
	for _, english := range []string{"is required", "is too long", "must start with"} {
		if strings.Contains(body, english) {
			i := strings.Index(body, english)
			t.Errorf("English refusal %q on a Japanese page: …%s…", english, body[max(0, i-300):min(len(body), i+100)])
		}
	}
}

// TestUsersSortByCustomer: the users list sorts by customer code too.
func TestUsersSortByCustomer(t *testing.T) {
	t.Parallel() // each test has its own database, server and browser tab (issue 17, point 7)
	s := newServer(t)
	s.user(t, "boss", "System Security Administrator")
	ctx := context.Background()
	sys := manage.SystemCaller("", "test")
	for name, code := range map[string]string{"u-z": "zeta", "u-a": "alef", "u-m": "mem"} {
		c, err := s.svc.CreateCustomer(ctx, sys, directory.Customer{Code: code, Name: "C " + code})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.svc.CreateUser(ctx, sys, directory.User{Username: name, Email: name + "@example.test", FirstName: "F", LastName: "L", Enabled: true, CustomerID: c.ID}); err != nil {
			t.Fatal(err)
		}
	}
	cl := s.signIn(t, "boss", "boss password 1")
	_, body := cl.get("/console/users?sort=customer&order=desc")
	var got []string
	for _, m := range regexp.MustCompile(`data-username="(u-[a-z])"`).FindAllStringSubmatch(body, -1) {
		got = append(got, m[1])
	}
	if strings.Join(got, ",") != "u-z,u-m,u-a" || !strings.Contains(body, `aria-sort="descending"><a href="/console/users?order=asc&amp;sort=customer" id="sort-customer"`) {
		t.Fatalf("by customer, descending: %v", got)
	}
}
