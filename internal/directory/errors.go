package directory

import (
	"fmt"
	"strings"
)

// Error codes of a FieldError. The REST API sends them unchanged in the
// `errors` array of its problem documents (SPEC §7), so clients may switch
// on them; the message is for people.
const (
	CodeRequired   = "required"    // an empty required field (O2)
	CodeTooLong    = "too_long"    // longer than the limit of SPEC §8
	CodeInvalid    = "invalid"     // wrong characters, format or value (O2, §8)
	CodeReserved   = "reserved"    // the reserved admin user, global group or a reserved word (U10, G4, G5, C1)
	CodePredefined = "predefined"  // a change to a Primitive or Pre-Installed role (R2)
	CodeImmutable  = "immutable"   // a value that can never change: user name, role name, customer code (U2, R2, C1)
	CodeCycle      = "cycle"       // a role containment that would close a cycle (R3)
	CodeNotAllowed = "not_allowed" // an action the rules never permit, such as assigning the implicit user role (R3)
)

// FieldError is one refusal of one input field (O2). Field is the API's
// snake_case field name (SPEC §7), Code one of the Code* constants and
// Message a clear English sentence naming the field.
//
// FieldError is not an error by itself: rules return FieldErrors, which the
// API maps to 422 in one place (STYLE P4).
type FieldError struct {
	Field   string
	Code    string
	Message string
}

// FieldErrors collects every field refusal of one input, so that a client
// learns all its mistakes at once (O2). Rules return it through Err so that
// callers find it with errors.As.
type FieldErrors []FieldError

// Error joins the field names and messages, for logs and tests.
func (e FieldErrors) Error() string {
	if len(e) == 0 {
		return "no field errors"
	}
	var b strings.Builder
	for i, fe := range e {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s: %s", fe.Field, fe.Message)
	}
	return b.String()
}

// Err returns e as an error, or nil when e is empty. Always return field
// errors through Err: a nil FieldErrors stored in an error is not a nil error.
func (e FieldErrors) Err() error {
	if len(e) == 0 {
		return nil
	}
	return e
}

// Has reports whether e holds an error for field with code, for callers and
// tests that check one refusal among several.
func (e FieldErrors) Has(field, code string) bool {
	for _, fe := range e {
		if fe.Field == field && fe.Code == code {
			return true
		}
	}
	return false
}

// add appends one field error with a formatted message.
func (e *FieldErrors) add(field, code, format string, args ...any) {
	*e = append(*e, FieldError{Field: field, Code: code, Message: fmt.Sprintf(format, args...)})
}

// fieldErr returns a single field error as an error.
func fieldErr(field, code, format string, args ...any) error {
	var e FieldErrors
	e.add(field, code, format, args...)
	return e
}
