package directory

import (
	"errors"
	"fmt"
	"testing"
)

func TestFieldErrors(t *testing.T) {
	two := FieldErrors{
		{Field: "username", Code: CodeRequired, Message: "User name is required."},
		{Field: "email", Code: CodeInvalid, Message: "Mail address is wrong."},
	}
	tests := []struct {
		name    string
		errs    FieldErrors
		wantNil bool
		wantMsg string
	}{
		{"nil list is no error", nil, true, ""},
		{"empty list is no error", FieldErrors{}, true, ""},
		{"errors are joined with their fields", two, false, "username: User name is required.; email: Mail address is wrong."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.errs.Err()
			if (err == nil) != tc.wantNil {
				t.Fatalf("Err() = %v, want nil: %v", err, tc.wantNil)
			}
			if err == nil {
				return
			}
			if err.Error() != tc.wantMsg {
				t.Errorf("Error() = %q, want %q", err.Error(), tc.wantMsg)
			}
			var fe FieldErrors
			if !errors.As(fmt.Errorf("wrapped: %w", err), &fe) || len(fe) != len(tc.errs) {
				t.Errorf("errors.As through a wrap gave %v", fe)
			}
		})
	}
	if !two.Has("email", CodeInvalid) || two.Has("email", CodeRequired) {
		t.Error("Has does not match field and code together")
	}
}

// fieldErrorsOf returns the FieldErrors in err, failing the test if err holds
// something else.
func fieldErrorsOf(t *testing.T, err error) FieldErrors {
	t.Helper()
	if err == nil {
		return nil
	}
	var fe FieldErrors
	if !errors.As(err, &fe) {
		t.Fatalf("error %v (%T) is not FieldErrors", err, err)
	}
	for _, e := range fe {
		if e.Field == "" || e.Code == "" || e.Message == "" {
			t.Errorf("incomplete field error %+v", e)
		}
	}
	return fe
}

// wantField checks that err is nil when field is empty, and otherwise holds
// exactly one field error with field and code.
func wantField(t *testing.T, err error, field, code string) {
	t.Helper()
	fe := fieldErrorsOf(t, err)
	if field == "" {
		if len(fe) != 0 {
			t.Fatalf("unexpected errors: %v", fe)
		}
		return
	}
	if len(fe) != 1 || fe[0].Field != field || fe[0].Code != code {
		t.Fatalf("got %+v, want one error %s/%s", fe, field, code)
	}
}
