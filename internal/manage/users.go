package manage

import (
	"context"
	"errors"

	"opsiam/internal/directory"
	"opsiam/internal/provision"
	"opsiam/internal/store"
)

// UserPatch is a change to a user: nil fields stay as they are (U9).
type UserPatch struct {
	Username      *string // U2: may only repeat the current name
	Email         *string
	FirstName     *string
	LastName      *string
	Enabled       *bool
	EmailVerified *bool
	OTPRequired   *bool
	Company       *string
	Department    *string
	Address       *string
	Phone1        *string
	Phone2        *string
	Note          *string
	CustomerID    *directory.CustomerID
	Timezone      *string
	ExternalID    *string
}

// OnlyEnabled reports whether p changes nothing but enabled, the one
// change a customer_admin may make (§8).
func (p UserPatch) OnlyEnabled() bool {
	q := p
	q.Enabled = nil
	return p.Enabled != nil && q == UserPatch{}
}

// Apply sets the fields of p on u.
func (p UserPatch) Apply(u *directory.User) {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&u.Username, p.Username)
	set(&u.Email, p.Email)
	set(&u.FirstName, p.FirstName)
	set(&u.LastName, p.LastName)
	set(&u.Company, p.Company)
	set(&u.ExternalID, p.ExternalID)
	set(&u.Department, p.Department)
	set(&u.Address, p.Address)
	set(&u.Phone1, p.Phone1)
	set(&u.Phone2, p.Phone2)
	set(&u.Note, p.Note)
	set(&u.Timezone, p.Timezone)
	if p.Enabled != nil {
		u.Enabled = *p.Enabled
	}
	if p.EmailVerified != nil {
		u.EmailVerified = *p.EmailVerified
	}
	if p.OTPRequired != nil {
		u.OTPRequired = *p.OTPRequired
	}
	if p.CustomerID != nil {
		u.CustomerID = *p.CustomerID
	}
}

// checkCustomerChoice loads the customer chosen for a user and checks that
// it may be chosen (C1); previous is the user's current customer.
func checkCustomerChoice(ctx context.Context, tx store.Tx, id, previous directory.CustomerID) error {
	if id == "" || id == previous {
		return nil
	}
	c, err := tx.GetCustomer(ctx, id)
	if err != nil {
		return notFoundAs(err, "customer_id", "Customer", id)
	}
	return directory.CheckCustomerChoice(c, previous)
}

// CreateUser adds a user (U1–U4, U7): it validates every field, joins the
// user to global (U4), refuses a customer role without customer (C2), and
// enqueues user.created and, for an enabled user, the password-setup mail.
func (s *Service) CreateUser(ctx context.Context, a Caller, u directory.User) (directory.User, error) {
	return s.CreateUserResolving(ctx, a, u, nil)
}

// CreateUserResolving is CreateUser with the client's choices for the
// tombstones the new user meets (D2, D3): without them such a create
// answers a directory.TombstoneConflict and writes nothing.
func (s *Service) CreateUserResolving(ctx context.Context, a Caller, u directory.User, res []directory.TombstoneResolution) (directory.User, error) {
	if err := a.may(directory.PermUserWrite); err != nil {
		return directory.User{}, err
	}
	directory.NormalizeUser(&u)
	if u.Timezone == "" {
		u.Timezone = s.timezone()
	}
	u.ID, u.Locked, u.ITSMSignedIn, u.Version = "", false, false, 0
	if err := directory.ValidateUser(u).Err(); err != nil {
		return directory.User{}, err
	}
	var created directory.User
	err := s.Store.InTx(ctx, func(tx store.Tx) (err error) {
		created, err = s.createIn(ctx, tx, a, u, res, nil)
		return err
	})
	return created, err
}

// createIn is CreateUser's work inside tx, for a user already normalised
// and validated. g is the role graph when the caller has it loaded (an
// import of many users); nil loads it.
func (s *Service) createIn(ctx context.Context, tx store.Tx, a Caller, u directory.User, res []directory.TombstoneResolution, g *directory.RoleGraph) (directory.User, error) {
	return s.createUserIn(ctx, tx, a, u, res, g, true)
}

// createUserIn is createIn; setupMail false sends no password-setup mail
// (a user made by its upstream identity provider signs in there).
func (s *Service) createUserIn(ctx context.Context, tx store.Tx, a Caller, u directory.User, res []directory.TombstoneResolution, g *directory.RoleGraph, setupMail bool) (directory.User, error) {
	if err := checkCustomerChoice(ctx, tx, u.CustomerID, ""); err != nil {
		return directory.User{}, err
	}
	if err := checkIdentifiers(ctx, tx, u); err != nil {
		return directory.User{}, err
	}
	tombs := s.tombstones()
	plan, err := tombs.PlanChange(ctx, tx, directory.TombstoneChange{User: u}, res)
	if err != nil {
		return directory.User{}, err
	}
	created, err := tx.CreateUser(ctx, u)
	if err != nil {
		return directory.User{}, err
	}
	if err := tombs.Apply(ctx, tx, plan, created, a.record()); err != nil {
		return directory.User{}, err
	}
	global, err := tx.GetGroupByName(ctx, directory.GlobalGroupName)
	if err != nil {
		return directory.User{}, err
	}
	if err := tx.AddMember(ctx, global.ID, created.ID); err != nil {
		return directory.User{}, err
	}
	if g == nil {
		if g, err = Load(ctx, tx); err != nil {
			return directory.User{}, err
		}
	}
	if err := checkCustomerOf(ctx, tx, g, created); err != nil {
		return directory.User{}, err
	}
	if err := s.audit(ctx, tx, a, store.ActionUserCreate, "user", string(created.ID), nil, created); err != nil {
		return directory.User{}, err
	}
	agg := "user:" + string(created.ID)
	if err := enqueue(ctx, tx, provision.TopicUserCreated, agg, map[string]string{"user_id": string(created.ID)}); err != nil {
		return directory.User{}, err
	}
	if created.Enabled && setupMail { // U7: no mail for a user created disabled
		return created, enqueue(ctx, tx, provision.TopicMailPasswordSetup, agg, map[string]string{"user_id": string(created.ID)})
	}
	return created, nil
}

// UpdateUser changes the fields p sets (U9). ifVersion is the If-Match
// version (0: none). A new mail address clears email_verified and enqueues
// a verification mail unless p sets email_verified itself.
func (s *Service) UpdateUser(ctx context.Context, a Caller, scope directory.Scope, id directory.UserID, ifVersion int64, p UserPatch) (directory.User, error) {
	return s.UpdateUserResolving(ctx, a, scope, id, ifVersion, p, nil)
}

// UpdateUserResolving is UpdateUser with the client's choices for the
// tombstones a mail change meets (D2, D3).
func (s *Service) UpdateUserResolving(ctx context.Context, a Caller, scope directory.Scope, id directory.UserID, ifVersion int64, p UserPatch, res []directory.TombstoneResolution) (directory.User, error) {
	scope, err := a.actScope(scope, p.OnlyEnabled())
	if errors.Is(err, store.ErrNotFound) && id == a.ID && id != "" {
		err = &directory.Refusal{Message: "Your own record is changed by an administrator; your account page changes your password, one-time codes and time zone."}
	}
	if err != nil {
		return directory.User{}, err
	}
	var updated directory.User
	change := func(tx store.Tx) (err error) {
		updated, err = s.updateIn(ctx, tx, a, scope, id, ifVersion, p, res)
		return err
	}
	// Without If-Match a change that another one overtook between read and
	// write is made again on the fresh record, not refused with 412 (issue
	// 13, rule 5); with If-Match the client asked for exactly that version.
	for attempt := 0; ; attempt++ {
		err = s.Store.InTx(ctx, change)
		if ifVersion != 0 || !errors.Is(err, store.ErrStale) || attempt == 1000 {
			return updated, err
		}
	}
}

// updateIn is UpdateUser's work inside tx, in the scope the caller may
// act in (actScope).
func (s *Service) updateIn(ctx context.Context, tx store.Tx, a Caller, scope directory.Scope, id directory.UserID, ifVersion int64, p UserPatch, res []directory.TombstoneResolution) (directory.User, error) {
	if p.CustomerID != nil { // C2 reads the user's grants: serialise with grant changes
		if err := tx.LockDirectory(ctx); err != nil {
			return directory.User{}, err
		}
	}
	old, err := tx.GetUser(ctx, scope, id)
	if err != nil {
		return directory.User{}, err
	}
	if err := checkVersion(old.Version, ifVersion); err != nil {
		return directory.User{}, err
	}
	u := old
	p.Apply(&u)
	directory.NormalizeUser(&u)
	if err := directory.CheckUserUpdate(old, u); err != nil {
		return directory.User{}, err
	}
	if err := directory.ValidateUser(u).Err(); err != nil {
		return directory.User{}, err
	}
	mailChanged := directory.Key(u.Email) != directory.Key(old.Email)
	if mailChanged && p.EmailVerified == nil {
		u.EmailVerified = false
	}
	if err := checkCustomerChoice(ctx, tx, u.CustomerID, old.CustomerID); err != nil {
		return directory.User{}, err
	}
	if mailChanged {
		if err := checkIdentifiers(ctx, tx, u); err != nil {
			return directory.User{}, err
		}
	}
	tombs := s.tombstones()
	plan, err := tombs.PlanChange(ctx, tx, directory.TombstoneChange{User: u, Previous: &old}, res)
	if err != nil {
		return directory.User{}, err
	}
	updated, err := tx.UpdateUser(ctx, u)
	if err != nil {
		return directory.User{}, err
	}
	if old.Enabled && !updated.Enabled {
		if err := s.endAccess(ctx, tx, id); err != nil {
			return directory.User{}, err
		}
	}
	if err := tombs.Apply(ctx, tx, plan, updated, a.record()); err != nil {
		return directory.User{}, err
	}
	if u.CustomerID == "" && old.CustomerID != "" {
		g, err := Load(ctx, tx)
		if err != nil {
			return directory.User{}, err
		}
		if err := checkCustomerOf(ctx, tx, g, updated); err != nil {
			return directory.User{}, err
		}
	}
	action := store.ActionUserUpdate
	if p.OnlyEnabled() {
		action = map[bool]string{true: store.ActionUserEnable, false: store.ActionUserDisable}[*p.Enabled]
	}
	if err := s.audit(ctx, tx, a, action, "user", string(id), old, updated); err != nil {
		return directory.User{}, err
	}
	agg := "user:" + string(id)
	if err := enqueue(ctx, tx, provision.TopicUserUpdated, agg, map[string]string{"user_id": string(id)}); err != nil {
		return directory.User{}, err
	}
	if mailChanged && !updated.EmailVerified {
		return updated, enqueue(ctx, tx, provision.TopicMailVerifyEmail, agg,
			map[string]string{"user_id": string(id), "email": updated.Email})
	}
	return updated, nil
}

// SetEnabled enables or disables a user (U6, U7). A disabled user's tokens
// stop working at once because every request checks enabled.
func (s *Service) SetEnabled(ctx context.Context, a Caller, scope directory.Scope, id directory.UserID, enabled bool) (directory.User, error) {
	return s.UpdateUser(ctx, a, scope, id, 0, UserPatch{Enabled: &enabled})
}

// DeleteUser deletes a user (U6), never the reserved admin (U10). Its mail
// address is free again at once (U3).
func (s *Service) DeleteUser(ctx context.Context, a Caller, scope directory.Scope, id directory.UserID, ifVersion int64) error {
	if err := a.may(directory.PermUserWrite); err != nil {
		return err
	}
	return s.Store.InTx(ctx, func(tx store.Tx) error {
		old, err := tx.GetUser(ctx, scope, id)
		if err != nil {
			return err
		}
		if err := checkVersion(old.Version, ifVersion); err != nil {
			return err
		}
		if err := directory.CheckUserDelete(old); err != nil {
			return err
		}
		// D1: a customer user or ITSM user leaves a tombstone, judged on
		// the effective roles before the delete.
		g, err := Load(ctx, tx)
		if err != nil {
			return err
		}
		grants, err := tx.UserGrants(ctx, id)
		if err != nil {
			return err
		}
		if _, _, err := s.tombstones().OnUserDelete(ctx, tx, old, g.Effective(grants), a.record()); err != nil {
			return err
		}
		if err := s.endSessions(ctx, tx, id); err != nil {
			return err
		}
		if err := tx.DeleteUser(ctx, id); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, a, store.ActionUserDelete, "user", string(id), old, nil); err != nil {
			return err
		}
		return enqueue(ctx, tx, provision.TopicUserDeleted, "user:"+string(id),
			map[string]string{"user_id": string(id), "username": old.Username, "email": old.Email})
	})
}

// ResetPassword sends a password-reset mail (A4, U6). It is refused for a
// disabled user (A4: only enabled users get one).
func (s *Service) ResetPassword(ctx context.Context, a Caller, scope directory.Scope, id directory.UserID) error {
	scope, err := a.actScope(scope, true)
	if err != nil {
		return err
	}
	return s.Store.InTx(ctx, func(tx store.Tx) error {
		u, err := tx.GetUser(ctx, scope, id)
		if err != nil {
			return err
		}
		if !u.Enabled {
			return fieldError("enabled", directory.CodeNotAllowed,
				"User %q is disabled; enable it before sending a password reset.", u.Username)
		}
		if err := s.audit(ctx, tx, a, store.ActionUserPasswordReset, "user", string(id), nil, nil); err != nil {
			return err
		}
		return enqueue(ctx, tx, provision.TopicMailPasswordReset, "user:"+string(id), map[string]string{"user_id": string(id)})
	})
}

// Unlock lifts a password lockout at once (A3).
func (s *Service) Unlock(ctx context.Context, a Caller, scope directory.Scope, id directory.UserID) (directory.User, error) {
	if err := a.may(directory.PermUserWrite); err != nil {
		return directory.User{}, err
	}
	var u directory.User
	err := s.Store.InTx(ctx, func(tx store.Tx) error {
		old, err := tx.GetUser(ctx, scope, id)
		if err != nil {
			return err
		}
		if err := tx.ClearLockout(ctx, id); err != nil {
			return err
		}
		if u, err = tx.GetUser(ctx, scope, id); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, store.ActionUserUnlock, "user", string(id), old, u)
	})
	return u, err
}

// SetPassword sets a user's password after checking the policy of §8 (A2);
// used by the CLI for first set-up and recovery.
func (s *Service) SetPassword(ctx context.Context, a Caller, username, password string) error {
	if !a.System {
		return &directory.Refusal{Message: "Only the command line sets passwords of other users."}
	}
	return s.Store.InTx(ctx, func(tx store.Tx) error {
		u, err := tx.GetUserByUsername(ctx, directory.Scope{}, username)
		if err != nil {
			return err
		}
		if err := directory.ValidatePassword(password, u.Username, u.Email).Err(); err != nil {
			return err
		}
		hash, err := s.Hasher.Hash(password)
		if err != nil {
			return err
		}
		if err := tx.SetPasswordHash(ctx, u.ID, hash); err != nil {
			return err
		}
		// A new password ends every session the old one opened (issue 13,
		// rule 3); the platform token, issued by an administrator, stays.
		if err := s.endSignIns(ctx, tx, u.ID); err != nil {
			return err
		}
		if err := tx.DeleteUserMailLinks(ctx, u.ID, store.LinkPasswordSetup, store.LinkPasswordReset); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, store.ActionUserSetPassword, "user", string(u.ID), nil, nil)
	})
}

// checkIdentifiers refuses a user name that is another user's mail address
// and a mail address that is another user's name (issue 13, rule 4), so
// that a sign-in name (A1: user name or mail) names one account.
func checkIdentifiers(ctx context.Context, tx store.Tx, u directory.User) error {
	owner := func(login string, same func(directory.User) bool) (directory.UserID, error) {
		o, err := tx.GetUserByLogin(ctx, login)
		if errors.Is(err, store.ErrNotFound) || (err == nil && !same(o)) {
			return "", nil
		}
		return o.ID, err
	}
	nameIsMailOf, err := owner(u.Username, func(o directory.User) bool { return directory.Key(o.Email) == directory.Key(u.Username) })
	if err != nil {
		return err
	}
	mailIsNameOf, err := owner(u.Email, func(o directory.User) bool { return directory.Key(o.Username) == directory.Key(u.Email) })
	if err != nil {
		return err
	}
	return directory.CheckIdentifiers(u.ID, u.Username, u.Email, nameIsMailOf, mailIsNameOf)
}

// endAccess ends, for good, what a user's access consists of: its sign-in
// sessions, its platform token and its applications' sessions and tokens
// (issue 13, rule 3). Re-enabling the user revives none of them.
func (s *Service) endAccess(ctx context.Context, tx store.Tx, id directory.UserID) error {
	if err := tx.DeletePlatformToken(ctx, id); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return s.endSignIns(ctx, tx, id)
}

// endSignIns ends a user's sign-in sessions and its applications'
// sessions and tokens.
func (s *Service) endSignIns(ctx context.Context, tx store.Tx, id directory.UserID) error {
	if err := tx.DeleteUserSessions(ctx, id); err != nil {
		return err
	}
	return s.endSessions(ctx, tx, id)
}
