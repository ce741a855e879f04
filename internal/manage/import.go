package manage

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"opsiam/internal/directory"
	"opsiam/internal/provision"
	"opsiam/internal/store"
)

// ImportRow is one user of an import (O4, the CSV import): the values of
// the columns the file has, by the API's field names. Fields absent from
// Set keep the stored value of an existing user and the default of a new
// one. Groups and Roles, when HasGroups / HasRoles, are the user's groups
// (besides global) and direct roles, by name.
type ImportRow struct {
	Line      int // the file's line, for errors
	User      directory.User
	Set       map[string]bool
	Groups    []string
	Roles     []string
	HasGroups bool
	HasRoles  bool
}

// ImportError is one refusal of an import, by line and field.
type ImportError struct {
	Line    int
	Field   string
	Message string
}

func (e ImportError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("line %d: %s", e.Line, e.Message)
	}
	return fmt.Sprintf("line %d, %s: %s", e.Line, e.Field, e.Message)
}

// ImportResult counts what an import did (or, in a dry run, would do).
type ImportResult struct {
	Created, Updated, Unchanged int
	Errors                      []ImportError
}

// importChunk is how many rows one transaction writes: small enough that a
// running server's writes are not held up long (SQLite has one writer).
const importChunk = 500

// planned is a checked row: what will be written.
type planned struct {
	row     ImportRow
	old     *directory.User // nil: a new user
	target  directory.User
	patch   UserPatch
	groups  []directory.GroupID
	roles   []directory.RoleID
	changes bool
}

// ImportUsers creates or updates users by user name (SPEC §9, CSV). Every
// row is checked first against the same rules as CreateUser and
// UpdateUser, the file's other rows and the database (user names and mail
// addresses, tombstones, customers, groups and roles by name, and the
// caller's right to grant those roles); any refusal writes nothing and is
// reported by line and field. A tombstone conflict is reported, never
// resolved silently. Then the rows are written through the use cases' own
// steps in transactions of importChunk rows (all of a file that small in
// one), so audit and outbox apply as for single changes. dryRun stops after
// the checks. progress, when set, is told how many rows are written.
func (s *Service) ImportUsers(ctx context.Context, a Caller, rows []ImportRow, dryRun bool, progress func(done, total int)) (ImportResult, error) {
	if err := a.NeedUserWrite(); err != nil {
		return ImportResult{}, err
	}
	plan, res, err := s.checkImport(ctx, a, rows)
	if err != nil || len(res.Errors) > 0 || dryRun {
		return res, err
	}
	for start := 0; start < len(plan); start += importChunk {
		chunk := plan[start:min(start+importChunk, len(plan))]
		err := s.Store.InTx(ctx, func(tx store.Tx) error {
			if err := tx.LockDirectory(ctx); err != nil {
				return err
			}
			g, err := Load(ctx, tx)
			if err != nil {
				return err
			}
			for _, p := range chunk {
				if err := s.writeImported(ctx, tx, a, g, p); err != nil {
					return ImportError{Line: p.row.Line, Message: err.Error()}
				}
			}
			return adminWhole(ctx, tx, "roles")
		})
		if err != nil {
			if start > 0 {
				err = fmt.Errorf("%w (the rows before line %d were written)", err, chunk[0].row.Line)
			}
			return res, err
		}
		if progress != nil {
			progress(start+len(chunk), len(plan))
		}
	}
	return res, nil
}

// checkImport checks every row and plans what to write.
func (s *Service) checkImport(ctx context.Context, a Caller, rows []ImportRow) ([]planned, ImportResult, error) {
	var res ImportResult
	fail := func(line int, field, format string, args ...any) {
		res.Errors = append(res.Errors, ImportError{Line: line, Field: field, Message: fmt.Sprintf(format, args...)})
	}
	g, err := Load(ctx, s.Store)
	if err != nil {
		return nil, res, err
	}
	groups, err := s.groupsByName(ctx)
	if err != nil {
		return nil, res, err
	}
	roleIDs := map[string]directory.RoleID{}
	for _, r := range g.Roles() {
		roleIDs[directory.Key(r.Name)] = r.ID
	}
	seenName, seenMail := map[string]int{}, map[string]int{}
	customers := map[directory.CustomerID]bool{} // looked up once per import
	var plan []planned
	for _, row := range rows {
		p := planned{row: row}
		u := row.User
		directory.NormalizeUser(&u)
		key := directory.Key(u.Username)
		if first, dup := seenName[key]; dup && key != "" {
			fail(row.Line, "username", "User name %q is also on line %d.", u.Username, first)
			continue
		}
		seenName[key] = row.Line
		old, err := s.Store.GetUserByUsername(ctx, directory.Scope{}, u.Username)
		switch {
		case err == nil:
			p.old = &old
			p.target, p.patch = old, patchOf(row.Set, u)
			p.patch.Apply(&p.target)
			directory.NormalizeUser(&p.target)
			p.changes = p.target != old
		case errors.Is(err, store.ErrNotFound):
			p.target = u
			if !row.Set["enabled"] {
				p.target.Enabled = true
			}
			if p.target.Timezone == "" {
				p.target.Timezone = s.timezone()
			}
			p.changes = true
		default:
			return nil, res, err
		}
		bad := false
		check := func(fe directory.FieldErrors) {
			for _, f := range fe {
				fail(row.Line, f.Field, "%s", f.Message)
				bad = true
			}
		}
		check(directory.ValidateUser(p.target))
		if p.old != nil {
			var fe directory.FieldErrors
			if errors.As(directory.CheckUserUpdate(*p.old, p.target), &fe) {
				check(fe)
			}
		}
		if mail := directory.Key(p.target.Email); mail != "" {
			if first, dup := seenMail[mail]; dup {
				fail(row.Line, "email", "Mail address %q is also on line %d.", p.target.Email, first)
				bad = true
			}
			seenMail[mail] = row.Line
		}
		if !bad {
			bad = !s.checkIdentity(ctx, p, func(field, msg string) { fail(row.Line, field, "%s", msg) })
		}
		if id := p.target.CustomerID; id != "" {
			known, seen := customers[id]
			if !seen {
				_, err := s.Store.GetCustomer(ctx, id)
				if err != nil && !errors.Is(err, store.ErrNotFound) {
					return nil, res, err
				}
				known, customers[id] = err == nil, err == nil
			}
			if !known {
				fail(row.Line, "customer_id", "There is no customer %q.", id)
				bad = true
			}
		}
		var granted []directory.RoleID
		if row.HasGroups {
			for _, name := range row.Groups {
				gr, ok := groups[directory.Key(name)]
				switch {
				case !ok:
					fail(row.Line, "groups", "There is no group %q.", name)
					bad = true
				case gr.group.IsReserved():
				default:
					p.groups = append(p.groups, gr.group.ID)
					granted = append(granted, gr.roles...)
				}
			}
		}
		if row.HasRoles {
			for _, name := range row.Roles {
				id, ok := roleIDs[directory.Key(name)]
				if !ok {
					fail(row.Line, "roles", "There is no role %q.", name)
					bad = true
					continue
				}
				p.roles = append(p.roles, id)
				granted = append(granted, id)
			}
		}
		if err := a.mayGrant(g, "Granting these groups and roles", granted...); err != nil {
			fail(row.Line, "roles", "%s", err.Error())
			bad = true
		}
		if hasCustomerRole(g.Expand(granted...)) && p.target.CustomerID == "" {
			fail(row.Line, "customer_id", "A user with a customer role needs a customer (C2).")
			bad = true
		}
		if bad {
			continue
		}
		if p.old != nil && (row.HasGroups || row.HasRoles) {
			same, err := s.sameGrants(ctx, p)
			if err != nil {
				return nil, res, err
			}
			p.changes = p.changes || !same
		}
		switch {
		case p.old == nil:
			res.Created++
		case p.changes:
			res.Updated++
		default:
			res.Unchanged++
		}
		if p.changes {
			plan = append(plan, p)
		}
	}
	return plan, res, nil
}

// checkIdentity checks a planned user's name and mail against the other
// users and the tombstones; false when it reported a refusal.
func (s *Service) checkIdentity(ctx context.Context, p planned, fail func(field, msg string)) bool {
	ok := true
	self := directory.UserID("")
	if p.old != nil {
		self = p.old.ID
	}
	if other, err := s.Store.GetUserByLogin(ctx, p.target.Email); err == nil && other.ID != self {
		fail("email", fmt.Sprintf("Mail address %q belongs to user %q.", p.target.Email, other.Username))
		ok = false
	}
	if p.old == nil {
		if other, err := s.Store.GetUserByLogin(ctx, p.target.Username); err == nil && other.ID != self {
			fail("username", fmt.Sprintf("User name %q is the mail address of user %q.", p.target.Username, other.Username))
			ok = false
		}
	}
	if !ok {
		return false
	}
	var conflict directory.TombstoneConflict
	var err error
	if p.old == nil {
		conflict, err = s.TombstonesForCreate(ctx, p.target)
	} else if directory.Key(p.target.Email) != directory.Key(p.old.Email) {
		conflict, err = s.TombstonesForUpdate(ctx, directory.Scope{}, p.old.ID, UserPatch{Email: &p.target.Email})
	}
	if err != nil {
		fail("", err.Error())
		return false
	}
	if !conflict.Empty() {
		fail("username", conflict.Error()+"; resolve it in the console or the REST API, then import again")
		return false
	}
	return true
}

type groupGrant struct {
	group directory.Group
	roles []directory.RoleID
}

// groupsByName maps every group's name key to it and its roles.
func (s *Service) groupsByName(ctx context.Context) (map[string]groupGrant, error) {
	out := map[string]groupGrant{}
	q := store.ListQuery{Limit: store.MaxLimit}
	for {
		page, err := s.Store.ListGroups(ctx, q)
		if err != nil {
			return nil, err
		}
		for _, gr := range page.Items {
			rs, err := s.Store.GroupRoles(ctx, gr.ID)
			if err != nil {
				return nil, err
			}
			gg := groupGrant{group: gr}
			for _, r := range rs {
				gg.roles = append(gg.roles, r.ID)
			}
			out[directory.Key(gr.Name)] = gg
		}
		if q.Cursor = page.Next; q.Cursor == "" {
			return out, nil
		}
	}
}

// sameGrants reports whether an existing user already has exactly the
// planned groups and roles (of the columns the file has).
func (s *Service) sameGrants(ctx context.Context, p planned) (bool, error) {
	if p.row.HasGroups {
		have, err := s.Store.UserGroups(ctx, p.old.ID)
		if err != nil {
			return false, err
		}
		var ids []directory.GroupID
		for _, gr := range have {
			if !gr.IsReserved() {
				ids = append(ids, gr.ID)
			}
		}
		if !sameSet(ids, p.groups) {
			return false, nil
		}
	}
	if p.row.HasRoles {
		have, err := s.Store.UserRoles(ctx, p.old.ID)
		if err != nil {
			return false, err
		}
		var ids []directory.RoleID
		for _, r := range have {
			ids = append(ids, r.ID)
		}
		if !sameSet(ids, p.roles) {
			return false, nil
		}
	}
	return true, nil
}

func sameSet[T ~string](a, b []T) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}

// patchOf is the patch that sets the columns in set to u's values.
func patchOf(set map[string]bool, u directory.User) UserPatch {
	var p UserPatch
	str := func(col string, v string) *string {
		if set[col] {
			return &v
		}
		return nil
	}
	p.Email, p.FirstName, p.LastName = str("email", u.Email), str("first_name", u.FirstName), str("last_name", u.LastName)
	p.Company, p.Department, p.Address = str("company", u.Company), str("department", u.Department), str("address", u.Address)
	p.Phone1, p.Phone2, p.Note = str("phone1", u.Phone1), str("phone2", u.Phone2), str("note", u.Note)
	p.Timezone, p.ExternalID = str("timezone", u.Timezone), str("external_id", u.ExternalID)
	b := func(col string, v bool) *bool {
		if set[col] {
			return &v
		}
		return nil
	}
	p.Enabled, p.EmailVerified, p.OTPRequired = b("enabled", u.Enabled), b("email_verified", u.EmailVerified), b("otp_required", u.OTPRequired)
	if set["customer_id"] {
		c := u.CustomerID
		p.CustomerID = &c
	}
	return p
}

// writeImported writes one checked row inside tx.
func (s *Service) writeImported(ctx context.Context, tx store.Tx, a Caller, g *directory.RoleGraph, p planned) error {
	u := p.target
	var err error
	if p.old == nil {
		if u, err = s.createIn(ctx, tx, a, u, nil, g); err != nil {
			return err
		}
	} else if p.target != *p.old {
		if u, err = s.updateIn(ctx, tx, a, directory.Scope{}, p.old.ID, 0, p.patch, nil); err != nil {
			return err
		}
	}
	if p.row.HasGroups {
		if err := s.setGroupsIn(ctx, tx, a, u, p.groups); err != nil {
			return err
		}
	}
	if p.row.HasRoles {
		if err := s.setRolesIn(ctx, tx, a, u, p.roles); err != nil {
			return err
		}
	}
	if p.row.HasGroups || p.row.HasRoles {
		return checkCustomerOf(ctx, tx, g, u) // memberships and roles do not change the graph
	}
	return nil
}

// setGroupsIn makes want the user's groups besides global.
func (s *Service) setGroupsIn(ctx context.Context, tx store.Tx, a Caller, u directory.User, want []directory.GroupID) error {
	have, err := tx.UserGroups(ctx, u.ID)
	if err != nil {
		return err
	}
	had := map[directory.GroupID]directory.Group{}
	for _, gr := range have {
		if !gr.IsReserved() {
			had[gr.ID] = gr
		}
	}
	for _, id := range want {
		if _, ok := had[id]; ok {
			delete(had, id)
			continue
		}
		gr, err := tx.GetGroup(ctx, id)
		if err != nil {
			return err
		}
		if err := tx.AddMember(ctx, id, u.ID); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, a, store.ActionGroupMemberAdd, "group", string(id), nil,
			map[string]string{"user_id": string(u.ID), "username": u.Username}); err != nil {
			return err
		}
		if err := enqueue(ctx, tx, provision.TopicMemberAdded, "group:"+string(id), memberPayload(gr, u)); err != nil {
			return err
		}
	}
	for id, gr := range had {
		if err := tx.RemoveMember(ctx, id, u.ID); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, a, store.ActionGroupMemberRemove, "group", string(id),
			map[string]string{"user_id": string(u.ID), "username": u.Username}, nil); err != nil {
			return err
		}
		if err := enqueue(ctx, tx, provision.TopicMemberRemoved, "group:"+string(id), memberPayload(gr, u)); err != nil {
			return err
		}
	}
	return nil
}

// setRolesIn makes want the user's direct roles.
func (s *Service) setRolesIn(ctx context.Context, tx store.Tx, a Caller, u directory.User, want []directory.RoleID) error {
	have, err := tx.UserRoles(ctx, u.ID)
	if err != nil {
		return err
	}
	had := map[directory.RoleID]bool{}
	for _, r := range have {
		had[r.ID] = true
	}
	for _, id := range want {
		if had[id] {
			delete(had, id)
			continue
		}
		if err := tx.AssignUserRole(ctx, u.ID, id); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, a, store.ActionUserRoleAssign, "user", string(u.ID), nil, map[string]string{"role_id": string(id)}); err != nil {
			return err
		}
	}
	for id := range had {
		if err := tx.UnassignUserRole(ctx, u.ID, id); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, a, store.ActionUserRoleUnassign, "user", string(u.ID), map[string]string{"role_id": string(id)}, nil); err != nil {
			return err
		}
	}
	return nil
}
