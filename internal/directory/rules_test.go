package directory

import (
	"strings"
	"testing"
)

func TestCheckUserUpdate(t *testing.T) {
	admin := User{ID: "u0", Username: "admin", Email: "admin@example.com", FirstName: "A", LastName: "Dmin", Enabled: true, Timezone: "UTC"}
	taro := validUser()
	tests := []struct {
		name   string
		old    User
		change func(u *User)
		want   []string
	}{
		{"ordinary edit", taro, func(u *User) { u.Email, u.Enabled, u.Note = "t@example.com", false, "x" }, nil},
		{"user name change", taro, func(u *User) { u.Username = "taro2" }, []string{"username/immutable"}},
		{"user name case change", taro, func(u *User) { u.Username = "Taro.Yamada" }, []string{"username/immutable"}},
		{"admin edited", admin, func(u *User) { u.FirstName = "Root" }, []string{"username/reserved"}},
		{"admin disabled", admin, func(u *User) { u.Enabled = false }, []string{"username/reserved"}},
		{"admin given a customer", admin, func(u *User) { u.CustomerID = "c1" }, []string{"username/reserved"}},
		{"admin renamed and edited", admin, func(u *User) { u.Username, u.Email = "root", "root@example.com" },
			[]string{"username/immutable", "username/reserved"}},
		{"admin in upper case is reserved too", func() User { a := admin; a.Username = "ADMIN"; return a }(),
			func(u *User) { u.Note = "x" }, []string{"username/reserved"}},
		{"admin changes its own time zone and OTP", admin, func(u *User) { u.Timezone, u.OTPRequired = "Asia/Tokyo", true }, nil},
		{"admin sign-in bookkeeping", admin, func(u *User) { u.Version++; u.ITSMSignedIn = true }, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			updated := tc.old
			tc.change(&updated)
			wantErrors(t, fieldErrorsOf(t, CheckUserUpdate(tc.old, updated)), tc.want...)
		})
	}
}

func TestDeleteRules(t *testing.T) {
	tests := []struct {
		name        string
		err         error
		field, code string
	}{
		{"admin cannot be deleted", CheckUserDelete(User{Username: "admin"}), "username", CodeReserved},
		{"other users can", CheckUserDelete(User{Username: "administrator"}), "", ""},
		{"global cannot be deleted", CheckGroupDelete(Group{Name: "global"}), "name", CodeReserved},
		{"Global in any case cannot be deleted", CheckGroupDelete(Group{Name: "Global"}), "name", CodeReserved},
		{"other groups can", CheckGroupDelete(Group{Name: "global-ops"}), "", ""},
		{"primitive role cannot be deleted", CheckRoleDelete(Role{Name: "itsm_user", Type: RolePrimitive}), "name", CodePredefined},
		{"pre-installed role cannot be deleted", CheckRoleDelete(Role{Name: "Manager", Type: RolePreInstalled}), "name", CodePredefined},
		{"custom role can", CheckRoleDelete(Role{Name: "Night", Type: RoleCustom}), "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { wantField(t, tc.err, tc.field, tc.code) })
	}
}

func TestGroupRules(t *testing.T) {
	global := Group{ID: "g0", Name: "global"}
	ops := Group{ID: "g1", Name: "ops"}
	dev := Group{ID: "g2", Name: "dev"}
	tests := []struct {
		name string
		err  error
		want []string
	}{
		{"global cannot be edited", CheckGroupUpdate(global, Group{ID: "g0", Name: "global", Description: "all"}), []string{"name/reserved"}},
		{"global cannot be renamed", CheckGroupUpdate(global, Group{ID: "g0", Name: "everyone"}), []string{"name/reserved"}},
		{"global unchanged is fine", CheckGroupUpdate(global, global), nil},
		{"a group cannot be renamed to global", CheckGroupUpdate(ops, Group{ID: "g1", Name: "GLOBAL"}), []string{"name/reserved"}},
		{"a group can be renamed", CheckGroupUpdate(ops, Group{ID: "g1", Name: "operations"}), nil},
		{"no new group named global", CheckGroupCreate(Group{Name: "global"}), []string{"name/reserved"}},
		{"new group", CheckGroupCreate(ops), nil},
		{"global cannot manage", CheckRelation(global, ops, RelationManage), []string{"group_id/reserved"}},
		{"global cannot be managed", CheckRelation(ops, global, RelationManaged), []string{"group_id/reserved"}},
		{"global cannot relate to itself", CheckRelation(global, global, RelationBoth), []string{"group_id/reserved"}},
		{"a group may manage itself", CheckRelation(ops, ops, RelationManage), nil},
		{"two groups manage each other", CheckRelation(ops, dev, RelationBoth), nil},
		{"bad type", CheckRelation(ops, dev, "owns"), []string{"type/invalid"}},
		{"global and a bad type", CheckRelation(ops, global, ""), []string{"group_id/reserved", "type/invalid"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { wantErrors(t, fieldErrorsOf(t, tc.err), tc.want...) })
	}
}

func TestRoleRules(t *testing.T) {
	manager := Role{ID: "r1", Name: "Manager", Type: RolePreInstalled, Description: "d"}
	custom := Role{ID: "r2", Name: "Night", Type: RoleCustom, Description: "d"}
	with := func(r Role, change func(r *Role)) Role { change(&r); return r }
	tests := []struct {
		name string
		err  error
		want []string
	}{
		{"create custom", CheckRoleCreate(custom), nil},
		{"create primitive", CheckRoleCreate(Role{Name: "x", Type: RolePrimitive}), []string{"type/predefined"}},
		{"create pre-installed", CheckRoleCreate(Role{Name: "x", Type: RolePreInstalled}), []string{"type/predefined"}},
		{"create with a bad type", CheckRoleCreate(Role{Name: "x", Type: "weird"}), []string{"type/invalid"}},
		{"custom description change", CheckRoleUpdate(custom, with(custom, func(r *Role) { r.Description = "new" })), nil},
		{"custom rename", CheckRoleUpdate(custom, with(custom, func(r *Role) { r.Name = "Day" })), []string{"name/immutable"}},
		{"custom made primitive", CheckRoleUpdate(custom, with(custom, func(r *Role) { r.Type = RolePrimitive })), []string{"type/immutable"}},
		{"predefined description change", CheckRoleUpdate(manager, with(manager, func(r *Role) { r.Description = "new" })), []string{"description/predefined"}},
		{"predefined rename", CheckRoleUpdate(manager, with(manager, func(r *Role) { r.Name = "Boss" })), []string{"name/immutable"}},
		{"predefined unchanged", CheckRoleUpdate(manager, manager), nil},
		{"assign pre-installed", CheckRoleAssign(manager), nil},
		{"assign primitive", CheckRoleAssign(Role{Name: "itsm_user", Type: RolePrimitive}), nil},
		{"assign the implicit user role", CheckRoleAssign(Role{Name: "user", Type: RolePrimitive}), []string{"role_ids/not_allowed"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { wantErrors(t, fieldErrorsOf(t, tc.err), tc.want...) })
	}
}

func TestCustomerUser(t *testing.T) {
	g := testGraph([]string{"Portal"}, [2]string{"Portal", RoleNameCustomerUser})
	viaGroup := func(roles ...RoleID) Grants {
		return Grants{Groups: []GroupGrant{{Group: "g1", GroupName: "acme users", Roles: roles}}}
	}
	tests := []struct {
		name         string
		grants       Grants
		customer     CustomerID
		wantCustomer bool
		wantRefused  bool
	}{
		{"operator without customer", Grants{Direct: []RoleID{RoleNameItsmUser}}, "", false, false},
		{"operator with a customer is no customer user", Grants{Direct: []RoleID{RoleNameItsmUser}}, "c1", false, false},
		{"Customer User through a group, with customer", viaGroup(RoleNameCustomerUser), "c1", true, false},
		{"Customer User through a group, no customer", viaGroup(RoleNameCustomerUser), "", false, true},
		{"Customer Manager directly, no customer", Grants{Direct: []RoleID{RoleNameCustomerManager}}, "", false, true},
		{"primitive customer, no customer", Grants{Direct: []RoleID{RoleNameCustomer}}, "", false, true},
		{"custom role containing Customer User, no customer", viaGroup("Portal"), "", false, true},
		{"custom role containing Customer User, with customer", viaGroup("Portal"), "c1", true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			eff := g.Effective(tc.grants)
			if got := IsCustomerUser(eff, tc.customer); got != tc.wantCustomer {
				t.Errorf("IsCustomerUser = %v, want %v", got, tc.wantCustomer)
			}
			err := CheckCustomer(eff, tc.customer)
			if !tc.wantRefused {
				wantField(t, err, "", "")
				return
			}
			wantField(t, err, "customer_id", CodeRequired)
			if msg := err.Error(); !strings.Contains(msg, "Customer is missing") || !strings.Contains(msg, `"customer"`) {
				t.Errorf("message %q does not name the missing customer and the role", msg)
			}
		})
	}
}

func TestBilled(t *testing.T) {
	g := testGraph([]string{"Interns"}, [2]string{"Interns", RoleNameFreeUser})
	tests := []struct {
		name    string
		enabled bool
		grants  Grants
		want    bool
	}{
		{"enabled user is billed", true, Grants{Direct: []RoleID{RoleNameManager}}, true},
		{"disabled user is non-billed", false, Grants{Direct: []RoleID{RoleNameManager}}, false},
		{"free_user directly is non-billed", true, Grants{Direct: []RoleID{RoleNameFreeUser}}, false},
		{"free_user through a group's custom role is non-billed", true,
			Grants{Groups: []GroupGrant{{Group: "g", Roles: []RoleID{"Interns"}}}}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u := validUser()
			u.Enabled = tc.enabled
			if got := Billed(u, g.Effective(tc.grants)); got != tc.want {
				t.Fatalf("Billed = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestCustomerRules(t *testing.T) {
	valid := Customer{ID: "c1", Code: "ACME", State: CustomerValid}
	invalid := Customer{ID: "c2", Code: "OLD", State: CustomerInvalid}
	paused := Customer{ID: "c3", Code: "PAUSED", State: CustomerInvalidTemporarily}
	tests := []struct {
		name        string
		err         error
		field, code string
	}{
		{"valid customer for a new user", CheckCustomerChoice(valid, ""), "", ""},
		{"invalid customer for a new user", CheckCustomerChoice(invalid, ""), "customer_id", CodeInvalid},
		{"temporarily invalid customer newly chosen", CheckCustomerChoice(paused, "c1"), "customer_id", CodeInvalid},
		{"keeping an invalid current customer", CheckCustomerChoice(invalid, "c2"), "", ""},
		{"moving to a valid customer", CheckCustomerChoice(valid, "c2"), "", ""},
		{"customer code change", CheckCustomerUpdate(valid, Customer{ID: "c1", Code: "ACME2"}), "code", CodeImmutable},
		{"customer name change", CheckCustomerUpdate(valid, Customer{ID: "c1", Code: "ACME", Name: "Acme 2"}), "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { wantField(t, tc.err, tc.field, tc.code) })
	}
}
