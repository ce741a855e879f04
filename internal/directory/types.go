package directory

import (
	"strings"
	"time"
)

// UserID, GroupID, RoleID and CustomerID are opaque identifiers (SPEC §7).
type (
	UserID     string
	GroupID    string
	RoleID     string
	CustomerID string
)

// Reserved names (U10, G4).
const (
	AdminUsername   = "admin"
	GlobalGroupName = "global"
)

// User is a person who signs in to the platform (U1). Password and OTP
// secrets are not part of it: they live with the auth package. The JSON
// names are the API's (SPEC §7), so that audit records show them too.
type User struct {
	ID            UserID     `json:"id"`
	Username      string     `json:"username"` // U2: unique ignoring case, never changed
	Email         string     `json:"email"`    // U3: unique ignoring case among existing users
	FirstName     string     `json:"first_name"`
	LastName      string     `json:"last_name"`
	Enabled       bool       `json:"enabled"`
	EmailVerified bool       `json:"email_verified"`
	OTPRequired   bool       `json:"otp_required"`
	Company       string     `json:"company"`
	Department    string     `json:"department"`
	Address       string     `json:"address"`
	Phone1        string     `json:"phone1"`
	Phone2        string     `json:"phone2"`
	Note          string     `json:"note"`
	CustomerID    CustomerID `json:"customer_id"`    // empty: not attached to a customer
	Timezone      string     `json:"timezone"`       // IANA zone name
	Locked        bool       `json:"locked"`         // derived from the lockout state when read
	ITSMSignedIn  bool       `json:"itsm_signed_in"` // T1: has signed in to the ITSM app at least once
	LastLoginAt   time.Time  `json:"last_login_at"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
	Version       int64      `json:"version"` // bumped by every update; the API's ETag
	// ExternalID is the identifier a provisioning client (SCIM externalId,
	// P4) gave the user in its own system; opsiam only stores it.
	ExternalID string `json:"external_id"`
}

// IsReserved reports whether u is the reserved admin user (U10).
func (u User) IsReserved() bool { return Key(u.Username) == AdminUsername }

// Group is a set of users that can hold roles and relate to other groups (G1).
type Group struct {
	ID          GroupID   `json:"id"`
	Name        string    `json:"name"`
	Email       string    `json:"email"`
	Description string    `json:"description"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	Version     int64     `json:"version"`
	ExternalID  string    `json:"external_id"` // a provisioning client's identifier (SCIM externalId, P4)
}

// IsReserved reports whether g is the reserved group global (G4).
func (g Group) IsReserved() bool { return Key(g.Name) == GlobalGroupName }

// RoleType tells where a role comes from (R1).
type RoleType string

// The three role types of R1, spelled as in the API (SPEC §7).
const (
	RolePrimitive    RoleType = "primitive"
	RolePreInstalled RoleType = "preinstalled"
	RoleCustom       RoleType = "custom"
)

// Valid reports whether t is one of the known role types.
func (t RoleType) Valid() bool {
	return t == RolePrimitive || t == RolePreInstalled || t == RoleCustom
}

// Predefined reports whether roles of this type are installed by the server (R2).
func (t RoleType) Predefined() bool { return t == RolePrimitive || t == RolePreInstalled }

// Role is a named permission or bundle of roles (R1–R3).
type Role struct {
	ID          RoleID    `json:"id"`
	Name        string    `json:"name"`
	Type        RoleType  `json:"type"`
	Description string    `json:"description"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	Version     int64     `json:"version"`
}

// CustomerState is the validity of a customer (C1).
type CustomerState string

// Customer states, spelled as in the API (SPEC §7).
const (
	CustomerValid              CustomerState = "valid"
	CustomerInvalid            CustomerState = "invalid"
	CustomerInvalidTemporarily CustomerState = "invalid_temporarily"
)

// Valid reports whether s is a known customer state.
func (s CustomerState) Valid() bool {
	return s == CustomerValid || s == CustomerInvalid || s == CustomerInvalidTemporarily
}

// Customer is a company served by the platform (C1). Customers are never
// deleted, only made invalid.
type Customer struct {
	ID        CustomerID    `json:"id"`
	Code      string        `json:"code"` // the CustomerID of the ITSM app: unique, never changed
	Name      string        `json:"name"`
	Street    string        `json:"street"`
	Zip       string        `json:"zip"`
	City      string        `json:"city"`
	Country   string        `json:"country"`
	URL       string        `json:"url"`
	Comment   string        `json:"comment"`
	State     CustomerState `json:"state"`
	CreatedAt time.Time     `json:"created_at"`
	UpdatedAt time.Time     `json:"updated_at"`
	Version   int64         `json:"version"`
}

// RelationType is the kind of a group relation (G5), seen from the origin group.
type RelationType string

// Relation types, spelled as in the API (SPEC §7).
const (
	RelationManage  RelationType = "manage"  // origin manages related
	RelationManaged RelationType = "managed" // origin is managed by related
	RelationBoth    RelationType = "both"    // each manages the other
)

// Valid reports whether t is a known relation type.
func (t RelationType) Valid() bool {
	return t == RelationManage || t == RelationManaged || t == RelationBoth
}

// Containment says that role Parent contains role Child (R3).
type Containment struct {
	Parent RoleID
	Child  RoleID
}

// GroupRelation links two groups (G5). A group may relate to itself.
type GroupRelation struct {
	From GroupID
	To   GroupID
	Type RelationType
}

// Manages returns the (manager, managed) pairs that r stands for.
func (r GroupRelation) Manages() [][2]GroupID {
	switch r.Type {
	case RelationManage:
		return [][2]GroupID{{r.From, r.To}}
	case RelationManaged:
		return [][2]GroupID{{r.To, r.From}}
	case RelationBoth:
		if r.From == r.To {
			return [][2]GroupID{{r.From, r.To}}
		}
		return [][2]GroupID{{r.From, r.To}, {r.To, r.From}}
	}
	return nil
}

// Scope limits a query to what a caller may see (C3, customer_admin in §8).
// The zero value sees every customer.
type Scope struct {
	Customer CustomerID
}

// Restricted reports whether s limits queries to one customer.
func (s Scope) Restricted() bool { return s.Customer != "" }

// Key is the case-folded form under which names and mail addresses are
// compared and kept unique (U2, U3, G1, role and customer names).
func Key(s string) string { return strings.ToLower(strings.TrimSpace(s)) }
