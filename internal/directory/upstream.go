package directory

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// UpstreamClaims is what a verified ID token (and the upstream userinfo)
// says about the person signing in at a customer's provider.
type UpstreamClaims struct {
	Subject       string
	Email         string
	EmailVerified bool
	GivenName     string
	FamilyName    string
	Name          string
}

// Upstream sign-in outcomes (UpstreamAction).
const (
	UpstreamSignIn = "sign_in" // the linked user signs in
	UpstreamLink   = "link"    // the local user with the same mail is linked, then signs in
	UpstreamCreate = "create"  // a new user is created in the provider's customer and linked
)

// UpstreamRefusal is a refused upstream sign-in. Reason is for the audit
// log and the server log only: the browser sees the one sign-in failure
// text (no user enumeration).
type UpstreamRefusal struct{ Reason string }

func (r *UpstreamRefusal) Error() string { return "upstream sign-in refused: " + r.Reason }

// UpstreamCandidate is a local user found for an upstream sign-in.
type UpstreamCandidate struct {
	User  User
	Found bool
}

// UpstreamAction decides an upstream sign-in at provider p (issue 18):
// linked is the user linked to the upstream subject (deletedLink: a link
// whose user was deleted), byMail the local user with the upstream mail.
//   - a disabled provider refuses;
//   - a linked user signs in if enabled and still of the provider's
//     customer; a deleted or disabled one stays refused whatever the
//     upstream says;
//   - otherwise only a verified upstream mail of one of p's domains goes
//     on: the local user with that mail is linked when it may be
//     (MayLinkIdentity) and is enabled; with none, AutoCreate creates one.
func UpstreamAction(p IdentityProvider, c UpstreamClaims, linked UpstreamCandidate, deletedLink bool, byMail UpstreamCandidate) (string, error) {
	switch {
	case !p.Enabled:
		return "", &UpstreamRefusal{Reason: "the identity provider is disabled"}
	case deletedLink:
		return "", &UpstreamRefusal{Reason: "the user linked to this upstream account was deleted"}
	case linked.Found && !linked.User.Enabled:
		return "", &UpstreamRefusal{Reason: "the linked user is disabled"}
	case linked.Found && MayLinkIdentity(p, linked.User) != nil:
		return "", &UpstreamRefusal{Reason: "the linked user is no longer of the provider's customer"}
	case linked.Found:
		return UpstreamSignIn, nil
	case c.Email == "":
		return "", &UpstreamRefusal{Reason: "the upstream gave no mail address"}
	case !c.EmailVerified:
		return "", &UpstreamRefusal{Reason: "the upstream mail address is not verified"}
	case !p.HasDomain(MailDomain(c.Email)):
		return "", &UpstreamRefusal{Reason: "the upstream mail domain is not one of the provider's domains"}
	case byMail.Found && MayLinkIdentity(p, byMail.User) != nil:
		return "", &UpstreamRefusal{Reason: "the local user with this mail address may not be linked to this provider"}
	case byMail.Found && !byMail.User.Enabled:
		return "", &UpstreamRefusal{Reason: "the local user with this mail address is disabled"}
	case byMail.Found:
		return UpstreamLink, nil
	case !p.AutoCreate:
		return "", &UpstreamRefusal{Reason: "no local user has this mail address and the provider does not create users"}
	}
	return UpstreamCreate, nil
}

// UpstreamUser is the user an upstream sign-in creates (auto_create): in
// the provider's customer, enabled, its mail verified, named by its mail
// address (made a valid user name), with the upstream names or, lacking
// them, the mail's local part. timezone is the server default.
func UpstreamUser(p IdentityProvider, c UpstreamClaims, timezone string) User {
	email := strings.ToLower(strings.TrimSpace(c.Email))
	local := email
	if i := strings.LastIndexByte(email, '@'); i > 0 {
		local = email[:i]
	}
	first, last := personName(c.GivenName), personName(c.FamilyName)
	if first == "" && last == "" {
		if f := strings.Fields(c.Name); len(f) > 1 {
			first, last = personName(f[0]), personName(strings.Join(f[1:], " "))
		} else {
			first = personName(c.Name)
		}
	}
	first, last = firstNonEmpty(first, personName(local)), firstNonEmpty(last, personName(local))
	first, last = firstNonEmpty(first, last, "User"), firstNonEmpty(last, first, "User")
	return User{Username: upstreamUsername(email), Email: email, FirstName: first, LastName: last,
		Enabled: true, EmailVerified: true, CustomerID: p.CustomerID, Timezone: timezone}
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// personName keeps the printable characters of s, trimmed, at most
// MaxPersonNameLen characters.
func personName(s string) string {
	var b strings.Builder
	n := 0
	for _, c := range strings.TrimSpace(s) {
		if c == utf8.RuneError || !unicode.IsGraphic(c) || n == MaxPersonNameLen {
			continue
		}
		b.WriteRune(c)
		n++
	}
	return strings.TrimSpace(b.String())
}

// upstreamUsername makes a mail address a valid user name (SPEC §8): other
// characters become '_', at most MaxUsernameLen, starting with a letter or
// digit.
func upstreamUsername(email string) string {
	var b strings.Builder
	for _, c := range email {
		if b.Len() == MaxUsernameLen {
			break
		}
		if c < utf8.RuneSelf && isUsernameRune(c) {
			b.WriteRune(c)
		} else {
			b.WriteByte('_')
		}
	}
	s := strings.TrimLeftFunc(b.String(), func(c rune) bool { return !isASCIIAlnum(c) })
	if s == "" {
		return "user"
	}
	return s
}
