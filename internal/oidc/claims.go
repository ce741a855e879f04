package oidc

import (
	"context"
	"errors"
	"slices"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"opsiam/internal/directory"
	"opsiam/internal/store"
)

// Claim names beyond the standard ones (S2, T1).
const (
	ClaimGroups   = "groups"
	ClaimRoles    = "roles"
	ClaimCustomer = "customer"
	ClaimITSMRole = "itsm_role"
	ClaimSID      = "sid"
)

// ErrNotAgent refuses a user at the ITSM client (T2).
var ErrNotAgent = errors.New("oidc: the user is not an ITSM agent")

// ErrUserDisabled refuses a disabled or deleted user (U7).
var ErrUserDisabled = errors.New("oidc: the user is disabled")

// subject is everything the claims of one user are made from.
type subject struct {
	User     directory.User
	Groups   []string
	Roles    directory.RoleSet
	Customer string // the customer code
}

// loadSubject reads a user, its groups, effective roles and customer. A
// disabled or missing user is ErrUserDisabled, so tokens stop working at
// once (U7).
func (s *Storage) loadSubject(ctx context.Context, userID string) (subject, error) {
	// One statement for the user, its customer's code, its grants and the
	// role-graph revision (issue 5: fewer round trips per token).
	st, err := s.Store.UserSubject(ctx, directory.UserID(userID))
	if errors.Is(err, store.ErrNotFound) || (err == nil && !st.User.Enabled) {
		return subject{}, ErrUserDisabled
	}
	if err != nil {
		return subject{}, err
	}
	graph, err := s.Graphs.At(ctx, st.RoleRevision)
	if err != nil {
		return subject{}, err
	}
	sub := subject{User: st.User, Roles: graph.Effective(st.Grants), Groups: make([]string, 0, len(st.Grants.Groups)),
		Customer: st.CustomerCode}
	for _, g := range st.Grants.Groups {
		sub.Groups = append(sub.Groups, g.GroupName)
	}
	slices.Sort(sub.Groups)
	return sub, nil
}

// ErrNoAccess refuses a user outside a client's access rule.
var ErrNoAccess = errors.New("oidc: the user holds none of the roles the client requires")

// mayUse checks a client's access rule and, for the ITSM client, that the
// user is an agent (T2).
func (sub subject) mayUse(c store.OIDCClient) error {
	if len(c.AccessRoles) > 0 && !slices.ContainsFunc(c.AccessRoles, sub.Roles.HasName) {
		return ErrNoAccess
	}
	if c.ITSM {
		_, err := sub.itsmRole()
		return err
	}
	return nil
}

// itsmRole returns the itsm_role of sub, or ErrNotAgent (T1, T2).
func (sub subject) itsmRole() (string, error) {
	kind, ok := directory.ITSMRole(sub.Roles, sub.User.CustomerID)
	if !ok {
		return "", ErrNotAgent
	}
	return kind, nil
}

// setUserinfo fills info with the claims of sub for scopes (S2): profile
// and email claims by scope, groups, roles and customer always, itsm_role
// for the ITSM client.
func (sub subject) setUserinfo(info *oidc.UserInfo, scopes []string, c store.OIDCClient) error {
	if err := sub.mayUse(c); err != nil {
		return err
	}
	u := sub.User
	info.Subject = string(u.ID)
	if slices.Contains(scopes, oidc.ScopeProfile) {
		info.PreferredUsername = u.Username
		info.Name = u.FirstName + " " + u.LastName
		info.GivenName = u.FirstName
		info.FamilyName = u.LastName
		info.Zoneinfo = u.Timezone
		info.UpdatedAt = oidc.FromTime(u.UpdatedAt)
	}
	if slices.Contains(scopes, oidc.ScopeEmail) {
		info.Email = u.Email
		info.EmailVerified = oidc.Bool(u.EmailVerified)
		// The library omits email_verified when false; relying parties
		// such as oauth2-proxy need it to refuse an unverified address
		// (issue 12, defect 2), so it is always sent beside email.
		info.AppendClaims("email_verified", u.EmailVerified)
	}
	for k, v := range sub.privateClaims(c.Claims) {
		info.AppendClaims(k, v)
	}
	if c.ITSM {
		kind, err := sub.itsmRole()
		if err != nil {
			return err
		}
		info.AppendClaims(ClaimITSMRole, kind)
	}
	return nil
}

// privateClaims are the claims of S2 beyond the standard ones, those of
// want (a client's Claims) only.
func (sub subject) privateClaims(want []string) map[string]any {
	m := map[string]any{}
	if slices.Contains(want, ClaimGroups) {
		m[ClaimGroups] = sub.Groups
	}
	if slices.Contains(want, ClaimRoles) {
		m[ClaimRoles] = sub.Roles.Names()
	}
	if slices.Contains(want, ClaimCustomer) && sub.Customer != "" {
		m[ClaimCustomer] = sub.Customer
	}
	return m
}
