package directory

import (
	"errors"
	"strings"
	"testing"
)

func TestValidatePasskeyName(t *testing.T) {
	tests := []struct {
		name, in, code string
	}{
		{"plain", "Laptop", ""},
		{"Japanese", "会社のノートPC", ""},
		{"64 characters", strings.Repeat("鍵", 64), ""},
		{"empty", "", CodeRequired},
		{"65 characters", strings.Repeat("a", 65), CodeTooLong},
		{"NUL", "a\x00b", CodeInvalid},
		{"line break", "a\nb", CodeInvalid},
		{"invalid UTF-8", "a\xffb", CodeInvalid},
		{"leading space", " key", CodeInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidatePasskeyName(tc.in)
			var fe FieldErrors
			switch {
			case tc.code == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.code != "" && (!errors.As(err, &fe) || fe[0].Field != "name" || fe[0].Code != tc.code):
				t.Fatalf("got %v, want name/%s", err, tc.code)
			}
		})
	}
	if CheckPasskeyCount(MaxPasskeys-1) != nil || CheckPasskeyCount(MaxPasskeys) == nil {
		t.Fatal("passkey count limit")
	}
}

func TestMayRemovePasskey(t *testing.T) {
	g := testGraph(nil)
	holder := func(customer CustomerID, roles ...string) Holder {
		var ids []RoleID
		for _, r := range roles {
			ids = append(ids, RoleID(r))
		}
		return Holder{Roles: g.Expand(ids...), Customer: customer}
	}
	alice := User{ID: "alice", Username: "alice", CustomerID: "c1"}
	bob := User{ID: "bob", Username: "bob", CustomerID: "c2"}
	admin := User{ID: "adm", Username: AdminUsername}
	tests := []struct {
		name   string
		h      Holder
		self   UserID
		target User
		want   string // "", "refusal", "reserved"
	}{
		{"user admin", holder("", RoleNameUserAdmin), "x", alice, ""},
		{"viewer", holder("", RoleNameUserViewer), "x", alice, "refusal"},
		{"customer admin, own customer", holder("c1", RoleNameCustomerAdmin), "x", alice, ""},
		{"customer admin, other customer", holder("c1", RoleNameCustomerAdmin), "x", bob, "refusal"},
		{"itself without permissions", holder(""), "alice", alice, ""},
		{"admin's passkey by a user admin", holder("", RoleNameUserAdmin), "x", admin, "reserved"},
		{"admin's own passkey", holder("", RoleNameUserAdmin), "adm", admin, ""},
		{"system", Holder{System: true}, "", admin, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := MayRemovePasskey(tc.h, tc.self, tc.target)
			var r *Refusal
			var fe FieldErrors
			switch tc.want {
			case "":
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
			case "refusal":
				if !errors.As(err, &r) {
					t.Fatalf("got %v, want a refusal", err)
				}
			case "reserved":
				if !errors.As(err, &fe) || fe[0].Code != CodeReserved {
					t.Fatalf("got %v, want reserved", err)
				}
			}
		})
	}
}
