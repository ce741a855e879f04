package directory

// Passkey limits (SPEC §9; our decisions): a name of 1–64 printable
// characters, and at most MaxPasskeys per user, so that one account
// cannot fill the table or make its sign-in options unwieldy.
const (
	MaxPasskeyNameLen = 64
	MaxPasskeys       = 20
)

// ValidatePasskeyName checks the name a user gives a passkey (field name).
func ValidatePasskeyName(name string) error {
	var errs FieldErrors
	textRule{field: "name", label: "Passkey name", required: true, max: MaxPasskeyNameLen, trimmed: true}.check(&errs, name)
	return errs.Err()
}

// CheckPasskeyCount refuses registering one more passkey for a user who
// has MaxPasskeys (have is how many it has).
func CheckPasskeyCount(have int) error {
	if have >= MaxPasskeys {
		return fieldErr("name", CodeNotAllowed, "A user may have at most %d passkeys; remove one before registering another.", MaxPasskeys)
	}
	return nil
}

// MayRemovePasskey decides whether h (whose own user id is self) may
// remove a passkey of target (SPEC §9): like writing the user — user.write
// for anyone, customer.admin only for its own customer's users — and every
// user for itself, as on its account page. The reserved admin's passkeys
// are removed only by admin itself or the command line (U10: admin is
// edited by nobody else). Whether h may see target at all (404) is the
// caller's read scope, decided before.
func MayRemovePasskey(h Holder, self UserID, target User) error {
	switch {
	case h.System || (self != "" && self == target.ID):
		return nil
	case target.IsReserved():
		return fieldErr("username", CodeReserved, "User %q is reserved; only it removes its own passkeys.", target.Username)
	case h.Can(PermUserWrite):
		return nil
	case h.Can(PermCustomerAdmin) && h.Customer != "" && target.CustomerID == h.Customer:
		return nil
	}
	return &Refusal{Message: "Removing a user's passkey needs the permission user.write (customer.admin for the users of your own customer)."}
}
