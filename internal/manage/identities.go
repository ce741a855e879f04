package manage

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"opsiam/internal/directory"
	"opsiam/internal/store"
)

// ErrUpstreamRefused is an upstream sign-in that may not go on; the
// sign-in page shows its one failure text, the reason is audited.
var ErrUpstreamRefused = errors.New("upstream sign-in refused")

// UserIdentities lists the links of user uid to upstream accounts, for
// whoever may read that user (itself, a reader, its customer's manager).
func (s *Service) UserIdentities(ctx context.Context, c Caller, uid directory.UserID) ([]directory.Identity, error) {
	if _, _, err := s.ReadUser(ctx, c, uid); err != nil {
		return nil, err
	}
	return s.Store.UserIdentities(ctx, uid)
}

// checkSubject applies OIDC Core §2: sub is 1–255 ASCII characters; we
// take the visible ones.
func checkSubject(sub string) error {
	if sub == "" {
		return fieldError("subject", directory.CodeRequired, "Subject is required: the upstream account's sub.")
	}
	if len(sub) > directory.MaxSubjectLen {
		return fieldError("subject", directory.CodeTooLong, "Subject must be at most %d characters long.", directory.MaxSubjectLen)
	}
	for _, c := range []byte(sub) {
		if c <= ' ' || c >= 0x7f {
			return fieldError("subject", directory.CodeInvalid, "Subject may contain only visible ASCII characters.")
		}
	}
	return nil
}

// LinkIdentity links user uid to the upstream account subject at provider
// providerID, by an administrator. The link lets whoever holds that
// upstream account act as the user, so it needs user.write and every
// permission the user holds (as a platform token does, MayActAs), and the
// provider must be one of the user's customer (MayLinkIdentity).
func (s *Service) LinkIdentity(ctx context.Context, c Caller, uid directory.UserID, providerID, subject string) (directory.Identity, error) {
	if _, _, err := s.ReadUser(ctx, c, uid); err != nil {
		return directory.Identity{}, err // what may not be seen is 404
	}
	if err := c.NeedUserWrite(); err != nil {
		return directory.Identity{}, err
	}
	if err := checkSubject(subject); err != nil {
		return directory.Identity{}, err
	}
	if providerID == "" {
		return directory.Identity{}, fieldError("provider_id", directory.CodeRequired, "Provider id is required.")
	}
	var linked directory.Identity
	err := s.Store.InTx(ctx, func(tx store.Tx) error {
		u, err := tx.GetUser(ctx, directory.Scope{}, uid)
		if err != nil {
			return err
		}
		p, err := tx.GetIdentityProvider(ctx, providerID)
		if err != nil {
			return notFoundAs(err, "provider_id", "Identity provider", providerID)
		}
		if err := directory.MayLinkIdentity(p, u); err != nil {
			return err
		}
		g, err := Load(ctx, tx)
		if err != nil {
			return err
		}
		grants, err := tx.UserGrants(ctx, uid)
		if err != nil {
			return err
		}
		if err := directory.MayActAs(c.Holder(), g.Effective(grants), "Linking this user to an upstream account"); err != nil {
			return err
		}
		if linked, err = tx.LinkIdentity(ctx, directory.Identity{ProviderID: p.ID, Subject: subject, UserID: uid}); err != nil {
			return err
		}
		return s.audit(ctx, tx, c, store.ActionIdentityLink, "user", string(uid), nil, linked)
	})
	return linked, err
}

// UnlinkIdentity removes user uid's link to provider providerID
// (user.write): the upstream account no longer signs the user in.
func (s *Service) UnlinkIdentity(ctx context.Context, c Caller, uid directory.UserID, providerID string) error {
	if _, _, err := s.ReadUser(ctx, c, uid); err != nil {
		return err
	}
	if err := c.NeedUserWrite(); err != nil {
		return err
	}
	return s.Store.InTx(ctx, func(tx store.Tx) error {
		if _, err := tx.GetUser(ctx, directory.Scope{}, uid); err != nil {
			return err
		}
		ids, err := tx.UserIdentities(ctx, uid)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if id.ProviderID == providerID {
				if err := tx.UnlinkIdentity(ctx, uid, providerID); err != nil {
					return err
				}
				return s.audit(ctx, tx, c, store.ActionIdentityUnlink, "user", string(uid), id, nil)
			}
		}
		return store.ErrNotFound
	})
}

// UpstreamSignIn decides who signs in after provider providerID verified
// an ID token with claims (directory.UpstreamAction): the linked user; or
// the local user of the provider's customer with the same verified mail,
// which is linked; or, with auto_create, a new user of that customer with
// the provider's roles, made by the same steps as CreateUser (customer
// rules, C2, tombstones, audit, outbox, billing) and linked — all in one
// transaction. A refusal is ErrUpstreamRefused, audited with its reason.
// The caller then opens the session (auth.Service.SignInVerified, which
// refuses a disabled or locked user again).
func (s *Service) UpstreamSignIn(ctx context.Context, providerID string, claims directory.UpstreamClaims, source string) (directory.User, error) {
	var user directory.User
	var refusal *directory.UpstreamRefusal
	err := s.Store.InTx(ctx, func(tx store.Tx) error {
		p, err := tx.GetIdentityProvider(ctx, providerID)
		if err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return &directory.UpstreamRefusal{Reason: "no such identity provider"}
			}
			return err
		}
		a := SystemCaller("identity provider "+p.Name, source)
		var linked, byMail directory.UpstreamCandidate
		deletedLink := false
		link, err := tx.GetIdentity(ctx, p.ID, claims.Subject)
		switch {
		case err == nil && link.UserID == "":
			deletedLink = true
		case err == nil:
			if linked.User, err = tx.GetUser(ctx, directory.Scope{}, link.UserID); err != nil {
				return err
			}
			linked.Found = true
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		if !linked.Found && !deletedLink && claims.Email != "" {
			u, err := tx.GetUserByLogin(ctx, claims.Email)
			switch {
			case err == nil && strings.EqualFold(u.Email, claims.Email):
				byMail = directory.UpstreamCandidate{User: u, Found: true}
			case err == nil, errors.Is(err, store.ErrNotFound):
			default:
				return err
			}
		}
		action, err := directory.UpstreamAction(p, claims, linked, deletedLink, byMail)
		if err != nil {
			return err
		}
		switch action {
		case directory.UpstreamSignIn:
			user = linked.User
			return nil
		case directory.UpstreamLink:
			user = byMail.User
		case directory.UpstreamCreate:
			if user, err = s.createUpstreamUser(ctx, tx, a, p, claims); err != nil {
				return err
			}
		}
		id, err := tx.LinkIdentity(ctx, directory.Identity{ProviderID: p.ID, Subject: claims.Subject, UserID: user.ID,
			Email: strings.ToLower(claims.Email)})
		if err != nil {
			return err
		}
		return s.audit(ctx, tx, a, store.ActionIdentityLink, "user", string(user.ID), nil, id)
	})
	if errors.As(err, &refusal) {
		return directory.User{}, s.refuseUpstream(ctx, providerID, claims, source, refusal.Reason)
	}
	var fe directory.FieldErrors
	var conflict directory.TombstoneConflict
	if errors.As(err, &fe) || errors.As(err, &conflict) || errors.Is(err, store.ErrConflict) {
		// The user the provider would create breaks a directory rule (a
		// taken user name, a deleted user's name, C2): refused, not a
		// server error.
		return directory.User{}, s.refuseUpstream(ctx, providerID, claims, source, "the user cannot be created: "+err.Error())
	}
	return user, err
}

// createUpstreamUser creates the user of an auto_create provider inside
// tx, gives it the provider's roles and checks C2 after them.
func (s *Service) createUpstreamUser(ctx context.Context, tx store.Tx, a Caller, p directory.IdentityProvider, claims directory.UpstreamClaims) (directory.User, error) {
	u := directory.UpstreamUser(p, claims, s.timezone())
	directory.NormalizeUser(&u)
	if err := directory.ValidateUser(u).Err(); err != nil {
		return directory.User{}, err
	}
	if err := tx.LockDirectory(ctx); err != nil {
		return directory.User{}, err
	}
	created, err := s.createUserIn(ctx, tx, a, u, nil, nil, false)
	if err != nil {
		return directory.User{}, err
	}
	for _, rid := range p.RoleIDs {
		r, err := tx.GetRole(ctx, rid)
		if err != nil {
			return directory.User{}, err
		}
		if err := tx.AssignUserRole(ctx, created.ID, rid); err != nil {
			return directory.User{}, err
		}
		if err := s.audit(ctx, tx, a, store.ActionUserRoleAssign, "user", string(created.ID), nil,
			map[string]string{"role_id": string(r.ID), "role": r.Name}); err != nil {
			return directory.User{}, err
		}
	}
	if len(p.RoleIDs) > 0 {
		g, err := Load(ctx, tx)
		if err != nil {
			return directory.User{}, err
		}
		if err := checkCustomerOf(ctx, tx, g, created); err != nil {
			return directory.User{}, err
		}
	}
	return created, nil
}

// refuseUpstream writes the audit record of a refused upstream sign-in
// and returns ErrUpstreamRefused.
func (s *Service) refuseUpstream(ctx context.Context, providerID string, claims directory.UpstreamClaims, source, reason string) error {
	err := s.Store.InTx(ctx, func(tx store.Tx) error {
		return s.audit(ctx, tx, SystemCaller("identity provider", source), store.ActionAuthUpstreamRefused,
			"identity_provider", providerID, nil, map[string]string{"subject": claims.Subject, "email": claims.Email, "reason": reason})
	})
	if err != nil {
		return err
	}
	return fmt.Errorf("%w: %s", ErrUpstreamRefused, reason)
}
