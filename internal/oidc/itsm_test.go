package oidc

import (
	"context"
	"errors"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"opsiam/internal/directory"
	"opsiam/internal/oidc/oidctest"
	"opsiam/internal/store"
)

// TestITSMMatrix is acceptance 3 of issue 5 (T1, T2): each ITSM role gives
// its itsm_role; a customer user with itsm_user and a user with no ITSM role
// are refused with a page and the client gets access_denied; the first
// sign-in is recorded on the user.
func TestITSMMatrix(t *testing.T) { testITSMMatrix(t, newEnv(t)) }

// TestITSMMatrixPostgres runs the matrix on PostgreSQL.
func TestITSMMatrixPostgres(t *testing.T) { testITSMMatrix(t, newEnvOn(t, openDB(t, true), 1)) }

func testITSMMatrix(t *testing.T, e *testEnv) {
	_, secret := e.client("otobo", true)
	ctx := context.Background()
	tests := []struct {
		user     string
		customer string
		roles    []string
		want     string // itsm_role; empty: refused
	}{
		{"adm", "", []string{directory.RoleNameItsmAdmin}, directory.ITSMAdministrator},
		{"mgr", "", []string{directory.RoleNameItsmManager}, directory.ITSMOperationManager},
		{"agent", "", []string{directory.RoleNameItsmUser}, directory.ITSMOperationAgent},
		{"view", "", []string{directory.RoleNameItsmViewer}, directory.ITSMViewer},
		{"both", "", []string{directory.RoleNameItsmViewer, directory.RoleNameItsmManager}, directory.ITSMOperationManager},
		{"sre", "", []string{directory.RoleNameSiteReliabilityEngineer}, directory.ITSMOperationManager},
		{"cust", "acme", []string{directory.RoleNameCustomerUser, directory.RoleNameItsmUser}, ""},
		{"nobody", "", []string{directory.RoleNameCalendarUser}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.user, func(t *testing.T) {
			u := e.user(tc.user, tc.customer, tc.roles...)
			r := oidctest.NewRP(t, e.issuer, "otobo", secret)
			res := r.Authorize(t, oidctest.Browser(t), tc.user, "password of "+tc.user, "verifier-0123456789012345678901234567890123", "n")
			got, err := e.db.GetUser(ctx, directory.Scope{}, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			if tc.want == "" {
				if res.Status != http.StatusForbidden || !strings.Contains(res.Page, "Access denied") ||
					!strings.Contains(res.Page, "ITSM agents") {
					t.Fatalf("not refused with a page: %d\n%s", res.Status, res.Page)
				}
				back := continueLink(t, res.Page)
				if back.Query().Get("error") != "access_denied" || back.Query().Get("state") != "state-1" ||
					!strings.HasPrefix(back.String(), "http://127.0.0.1:1/otobo/cb") {
					t.Fatalf("the page does not send access_denied to the client: %s", back)
				}
				if got.ITSMSignedIn {
					t.Fatal("a refused user was marked as signed in to the ITSM app")
				}
				audit, _ := e.db.ListAudit(ctx, store.AuditQuery{ActorID: string(u.ID), Action: "oidc.sign_in_refused"})
				if len(audit.Items) != 1 {
					t.Fatalf("refusal not audited: %+v", audit.Items)
				}
				return
			}
			if res.Code == "" {
				t.Fatalf("agent refused: %+v", res)
			}
			_, _, c := r.Exchange(t, res.Code, "verifier-0123456789012345678901234567890123")
			if c.ITSMRole != tc.want {
				t.Fatalf("itsm_role = %q, want %q", c.ITSMRole, tc.want)
			}
			if !got.ITSMSignedIn || got.Version != u.Version+1 {
				t.Fatalf("first ITSM sign-in not recorded: %+v", got)
			}
			// A second sign-in changes nothing more.
			res = r.Authorize(t, oidctest.Browser(t), tc.user, "password of "+tc.user, "verifier-0123456789012345678901234567890123", "n")
			again, _ := e.db.GetUser(ctx, directory.Scope{}, u.ID)
			if res.Code == "" || again.Version != got.Version {
				t.Fatalf("second sign-in: %+v, version %d→%d", res, got.Version, again.Version)
			}
		})
	}
	t.Run("non-ITSM client gets no itsm_role and admits everyone", func(t *testing.T) {
		_, s := e.client("wiki", false)
		e.user("plain", "")
		r := oidctest.NewRP(t, e.issuer, "wiki", s)
		res := r.Authorize(t, oidctest.Browser(t), "plain", "password of plain", "verifier-0123456789012345678901234567890123", "n")
		_, _, c := r.Exchange(t, res.Code, "verifier-0123456789012345678901234567890123")
		if c.ITSMRole != "" || c.PreferredUsername != "plain" {
			t.Fatalf("claims: %+v", c)
		}
	})
}

func continueLink(t *testing.T, page string) *url.URL {
	t.Helper()
	i := strings.Index(page, `href="`)
	if i < 0 {
		t.Fatalf("no link on the page:\n%s", page)
	}
	raw := page[i+6:]
	raw = html.UnescapeString(raw[:strings.Index(raw, `"`)])
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestAccessRule: a client's access rule admits only holders of one of its
// roles, effectively (through groups and containment too).
func TestAccessRule(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, secret, err := e.clients.Create(ctx, Actor{}, ClientInput{ClientID: "ops", Name: "Ops console",
		RedirectURIs: []string{oidctest.RedirectURI("ops")}, AccessRoles: []string{"automation_auditor", "REPOSITORY_ADMIN"}})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := e.db.GetOIDCClient(ctx, "ops")
	if len(c.AccessRoles) != 2 || c.AccessRoles[1] != "repository_admin" {
		t.Fatalf("access rule stored as %v, want the roles' own names", c.AccessRoles)
	}
	e.user("mgr", "", directory.RoleNameManager) // Manager contains automation_auditor
	e.user("plain", "")
	r := oidctest.NewRP(t, e.issuer, "ops", secret)
	if res := r.Authorize(t, oidctest.Browser(t), "mgr", "password of mgr", "verifier-0123456789012345678901234567890123", "n"); res.Code == "" {
		t.Fatalf("a holder was refused: %+v", res)
	}
	res := r.Authorize(t, oidctest.Browser(t), "plain", "password of plain", "verifier-0123456789012345678901234567890123", "n")
	if res.Status != http.StatusForbidden || !strings.Contains(res.Page, "automation_auditor or repository_admin") ||
		continueLink(t, res.Page).Query().Get("error") != "access_denied" {
		t.Fatalf("a user outside the rule was not refused: %+v", res)
	}
	_, _, err = e.clients.Create(ctx, Actor{}, ClientInput{ClientID: "x", Name: "X",
		RedirectURIs: []string{oidctest.RedirectURI("x")}, AccessRoles: []string{"no such role"}})
	var fe directory.FieldErrors
	if !errors.As(err, &fe) || !fe.Has("access_roles", directory.CodeInvalid) {
		t.Fatalf("unknown role in the access rule: %v", err)
	}
	if _, err := e.db.GetOIDCClient(ctx, "x"); err == nil {
		t.Fatal("a refused client was stored")
	}
}
