package directory

import "strings"

// CheckUserUpdate decides whether old may be changed into updated. The user
// name can never change (U2: immutable). The reserved admin user can be
// neither edited nor disabled (U10: reserved); it keeps only what its own
// account page changes (time zone and OTP, A7) and the system fields. All
// refusals are returned at once.
func CheckUserUpdate(old, updated User) error {
	var errs FieldErrors
	if old.Username != updated.Username {
		errs.add("username", CodeImmutable, "User name %q cannot be changed.", old.Username)
	}
	if old.IsReserved() && adminEdited(old, updated) {
		errs.add("username", CodeReserved, "User %q is reserved and cannot be edited.", old.Username)
	}
	return errs.Err()
}

// adminEdited reports whether updated changes a field that U10 protects.
func adminEdited(old, updated User) bool {
	return old.Email != updated.Email || old.FirstName != updated.FirstName ||
		old.LastName != updated.LastName || old.Enabled != updated.Enabled ||
		old.EmailVerified != updated.EmailVerified || old.Company != updated.Company ||
		old.Department != updated.Department || old.Address != updated.Address ||
		old.Phone1 != updated.Phone1 || old.Phone2 != updated.Phone2 ||
		old.Note != updated.Note || old.CustomerID != updated.CustomerID
}

// CheckUserDelete refuses to delete the reserved admin user (U10).
func CheckUserDelete(u User) error {
	if u.IsReserved() {
		return fieldErr("username", CodeReserved, "User %q is reserved and cannot be deleted.", u.Username)
	}
	return nil
}

// CheckGroupCreate refuses a new group named like the reserved group
// global (G4), which exists from the start.
func CheckGroupCreate(g Group) error {
	if g.IsReserved() {
		return fieldErr("name", CodeReserved, "Group name %q is reserved.", g.Name)
	}
	return nil
}

// CheckGroupUpdate refuses any change to the reserved group global,
// renaming included, and renaming another group to global (G4).
func CheckGroupUpdate(old, updated Group) error {
	switch {
	case old.IsReserved() && (old.Name != updated.Name || old.Email != updated.Email || old.Description != updated.Description):
		return fieldErr("name", CodeReserved, "Group %q is reserved and cannot be edited.", old.Name)
	case !old.IsReserved() && updated.IsReserved():
		return fieldErr("name", CodeReserved, "Group name %q is reserved.", updated.Name)
	}
	return nil
}

// CheckGroupDelete refuses to delete the reserved group global (G4).
func CheckGroupDelete(g Group) error {
	if g.IsReserved() {
		return fieldErr("name", CodeReserved, "Group %q is reserved and cannot be deleted.", g.Name)
	}
	return nil
}

// CheckRelation decides whether from may relate to to with type t (G5). The
// group global may take part in no relation, on either side, because that
// would expose every user (reserved, field group_id); t must be a known type
// (invalid, field type). A group may relate to itself.
func CheckRelation(from, to Group, t RelationType) error {
	var errs FieldErrors
	for _, g := range []Group{from, to} {
		if g.IsReserved() {
			errs.add("group_id", CodeReserved,
				"Group %q cannot take part in a group relation: it contains every user.", g.Name)
			break
		}
	}
	if !t.Valid() {
		errs.add("type", CodeInvalid, "Relation type must be manage, managed or both; %q is not.", string(t))
	}
	return errs.Err()
}

// CheckRoleCreate allows only Custom roles to be created (R2): Primitive
// and Pre-Installed roles are installed by the server itself.
func CheckRoleCreate(r Role) error {
	switch {
	case r.Type.Predefined():
		return fieldErr("type", CodePredefined,
			"Only custom roles can be created; %s roles are installed by the server.", string(r.Type))
	case r.Type != RoleCustom:
		return fieldErr("type", CodeInvalid, "Role type must be custom; %q is not.", string(r.Type))
	}
	return nil
}

// CheckRoleUpdate decides whether old may be changed into updated (R2): no
// role can be renamed or change its type (immutable), and a predefined role
// cannot be changed at all (predefined). Only a custom role's description
// may change.
func CheckRoleUpdate(old, updated Role) error {
	var errs FieldErrors
	if old.Name != updated.Name {
		errs.add("name", CodeImmutable, "Role name %q cannot be changed.", old.Name)
	}
	if old.Type != updated.Type {
		errs.add("type", CodeImmutable, "The type of role %q cannot be changed.", old.Name)
	}
	if old.Type.Predefined() && old.Description != updated.Description {
		errs.add("description", CodePredefined, "Role %q is predefined and cannot be changed.", old.Name)
	}
	return errs.Err()
}

// CheckRoleDelete allows only Custom roles to be deleted (R2).
func CheckRoleDelete(r Role) error {
	if r.Type.Predefined() {
		return fieldErr("name", CodePredefined, "Role %q is predefined and cannot be deleted.", r.Name)
	}
	return nil
}

// CheckRoleAssign decides whether r may be assigned to a user or a group.
// Any role may, except the implicit user primitive, which every user holds
// already (R3) and which would only clutter the assignments (not_allowed).
func CheckRoleAssign(r Role) error {
	if r.Type == RolePrimitive && Key(r.Name) == RoleNameUser {
		return fieldErr("role_ids", CodeNotAllowed,
			"Role %q is held implicitly by every user and cannot be assigned.", r.Name)
	}
	return nil
}

// customerRoleNames are the roles that make a user a customer user (C2).
// The two pre-installed roles contain the customer primitive, so a user who
// holds either holds the primitive too; checking all three keeps the rule
// right even for a graph built without containments.
func customerRoleNames() []string {
	return []string{RoleNameCustomerUser, RoleNameCustomerManager, RoleNameCustomer}
}

// customerRoles returns the names of the customer roles in eff.
func customerRoles(eff RoleSet) []string {
	var held []string
	for _, n := range customerRoleNames() {
		if eff.HasName(n) {
			held = append(held, n)
		}
	}
	return held
}

// IsCustomerUser reports whether a user with effective roles eff and
// customer is a customer user (C2): one of Customer User, Customer Manager
// or the primitive customer (which both contain, so a custom role containing
// any of them counts too), and a customer set. Every one else is an operator
// who may act on all workflows (C3).
func IsCustomerUser(eff RoleSet, customer CustomerID) bool {
	return customer != "" && len(customerRoles(eff)) > 0
}

// CheckCustomer refuses the unsupported configuration of C2: a user whose
// effective roles make it a customer user but who has no customer. The
// error is on field customer_id and names the roles that need it.
func CheckCustomer(eff RoleSet, customer CustomerID) error {
	if customer != "" {
		return nil
	}
	if held := customerRoles(eff); len(held) > 0 {
		return fieldErr("customer_id", CodeRequired,
			"Customer is missing: the user holds %s, which makes it a customer user, so a customer must be set.",
			quoteList(held))
	}
	return nil
}

// quoteList renders names as `"a", "b" and "c"`.
func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = `"` + n + `"`
	}
	if len(q) == 1 {
		return q[0]
	}
	return strings.Join(q[:len(q)-1], ", ") + " and " + q[len(q)-1]
}

// Billed reports whether u needs a licence (B1): every user is billed unless
// it is disabled or holds the primitive free_user effectively.
func Billed(u User, eff RoleSet) bool {
	return u.Enabled && !eff.HasName(RoleNameFreeUser)
}

// CheckCustomerChoice decides whether c may be chosen as a user's customer
// (C1). An invalid or temporarily invalid customer is not offered for new
// choices (invalid, field customer_id), but a user already in it may keep it
// (previous is the user's current customer, empty for a new user).
func CheckCustomerChoice(c Customer, previous CustomerID) error {
	if (previous != "" && c.ID == previous) || c.State == CustomerValid {
		return nil
	}
	return fieldErr("customer_id", CodeInvalid,
		"Customer %q is not valid (state %s) and cannot be chosen; choose a valid customer.", c.Code, string(c.State))
}

// CheckCustomerUpdate refuses to change a customer's code (C1: the
// CustomerID of the ITSM app never changes).
func CheckCustomerUpdate(old, updated Customer) error {
	if old.Code != updated.Code {
		return fieldErr("code", CodeImmutable, "Customer code %q cannot be changed.", old.Code)
	}
	return nil
}
