package directory

import (
	"fmt"
	"strings"
)

// Holder is who acts, as the policy functions see it: its effective roles
// and customer, or the system itself (the CLI and the server's own work),
// which holds every permission (issue 13).
type Holder struct {
	Roles    RoleSet
	Customer CustomerID
	System   bool
}

// Can reports whether h holds permission p.
func (h Holder) Can(p Permission) bool { return h.System || h.Roles.Permits(p) }

// CustomerScope is the scope in which h may read users and enable, disable
// and reset them: every user with user.read (reading) or user.write
// (acting), only its own customer's with customer.admin. ok is false when h
// may not at all.
func (h Holder) CustomerScope(act bool) (Scope, bool) {
	need := PermUserRead
	if act {
		need = PermUserWrite
	}
	switch {
	case h.Can(need):
		return Scope{}, true
	case h.Can(PermCustomerAdmin) && h.Customer != "":
		return Scope{Customer: h.Customer}, true
	}
	return Scope{}, false
}

// covers reports whether h holds p or a permission that includes it:
// user.write includes customer.admin, which is the same power limited to
// one customer, so a user administrator may make customer managers.
func (h Holder) covers(p Permission) bool {
	return h.Roles.Permits(p) || (p == PermCustomerAdmin && h.Roles.Permits(PermUserWrite))
}

// Refusal is an action the caller may not take although it may see its
// target: the REST API answers 403, the console shows the message.
type Refusal struct{ Message string }

func (r *Refusal) Error() string { return r.Message }

// Permissions lists every permission of the catalogue.
func Permissions() []Permission {
	return []Permission{PermUserRead, PermUserWrite, PermTokenAdmin, PermCustomerAdmin, PermAuditRead, PermClientWrite, PermBillingRead}
}

// permissionsOf returns the permissions s grants, in catalogue order.
func permissionsOf(s RoleSet) []Permission {
	var out []Permission
	for _, p := range Permissions() {
		if s.Permits(p) {
			out = append(out, p)
		}
	}
	return out
}

// MayGrant decides "no escalation" (issue 13, rule 1): h may give a target
// the roles granted (their closure: what the target, or every holder of
// the changed role or member of the changed group, gains) only if h holds
// every permission they grant. what names the change for the message.
func MayGrant(h Holder, granted RoleSet, what string) error {
	if h.System {
		return nil
	}
	var missing []string
	for _, p := range permissionsOf(granted) {
		if !h.covers(p) {
			missing = append(missing, string(p))
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return &Refusal{Message: fmt.Sprintf("%s would grant %s, which you do not hold; only a holder of a permission may grant it.",
		what, strings.Join(missing, ", "))}
}

// MayActAs decides whether h may act with the full power of target (issue
// 13): issuing a platform token for a user whose permissions h lacks would
// let h act as that user.
func MayActAs(h Holder, target RoleSet, what string) error { return MayGrant(h, target, what) }

// KeepsAdminWhole decides that the reserved admin user keeps every
// permission of System Security Administrator after a change (issue 13,
// rule 2): adminRoles are its effective roles after the change, ssa the
// closure of that role. field names the input the change came from.
func KeepsAdminWhole(adminRoles, ssa RoleSet, field string) error {
	for _, p := range permissionsOf(ssa) {
		if !adminRoles.Permits(p) {
			return fieldErr(field, CodeReserved, "User %q is reserved and must keep every permission of %s (it would lose %s).",
				AdminUsername, RoleNameSystemSecurityAdmin, p)
		}
	}
	return nil
}

// CheckIdentifiers refuses a user name that is another user's mail
// address, and a mail address that is another user's name (issue 13, rule
// 4): a sign-in name must name one account. nameOwner and mailOwner are the
// ids of the users whose mail address equals username and whose user name
// equals email (ignoring case), empty when none; self is the user itself.
func CheckIdentifiers(self UserID, username, email string, nameIsMailOf, mailIsNameOf UserID) error {
	var errs FieldErrors
	if nameIsMailOf != "" && nameIsMailOf != self {
		errs.add("username", CodeTaken, "User name %q is the mail address of another user.", username)
	}
	if mailIsNameOf != "" && mailIsNameOf != self {
		errs.add("email", CodeTaken, "Mail address %q is the user name of another user.", email)
	}
	return errs.Err()
}
