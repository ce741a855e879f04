package directory

import (
	"strings"
	"testing"
	_ "time/tzdata" // zone data for hermetic tests, whatever the host has
	"unicode/utf8"
)

// validUser returns a user that passes ValidateUser.
func validUser() User {
	return User{Username: "taro.yamada", Email: "taro@example.com", FirstName: "Taro",
		LastName: "Yamada", Enabled: true, Timezone: "Asia/Tokyo"}
}

// wantErrors checks that errs holds exactly the field/code pairs of want
// (as "field/code"), in any order.
func wantErrors(t *testing.T, errs FieldErrors, want ...string) {
	t.Helper()
	got := make([]string, len(errs))
	for i, e := range errs {
		got[i] = e.Field + "/" + e.Code
		if e.Message == "" {
			t.Errorf("empty message for %s", got[i])
		}
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("got %v, want %v (%v)", got, want, errs)
	}
}

func TestValidateUser(t *testing.T) {
	tests := []struct {
		name   string
		change func(u *User)
		want   []string
	}{
		{"valid user", func(u *User) {}, nil},
		{"all errors are collected", func(u *User) { *u = User{} },
			[]string{"username/required", "email/required", "first_name/required", "last_name/required", "timezone/required"}},
		{"user name of 64 characters", func(u *User) { u.Username = strings.Repeat("a", 64) }, nil},
		{"user name of 65 characters", func(u *User) { u.Username = strings.Repeat("a", 65) }, []string{"username/too_long"}},
		{"user name with . _ - @", func(u *User) { u.Username = "a.b_c-d@e" }, nil},
		{"user name starting with a digit", func(u *User) { u.Username = "9lives" }, nil},
		{"user name starting with .", func(u *User) { u.Username = ".taro" }, []string{"username/invalid"}},
		{"user name starting with @", func(u *User) { u.Username = "@taro" }, []string{"username/invalid"}},
		{"user name with a space", func(u *User) { u.Username = "taro yamada" }, []string{"username/invalid"}},
		{"user name in Japanese", func(u *User) { u.Username = "山田" }, []string{"username/invalid"}},
		{"mail address with display name", func(u *User) { u.Email = "Taro <taro@example.com>" }, []string{"email/invalid"}},
		{"mail address without @", func(u *User) { u.Email = "taro.example.com" }, []string{"email/invalid"}},
		{"mail address of 254 characters", func(u *User) { u.Email = strings.Repeat("a", 64) + "@" + strings.Repeat("b", 185) + ".com" }, nil},
		{"mail address of 255 characters", func(u *User) { u.Email = strings.Repeat("a", 64) + "@" + strings.Repeat("b", 186) + ".com" }, []string{"email/too_long"}},
		{"Japanese names", func(u *User) { u.FirstName, u.LastName = "太郎", "山田" }, nil},
		{"names with inner spaces and accents", func(u *User) { u.FirstName, u.LastName = "Jean Luc", "Pérez-Ñúñez" }, nil},
		{"first name of 64 Japanese characters", func(u *User) { u.FirstName = strings.Repeat("あ", 64) }, nil},
		{"first name of 65 Japanese characters", func(u *User) { u.FirstName = strings.Repeat("あ", 65) }, []string{"first_name/too_long"}},
		{"first name with a tab", func(u *User) { u.FirstName = "Ta\tro" }, []string{"first_name/invalid"}},
		{"last name with a line break", func(u *User) { u.LastName = "Yama\nda" }, []string{"last_name/invalid"}},
		{"last name with NUL", func(u *User) { u.LastName = "Yama\x00da" }, []string{"last_name/invalid"}},
		{"last name with a zero-width space", func(u *User) { u.LastName = "Yama\u200bda" }, []string{"last_name/invalid"}},
		{"first name not trimmed", func(u *User) { u.FirstName = " Taro" }, []string{"first_name/invalid"}},
		{"invalid UTF-8", func(u *User) { u.Company = "ab\xffcd" }, []string{"company/invalid"}},
		{"company of 255 characters", func(u *User) { u.Company = strings.Repeat("株", 255) }, nil},
		{"department of 256 characters", func(u *User) { u.Department = strings.Repeat("x", 256) }, []string{"department/too_long"}},
		{"address with a line break", func(u *User) { u.Address = "1-2-3\nTokyo" }, []string{"address/invalid"}},
		{"phones with + - ( ) and spaces", func(u *User) { u.Phone1, u.Phone2 = "+81 (3) 1234-5678", "090-1234-5678" }, nil},
		{"phone of 32 characters", func(u *User) { u.Phone1 = strings.Repeat("1", 32) }, nil},
		{"phone of 33 characters", func(u *User) { u.Phone1 = strings.Repeat("1", 33) }, []string{"phone1/too_long"}},
		{"phone with letters", func(u *User) { u.Phone2 = "ext. 12" }, []string{"phone2/invalid"}},
		{"phone with full-width digits", func(u *User) { u.Phone1 = "０３" }, []string{"phone1/invalid"}},
		{"note with line breaks and tabs", func(u *User) { u.Note = "line 1\r\nline 2\n\tindented" }, nil},
		{"note of 1024 characters", func(u *User) { u.Note = strings.Repeat("メ", 1024) }, nil},
		{"note of 1025 characters", func(u *User) { u.Note = strings.Repeat("メ", 1025) }, []string{"note/too_long"}},
		{"note with a bell", func(u *User) { u.Note = "ding\a" }, []string{"note/invalid"}},
		{"time zone UTC", func(u *User) { u.Timezone = "UTC" }, nil},
		{"time zone with + in it", func(u *User) { u.Timezone = "Etc/GMT+9" }, nil},
		{"time zone Local", func(u *User) { u.Timezone = "Local" }, []string{"timezone/invalid"}},
		{"unknown time zone", func(u *User) { u.Timezone = "Mars/Olympus" }, []string{"timezone/invalid"}},
		{"time zone path", func(u *User) { u.Timezone = "../etc/passwd" }, []string{"timezone/invalid"}},
		{"time zone of 65 characters", func(u *User) { u.Timezone = strings.Repeat("A", 65) }, []string{"timezone/too_long"}},
		{"customer is not checked here", func(u *User) { u.CustomerID = "no such customer" }, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u := validUser()
			tc.change(&u)
			wantErrors(t, ValidateUser(u), tc.want...)
		})
	}
}

func TestNormalizeUser(t *testing.T) {
	u := User{Username: " taro ", Email: "\ttaro@example.com\n", FirstName: "\u3000太郎\u3000",
		LastName: " Yamada", Note: "\n first\n\nsecond \n", Timezone: " Asia/Tokyo "}
	NormalizeUser(&u)
	want := User{Username: "taro", Email: "taro@example.com", FirstName: "太郎",
		LastName: "Yamada", Note: "first\n\nsecond", Timezone: "Asia/Tokyo"}
	if u != want {
		t.Fatalf("got %+v, want %+v", u, want)
	}
}

func TestValidateGroup(t *testing.T) {
	tests := []struct {
		name string
		g    Group
		want []string
	}{
		{"plain name", Group{Name: "ops"}, nil},
		{"GitLab characters", Group{Name: "_Ops Team (Tokyo) v1.2-b"}, nil},
		{"Japanese name", Group{Name: "運用チーム"}, nil},
		{"name of 64 characters", Group{Name: strings.Repeat("g", 64)}, nil},
		{"name of 65 characters", Group{Name: strings.Repeat("g", 65)}, []string{"name/too_long"}},
		{"empty name", Group{}, []string{"name/required"}},
		{"name starting with .", Group{Name: ".ops"}, []string{"name/invalid"}},
		{"name starting with (", Group{Name: "(ops)"}, []string{"name/invalid"}},
		{"name with /", Group{Name: "ops/dev"}, []string{"name/invalid"}},
		{"name with a control character", Group{Name: "ops\x7f"}, []string{"name/invalid"}},
		{"name ending with a space", Group{Name: "ops "}, []string{"name/invalid"}},
		{"mail address given", Group{Name: "ops", Email: "ops@example.com"}, nil},
		{"bad mail address", Group{Name: "ops", Email: "ops@"}, []string{"email/invalid"}},
		{"description of 1024 characters", Group{Name: "ops", Description: strings.Repeat("d", 1024)}, nil},
		{"description of 1025 characters", Group{Name: "ops", Description: strings.Repeat("d", 1025)}, []string{"description/too_long"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { wantErrors(t, ValidateGroup(tc.g), tc.want...) })
	}
}

func TestValidateRole(t *testing.T) {
	tests := []struct {
		name string
		r    Role
		want []string
	}{
		{"custom role", Role{Name: "Night Shift-2.a_b", Type: RoleCustom}, nil},
		{"name of 64 characters", Role{Name: strings.Repeat("r", 64), Type: RoleCustom}, nil},
		{"name of 65 characters", Role{Name: strings.Repeat("r", 65), Type: RoleCustom}, []string{"name/too_long"}},
		{"missing name and type", Role{}, []string{"name/required", "type/required"}},
		{"unknown type", Role{Name: "x", Type: "composite"}, []string{"type/invalid"}},
		{"Japanese name", Role{Name: "管理者", Type: RoleCustom}, []string{"name/invalid"}},
		{"name with @", Role{Name: "ops@night", Type: RoleCustom}, []string{"name/invalid"}},
		{"name not trimmed", Role{Name: "ops ", Type: RoleCustom}, []string{"name/invalid"}},
		{"description with NUL", Role{Name: "x", Type: RoleCustom, Description: "a\x00"}, []string{"description/invalid"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { wantErrors(t, ValidateRole(tc.r), tc.want...) })
	}
}

func TestValidateCustomer(t *testing.T) {
	valid := func(change func(c *Customer)) Customer {
		c := Customer{Code: "ACME-01", Name: "Acme Corporation", State: CustomerValid}
		change(&c)
		return c
	}
	tests := []struct {
		name string
		c    Customer
		want []string
	}{
		{"minimal customer", valid(func(c *Customer) {}), nil},
		{"every field", valid(func(c *Customer) {
			c.Street, c.Zip, c.City, c.Country = "1-2-3 Marunouchi", "100-0005", "千代田区", "Japan"
			c.URL, c.Comment, c.State = "https://acme.example.com/about?x=1", "two\nlines", CustomerInvalidTemporarily
		}), nil},
		{"everything missing", Customer{}, []string{"code/required", "name/required", "state/required"}},
		{"code null", valid(func(c *Customer) { c.Code = "null" }), []string{"code/reserved"}},
		{"code ALL", valid(func(c *Customer) { c.Code = "ALL" }), []string{"code/reserved"}},
		{"code Null", valid(func(c *Customer) { c.Code = "Null" }), []string{"code/reserved"}},
		{"code containing all", valid(func(c *Customer) { c.Code = "all.1" }), nil},
		{"code of 64 characters", valid(func(c *Customer) { c.Code = strings.Repeat("C", 64) }), nil},
		{"code of 65 characters", valid(func(c *Customer) { c.Code = strings.Repeat("C", 65) }), []string{"code/too_long"}},
		{"code with a space", valid(func(c *Customer) { c.Code = "ACME 01" }), []string{"code/invalid"}},
		{"Japanese name", valid(func(c *Customer) { c.Name = "株式会社アクメ" }), nil},
		{"name of 128 characters", valid(func(c *Customer) { c.Name = strings.Repeat("n", 128) }), nil},
		{"name of 129 characters", valid(func(c *Customer) { c.Name = strings.Repeat("n", 129) }), []string{"name/too_long"}},
		{"name with a line break", valid(func(c *Customer) { c.Name = "Acme\nCorp" }), []string{"name/invalid"}},
		{"unknown state", valid(func(c *Customer) { c.State = "deleted" }), []string{"state/invalid"}},
		{"http URL", valid(func(c *Customer) { c.URL = "HTTP://acme.example.com" }), nil},
		{"relative URL", valid(func(c *Customer) { c.URL = "/about" }), []string{"url/invalid"}},
		{"URL without host", valid(func(c *Customer) { c.URL = "https:///about" }), []string{"url/invalid"}},
		{"ftp URL", valid(func(c *Customer) { c.URL = "ftp://acme.example.com" }), []string{"url/invalid"}},
		{"javascript URL", valid(func(c *Customer) { c.URL = "javascript:alert(1)" }), []string{"url/invalid"}},
		{"URL with a space", valid(func(c *Customer) { c.URL = "https://acme.example.com/a b" }), []string{"url/invalid"}},
		{"URL of 2049 characters", valid(func(c *Customer) { c.URL = "https://a.example/" + strings.Repeat("p", 2031) }), []string{"url/too_long"}},
		{"zip of 32 and 33 characters", valid(func(c *Customer) { c.Zip, c.City = strings.Repeat("9", 32), strings.Repeat("c", 129) }), []string{"city/too_long"}},
		{"street, country and comment too long", valid(func(c *Customer) {
			c.Street, c.Country, c.Comment = strings.Repeat("s", 256), strings.Repeat("c", 129), strings.Repeat("c", 1025)
		}), []string{"street/too_long", "country/too_long", "comment/too_long"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { wantErrors(t, ValidateCustomer(tc.c), tc.want...) })
	}
}

func TestValidatePassword(t *testing.T) {
	tests := []struct {
		name      string
		pw        string
		wantError bool
	}{
		{"good passphrase", "correct horse battery staple", false},
		{"8 characters", "tR7#kq2!", false},
		{"7 characters", "tR7#kq2", true},
		{"128 characters", strings.Repeat("x9", 64), false},
		{"129 characters", strings.Repeat("x9", 64) + "z", true},
		{"Japanese passphrase", "ひらけごま、ひらけ", false},
		{"spaces count", "  ab  cd  ", false},
		{"empty", "", true},
		{"control character", "abcdefgh\x01", true},
		{"line break", "abcd\nefgh", true},
		{"the user name ignoring case", "Taro.Yamada", true},
		{"the mail address ignoring case", "TARO@example.com", true},
		{"common password", "password123", true},
		{"common password ignoring case", "QwErTy123", true},
		{"common keyboard walk", "1qaz2wsx", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			errs := ValidatePassword(tc.pw, "taro.yamada", "taro@example.com")
			if (len(errs) > 0) != tc.wantError {
				t.Fatalf("got %v, want error: %v", errs, tc.wantError)
			}
			for _, e := range errs {
				if e.Field != "password" {
					t.Errorf("error on field %q, want password", e.Field)
				}
				if strings.Contains(e.Message, `\x01`) || strings.Contains(e.Message, "129") {
					t.Errorf("message %q reveals part of the password", e.Message)
				}
			}
		})
	}
}

func TestCommonPasswordList(t *testing.T) {
	n := 0
	for line := range strings.Lines(commonPasswords) {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		n++
		if !isCommonPassword(strings.ToUpper(line)) {
			t.Errorf("%q not found ignoring case", line)
		}
	}
	if n < 200 {
		t.Errorf("list holds %d passwords, want a few hundred", n)
	}
}

func FuzzValidateUser(f *testing.F) {
	f.Add("taro", "taro@example.com", "太郎", "山田", "+81 3", "note\nline", "Asia/Tokyo")
	f.Add(".x", "<a@b>", "\x00", "\xff", "abc", "\a", "Local")
	f.Add("", "", "", "", "", "", "../../etc/passwd")
	f.Fuzz(func(t *testing.T, username, email, first, last, phone, note, tz string) {
		u := User{Username: username, Email: email, FirstName: first, LastName: last,
			Phone1: phone, Note: note, Timezone: tz, Company: first + last}
		NormalizeUser(&u)
		once := u
		NormalizeUser(&u)
		if u != once {
			t.Fatalf("NormalizeUser is not idempotent: %+v then %+v", once, u)
		}
		seen := map[string]bool{}
		for _, e := range ValidateUser(u) {
			if e.Field == "" || e.Code == "" || e.Message == "" || !utf8.ValidString(e.Message) {
				t.Fatalf("incomplete field error %+v", e)
			}
			if seen[e.Field] {
				t.Fatalf("two errors for field %s", e.Field)
			}
			seen[e.Field] = true
		}
	})
}
