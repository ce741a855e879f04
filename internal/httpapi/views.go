package httpapi

import (
	"encoding/json"
	"time"

	"opsiam/internal/directory"
	"opsiam/internal/store"
)

// The JSON shapes of SPEC §7 (snake_case, ids as strings).

type userView struct {
	ID            directory.UserID     `json:"id"`
	Username      string               `json:"username"`
	Email         string               `json:"email"`
	FirstName     string               `json:"first_name"`
	LastName      string               `json:"last_name"`
	Enabled       bool                 `json:"enabled"`
	EmailVerified bool                 `json:"email_verified"`
	OTPRequired   bool                 `json:"otp_required"`
	Company       string               `json:"company"`
	Department    string               `json:"department"`
	Address       string               `json:"address"`
	Phone1        string               `json:"phone1"`
	Phone2        string               `json:"phone2"`
	Note          string               `json:"note"`
	CustomerID    directory.CustomerID `json:"customer_id"`
	Timezone      string               `json:"timezone"`
	Locked        bool                 `json:"locked"`
	Billed        bool                 `json:"billed"`
	CreatedAt     time.Time            `json:"created_at"`
	UpdatedAt     time.Time            `json:"updated_at"`
	ExternalID    string               `json:"external_id"`
	// LastLoginAt is the last sign-in at /login (null before the first);
	// ITSMSignedIn tells whether the user has signed in to the ITSM app
	// (T1). Both read-only (SPEC §9).
	LastLoginAt  *time.Time `json:"last_login_at"`
	ITSMSignedIn bool       `json:"itsm_signed_in"`
}

func newUserView(u directory.User, roles directory.RoleSet) userView {
	return userView{ID: u.ID, Username: u.Username, Email: u.Email, FirstName: u.FirstName, LastName: u.LastName,
		Enabled: u.Enabled, EmailVerified: u.EmailVerified, OTPRequired: u.OTPRequired, Company: u.Company,
		Department: u.Department, Address: u.Address, Phone1: u.Phone1, Phone2: u.Phone2, Note: u.Note,
		CustomerID: u.CustomerID, Timezone: u.Timezone, Locked: u.Locked, Billed: directory.Billed(u, roles),
		CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt, ExternalID: u.ExternalID, LastLoginAt: timeOrNil(u.LastLoginAt),
		ITSMSignedIn: u.ITSMSignedIn}
}

func timeOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// userInput is the body of POST /users and PATCH/PUT /users/{id}.
type userInput struct {
	Username      *string               `json:"username"`
	Email         *string               `json:"email"`
	FirstName     *string               `json:"first_name"`
	LastName      *string               `json:"last_name"`
	Enabled       *bool                 `json:"enabled"`
	EmailVerified *bool                 `json:"email_verified"`
	OTPRequired   *bool                 `json:"otp_required"`
	Company       *string               `json:"company"`
	Department    *string               `json:"department"`
	Address       *string               `json:"address"`
	Phone1        *string               `json:"phone1"`
	Phone2        *string               `json:"phone2"`
	Note          *string               `json:"note"`
	CustomerID    *directory.CustomerID `json:"customer_id"`
	Timezone      *string               `json:"timezone"`
	ExternalID    *string               `json:"external_id"`
	// Resolution holds the client's choices for the tombstones a create or
	// mail change meets (D3), repeated after a 409.
	Resolution []directory.TombstoneResolution `json:"resolution"`
}

type groupView struct {
	ID          directory.GroupID `json:"id"`
	Name        string            `json:"name"`
	Email       string            `json:"email"`
	Description string            `json:"description"`
	Reserved    bool              `json:"reserved"`
	CreatedAt   time.Time         `json:"created_at"`
	UpdatedAt   time.Time         `json:"updated_at"`
	ExternalID  string            `json:"external_id"`
}

func newGroupView(g directory.Group) groupView {
	return groupView{ID: g.ID, Name: g.Name, Email: g.Email, Description: g.Description, Reserved: g.IsReserved(),
		CreatedAt: g.CreatedAt, UpdatedAt: g.UpdatedAt, ExternalID: g.ExternalID}
}

type groupInput struct {
	Name        *string `json:"name"`
	Email       *string `json:"email"`
	Description *string `json:"description"`
	ExternalID  *string `json:"external_id"`
}

type roleView struct {
	ID          directory.RoleID   `json:"id"`
	Name        string             `json:"name"`
	Type        directory.RoleType `json:"type"`
	Description string             `json:"description"`
	CreatedAt   time.Time          `json:"created_at"`
	UpdatedAt   time.Time          `json:"updated_at"`
}

func newRoleView(r directory.Role) roleView {
	return roleView{ID: r.ID, Name: r.Name, Type: r.Type, Description: r.Description, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

func roleViews(rs []directory.Role) []roleView {
	out := make([]roleView, len(rs))
	for i, r := range rs {
		out[i] = newRoleView(r)
	}
	return out
}

func groupViews(gs []directory.Group) []groupView {
	out := make([]groupView, len(gs))
	for i, g := range gs {
		out[i] = newGroupView(g)
	}
	return out
}

type roleInput struct {
	Name        *string             `json:"name"`
	Type        *directory.RoleType `json:"type"`
	Description *string             `json:"description"`
}

type customerView struct {
	ID        directory.CustomerID    `json:"id"`
	Code      string                  `json:"code"`
	Name      string                  `json:"name"`
	Street    string                  `json:"street"`
	Zip       string                  `json:"zip"`
	City      string                  `json:"city"`
	Country   string                  `json:"country"`
	URL       string                  `json:"url"`
	Comment   string                  `json:"comment"`
	State     directory.CustomerState `json:"state"`
	CreatedAt time.Time               `json:"created_at"`
	UpdatedAt time.Time               `json:"updated_at"`
}

func newCustomerView(c directory.Customer) customerView {
	return customerView{ID: c.ID, Code: c.Code, Name: c.Name, Street: c.Street, Zip: c.Zip, City: c.City,
		Country: c.Country, URL: c.URL, Comment: c.Comment, State: c.State, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
}

type customerInput struct {
	Code    *string                  `json:"code"`
	Name    *string                  `json:"name"`
	Street  *string                  `json:"street"`
	Zip     *string                  `json:"zip"`
	City    *string                  `json:"city"`
	Country *string                  `json:"country"`
	URL     *string                  `json:"url"`
	Comment *string                  `json:"comment"`
	State   *directory.CustomerState `json:"state"`
}

// list is the shape of every list answer (SPEC §7).
type list[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor"`
}

func newList[T, V any](p store.Page[T], view func(T) V) list[V] {
	out := list[V]{Items: make([]V, len(p.Items)), NextCursor: p.Next}
	for i, it := range p.Items {
		out.Items[i] = view(it)
	}
	return out
}

type auditView struct {
	ID         string          `json:"id"`
	At         time.Time       `json:"at"`
	ActorID    string          `json:"actor_id"`
	ActorName  string          `json:"actor_name"`
	Action     string          `json:"action"`
	TargetType string          `json:"target_type"`
	TargetID   string          `json:"target_id"`
	Source     string          `json:"source"`
	Before     json.RawMessage `json:"before"`
	After      json.RawMessage `json:"after"`
}

func newAuditView(r store.AuditRecord) auditView {
	v := auditView{ID: r.ID, At: r.At, ActorID: r.ActorID, ActorName: r.ActorName, Action: r.Action,
		TargetType: r.TargetType, TargetID: r.TargetID, Source: r.Source, Before: r.Before, After: r.After}
	if len(v.Before) == 0 {
		v.Before = json.RawMessage("null")
	}
	if len(v.After) == 0 {
		v.After = json.RawMessage("null")
	}
	return v
}

// idsInput is the body of the link endpoints (SPEC §7).
type roleIDsInput struct {
	RoleIDs []directory.RoleID `json:"role_ids"`
}

type userIDsInput struct {
	UserIDs []directory.UserID `json:"user_ids"`
}

type relationInput struct {
	GroupID directory.GroupID      `json:"group_id"`
	Type    directory.RelationType `json:"type"`
}

// relationView is a group relation seen from the listed group (G5): the
// other group and the type as if POSTed from here.
type relationView struct {
	GroupID directory.GroupID      `json:"group_id"`
	Type    directory.RelationType `json:"type"`
}

func newRelationView(here directory.GroupID, rel directory.GroupRelation) relationView {
	if rel.From == here {
		return relationView{GroupID: rel.To, Type: rel.Type}
	}
	t := rel.Type
	switch t {
	case directory.RelationManage:
		t = directory.RelationManaged
	case directory.RelationManaged:
		t = directory.RelationManage
	}
	return relationView{GroupID: rel.From, Type: t}
}
