package directory

import (
	_ "embed"
	"net/mail"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Length limits of the input rules of SPEC §8, in characters (Unicode code
// points). Limits marked "ours" are not in §8; they are chosen here, in one
// place, so that the console, the API and the store agree.
const (
	MaxUsernameLen     = 64
	MaxEmailLen        = 254
	MaxPersonNameLen   = 64 // first name, last name
	MaxTextLen         = 255
	MaxPhoneLen        = 32
	MaxNoteLen         = 1024
	MaxTimezoneLen     = 64 // ours: the longest IANA name has about 30
	MaxGroupNameLen    = 64
	MaxRoleNameLen     = 64
	MaxCustomerCodeLen = 64
	MaxCustomerNameLen = 128
	MaxDescriptionLen  = 1024 // ours: group and role descriptions, line breaks allowed
	MaxStreetLen       = 255  // ours
	MaxZipLen          = 32   // ours
	MaxCityLen         = 128  // ours
	MaxCountryLen      = 128  // ours
	MaxURLLen          = 2048 // ours
	MaxCommentLen      = 1024 // ours: customer comment, line breaks allowed
	MinPasswordLen     = 8
	MaxPasswordLen     = 128
)

// commonPasswords is the list of common passwords shipped with the binary
// (SPEC §8, password rule). One password a line; blank lines and lines
// starting with '#' are skipped. It is only read.
//
//go:embed common_passwords.txt
var commonPasswords string

// textRule is the rule for one text field: whether it is required, its
// length limit, its allowed characters and first character, and whether it
// must be trimmed. It reports at most one error per field.
type textRule struct {
	field, label string
	required     bool
	max          int
	allowed      func(rune) bool // nil: any printable character
	allowedDesc  string
	first        func(rune) bool // nil: no rule for the first character
	firstDesc    string
	trimmed      bool
	secret       bool // a password: messages never quote its characters or length
}

// check validates s and appends at most one error; it reports whether s passed.
func (r textRule) check(errs *FieldErrors, s string) bool {
	if s == "" {
		if r.required {
			errs.add(r.field, CodeRequired, "%s is required.", r.label)
			return false
		}
		return true
	}
	if n := utf8.RuneCountInString(s); n > r.max {
		if r.secret {
			errs.add(r.field, CodeTooLong, "%s must be at most %d characters long.", r.label, r.max)
		} else {
			errs.add(r.field, CodeTooLong, "%s must be at most %d characters long; it has %d.", r.label, r.max, n)
		}
		return false
	}
	if !utf8.ValidString(s) {
		errs.add(r.field, CodeInvalid, "%s is not valid UTF-8 text.", r.label)
		return false
	}
	allowed, desc := r.allowed, r.allowedDesc
	if allowed == nil {
		allowed = isPrintable
	}
	if desc == "" {
		desc = "printable characters (no control characters or line breaks)"
	}
	for _, c := range s {
		switch {
		case allowed(c):
		case r.secret:
			errs.add(r.field, CodeInvalid, "%s may contain only %s.", r.label, desc)
			return false
		default:
			errs.add(r.field, CodeInvalid, "%s may contain only %s; %q is not allowed.", r.label, desc, c)
			return false
		}
	}
	if first, _ := utf8.DecodeRuneInString(s); r.first != nil && !r.first(first) {
		errs.add(r.field, CodeInvalid, "%s must start with %s.", r.label, r.firstDesc)
		return false
	}
	if r.trimmed && strings.TrimSpace(s) != s {
		errs.add(r.field, CodeInvalid, "%s must not start or end with a space.", r.label)
		return false
	}
	return true
}

// isPrintable accepts letters, marks, numbers, punctuation, symbols and
// spaces of any script (Japanese included), and refuses control and format
// characters, line breaks, private-use and unassigned code points.
func isPrintable(c rune) bool { return unicode.IsGraphic(c) }

// isMultiline is isPrintable plus line breaks and tabs (note, descriptions).
func isMultiline(c rune) bool { return isPrintable(c) || c == '\n' || c == '\r' || c == '\t' }

func isASCIIAlnum(c rune) bool {
	return c < utf8.RuneSelf && (unicode.IsLetter(c) || unicode.IsDigit(c))
}

func isUsernameRune(c rune) bool { return isASCIIAlnum(c) || strings.ContainsRune("._-@", c) }

func isPhoneRune(c rune) bool { return ('0' <= c && c <= '9') || strings.ContainsRune(" +-()", c) }

func isZoneRune(c rune) bool { return isASCIIAlnum(c) || strings.ContainsRune("/_+-", c) }

func isASCIILetter(c rune) bool { return c < utf8.RuneSelf && unicode.IsLetter(c) }

func isGroupNameRune(c rune) bool {
	return unicode.IsLetter(c) || unicode.IsDigit(c) || unicode.IsMark(c) || strings.ContainsRune(" _.-()", c)
}

func isGroupNameFirst(c rune) bool { return unicode.IsLetter(c) || unicode.IsDigit(c) || c == '_' }

func isRoleNameRune(c rune) bool { return isASCIIAlnum(c) || strings.ContainsRune(" _.-", c) }

func isCustomerCodeRune(c rune) bool { return isASCIIAlnum(c) || strings.ContainsRune("._-", c) }

// NormalizeUser trims leading and trailing white space (including the
// ideographic space) from u's names and text fields before validation (§8:
// names are trimmed). The note keeps its inner line breaks.
func NormalizeUser(u *User) {
	for _, p := range []*string{&u.Username, &u.Email, &u.FirstName, &u.LastName, &u.Company,
		&u.Department, &u.Address, &u.Phone1, &u.Phone2, &u.Note, &u.Timezone, &u.ExternalID} {
		*p = strings.TrimSpace(*p)
	}
}

// NormalizeGroup trims g's name, mail address and description (§8).
func NormalizeGroup(g *Group) {
	g.Name, g.Email, g.Description = strings.TrimSpace(g.Name), strings.TrimSpace(g.Email), strings.TrimSpace(g.Description)
	g.ExternalID = strings.TrimSpace(g.ExternalID)
}

// NormalizeRole trims r's name and description (§8).
func NormalizeRole(r *Role) {
	r.Name, r.Description = strings.TrimSpace(r.Name), strings.TrimSpace(r.Description)
}

// NormalizeCustomer trims c's text fields (§8).
func NormalizeCustomer(c *Customer) {
	for _, p := range []*string{&c.Code, &c.Name, &c.Street, &c.Zip, &c.City, &c.Country, &c.URL, &c.Comment} {
		*p = strings.TrimSpace(*p)
	}
}

// ValidateUser checks every field of u against the input rules of SPEC §8
// (U1) and returns all refusals at once (O2). Call NormalizeUser first.
// Uniqueness (U2, U3) is the store's job and the customer (C1, C2) is
// checked by CheckCustomerChoice and CheckCustomer.
func ValidateUser(u User) FieldErrors {
	var errs FieldErrors
	usernameRule("username", "User name").check(&errs, u.Username)
	checkEmail(&errs, "email", "Mail address", u.Email, true)
	textRule{field: "first_name", label: "First name", required: true, max: MaxPersonNameLen, trimmed: true}.check(&errs, u.FirstName)
	textRule{field: "last_name", label: "Last name", required: true, max: MaxPersonNameLen, trimmed: true}.check(&errs, u.LastName)
	textRule{field: "company", label: "Company", max: MaxTextLen}.check(&errs, u.Company)
	textRule{field: "department", label: "Department", max: MaxTextLen}.check(&errs, u.Department)
	textRule{field: "address", label: "Address", max: MaxTextLen}.check(&errs, u.Address)
	phone := textRule{max: MaxPhoneLen, allowed: isPhoneRune, allowedDesc: "digits, spaces and + - ( )"}
	phone.field, phone.label = "phone1", "Phone 1"
	phone.check(&errs, u.Phone1)
	phone.field, phone.label = "phone2", "Phone 2"
	phone.check(&errs, u.Phone2)
	textRule{field: "note", label: "Note", max: MaxNoteLen, allowed: isMultiline,
		allowedDesc: "printable characters and line breaks"}.check(&errs, u.Note)
	checkTimezone(&errs, u.Timezone)
	textRule{field: "external_id", label: "External id", max: MaxTextLen}.check(&errs, u.ExternalID)
	return errs
}

// usernameRule is the user name rule of §8 for field, also applied to the
// new user name of a renamed tombstone (D2).
func usernameRule(field, label string) textRule {
	return textRule{field: field, label: label, required: true, max: MaxUsernameLen,
		allowed: isUsernameRune, allowedDesc: "letters A-Z and a-z, digits and . _ - @",
		first: isASCIIAlnum, firstDesc: "a letter or a digit"}
}

// checkEmail applies the mail address rule of §8: an addr-spec (no display
// name, no comments) that net/mail accepts, at most MaxEmailLen characters.
func checkEmail(errs *FieldErrors, field, label, s string, required bool) {
	if !(textRule{field: field, label: label, required: required, max: MaxEmailLen}).check(errs, s) || s == "" {
		return
	}
	if a, err := mail.ParseAddress(s); err != nil || a.Name != "" || a.Address != s {
		errs.add(field, CodeInvalid, "%s must be a plain mail address such as name@example.com.", label)
	}
}

// checkTimezone applies the time zone rule of §8 (U1): a required IANA zone
// name that time.LoadLocation knows. "Local" is refused because it means the
// server's zone, not the user's. The binary must carry its own zone data
// (import time/tzdata in main) so that the answer does not depend on the host.
func checkTimezone(errs *FieldErrors, tz string) {
	const label = "Time zone"
	if !(textRule{field: "timezone", label: label, required: true, max: MaxTimezoneLen,
		allowed: isZoneRune, allowedDesc: "letters A-Z and a-z, digits and / _ + -",
		first: isASCIILetter, firstDesc: "a letter"}).check(errs, tz) {
		return
	}
	if tz == "Local" {
		errs.add("timezone", CodeInvalid, "%s must be an IANA zone name such as Asia/Tokyo; Local is not allowed.", label)
		return
	}
	if _, err := time.LoadLocation(tz); err != nil {
		errs.add("timezone", CodeInvalid, "%s %q is not a known IANA zone name such as Asia/Tokyo or UTC.", label, tz)
	}
}

// ValidateGroup checks g against the group rules of SPEC §8 (G1): a name
// that GitLab accepts for a group (P2), an optional mail address and a
// description of at most MaxDescriptionLen characters.
func ValidateGroup(g Group) FieldErrors {
	var errs FieldErrors
	textRule{field: "name", label: "Group name", required: true, max: MaxGroupNameLen,
		allowed: isGroupNameRune, allowedDesc: "letters, digits, spaces and _ . - ( )",
		first: isGroupNameFirst, firstDesc: "a letter, a digit or _", trimmed: true}.check(&errs, g.Name)
	checkEmail(&errs, "email", "Group mail address", g.Email, false)
	textRule{field: "description", label: "Description", max: MaxDescriptionLen, allowed: isMultiline,
		allowedDesc: "printable characters and line breaks"}.check(&errs, g.Description)
	textRule{field: "external_id", label: "External id", max: MaxTextLen}.check(&errs, g.ExternalID)
	return errs
}

// ValidateRole checks r against the role rules of SPEC §8 (R1): the name
// rule, a known type and a description of at most MaxDescriptionLen characters.
func ValidateRole(r Role) FieldErrors {
	var errs FieldErrors
	textRule{field: "name", label: "Role name", required: true, max: MaxRoleNameLen,
		allowed: isRoleNameRune, allowedDesc: "letters A-Z and a-z, digits, spaces and _ . -",
		trimmed: true}.check(&errs, r.Name)
	switch {
	case r.Type == "":
		errs.add("type", CodeRequired, "Role type is required.")
	case !r.Type.Valid():
		errs.add("type", CodeInvalid, "Role type must be primitive, preinstalled or custom; %q is not.", string(r.Type))
	}
	textRule{field: "description", label: "Description", max: MaxDescriptionLen, allowed: isMultiline,
		allowedDesc: "printable characters and line breaks"}.check(&errs, r.Description)
	return errs
}

// ValidateCustomer checks c against the customer rules of SPEC §8 (C1): the
// code (the CustomerID of the ITSM app, never `null` or `all` in any case),
// the name, the state, an optional absolute http(s) URL, and the limits on
// street, zip, city, country and comment given by the Max* constants.
func ValidateCustomer(c Customer) FieldErrors {
	var errs FieldErrors
	if (textRule{field: "code", label: "Customer code", required: true, max: MaxCustomerCodeLen,
		allowed: isCustomerCodeRune, allowedDesc: "letters A-Z and a-z, digits and . _ -"}).check(&errs, c.Code) {
		if k := strings.ToLower(c.Code); k == "null" || k == "all" {
			errs.add("code", CodeReserved, "Customer code %q is reserved by the ITSM app; choose another code.", c.Code)
		}
	}
	textRule{field: "name", label: "Customer name", required: true, max: MaxCustomerNameLen, trimmed: true}.check(&errs, c.Name)
	textRule{field: "street", label: "Street", max: MaxStreetLen}.check(&errs, c.Street)
	textRule{field: "zip", label: "Zip code", max: MaxZipLen}.check(&errs, c.Zip)
	textRule{field: "city", label: "City", max: MaxCityLen}.check(&errs, c.City)
	textRule{field: "country", label: "Country", max: MaxCountryLen}.check(&errs, c.Country)
	checkURL(&errs, c.URL)
	textRule{field: "comment", label: "Comment", max: MaxCommentLen, allowed: isMultiline,
		allowedDesc: "printable characters and line breaks"}.check(&errs, c.Comment)
	switch {
	case c.State == "":
		errs.add("state", CodeRequired, "Customer state is required.")
	case !c.State.Valid():
		errs.add("state", CodeInvalid, "Customer state must be valid, invalid or invalid_temporarily; %q is not.", string(c.State))
	}
	return errs
}

// checkURL accepts an empty URL or an absolute http or https URL with a host.
func checkURL(errs *FieldErrors, s string) {
	const label = "URL"
	if !(textRule{field: "url", label: label, max: MaxURLLen,
		allowed:     func(c rune) bool { return isPrintable(c) && !unicode.IsSpace(c) },
		allowedDesc: "printable characters without spaces"}).check(errs, s) || s == "" {
		return
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" || u.Opaque != "" {
		errs.add("url", CodeInvalid, "%s must be an absolute http or https address such as https://example.com.", label)
	}
}

// ValidatePassword checks a new password against the policy of SPEC §8 (A2,
// after NIST SP 800-63B): 8 to 128 characters, any printable Unicode
// including spaces, not equal ignoring case to the user name or the mail
// address, and not in the list of common passwords shipped with the binary.
// The password is taken as typed: it is never trimmed.
func ValidatePassword(pw, username, email string) FieldErrors {
	var errs FieldErrors
	const label = "Password"
	if !(textRule{field: "password", label: label, required: true, max: MaxPasswordLen,
		allowedDesc: "printable characters and spaces", secret: true}).check(&errs, pw) {
		return errs
	}
	switch {
	case utf8.RuneCountInString(pw) < MinPasswordLen:
		errs.add("password", CodeInvalid, "%s must be at least %d characters long.", label, MinPasswordLen)
	case username != "" && strings.EqualFold(pw, username):
		errs.add("password", CodeInvalid, "%s must not be the user name.", label)
	case email != "" && strings.EqualFold(pw, email):
		errs.add("password", CodeInvalid, "%s must not be the mail address.", label)
	case isCommonPassword(pw):
		errs.add("password", CodeInvalid, "%s is too common and easy to guess; choose another one.", label)
	}
	return errs
}

// isCommonPassword reports whether pw is on the shipped list, ignoring case.
// A linear scan of a few hundred lines costs microseconds and keeps no state.
func isCommonPassword(pw string) bool {
	for line := range strings.Lines(commonPasswords) {
		line = strings.TrimSpace(line)
		if line != "" && line[0] != '#' && strings.EqualFold(line, pw) {
			return true
		}
	}
	return false
}
