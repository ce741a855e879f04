package httpapi

import (
	"net/http"
	"time"

	"opsiam/internal/directory"
	"opsiam/internal/manage"
	"opsiam/internal/store"
)

func userID(r *http.Request) directory.UserID { return directory.UserID(r.PathValue("id")) }

// userPage renders a page of users with one query for all their roles.
func (a *API) userPage(r *http.Request, page store.Page[directory.User]) (list[userView], error) {
	ids := make([]directory.UserID, len(page.Items))
	for i, u := range page.Items {
		ids[i] = u.ID
	}
	roles, err := a.Manage.EffectiveRolesOf(r.Context(), ids)
	if err != nil {
		return list[userView]{}, err
	}
	out := list[userView]{Items: make([]userView, len(page.Items)), NextCursor: page.Next}
	for i, u := range page.Items {
		out.Items[i] = newUserView(u, roles[u.ID])
	}
	return out, nil
}

// view renders u with billed computed from its effective roles (B1).
func (a *API) view(r *http.Request, u directory.User) (userView, error) {
	roles, err := a.Manage.EffectiveRoles(r.Context(), u.ID)
	if err != nil {
		return userView{}, err
	}
	return newUserView(u, roles), nil
}

func (a *API) listUsers(w http.ResponseWriter, r *http.Request) error {
	if _, ok := actor(r).ReadScope(); !ok {
		return store.ErrNotFound // before the parameters are checked
	}
	limit, cursor, err := listParams(r)
	if err != nil {
		return err
	}
	enabled, err := boolParam(r, "enabled")
	if err != nil {
		return err
	}
	q := r.URL.Query()
	uq := store.UserQuery{UserFilter: store.UserFilter{Q: q.Get("q"), Username: q.Get("username"), Email: q.Get("email"),
		CustomerID: directory.CustomerID(q.Get("customer_id")), Enabled: enabled, Billing: q.Get("billing")},
		Sort: q.Get("sort"), Limit: limit, Cursor: cursor}
	page, err := a.Manage.ListUsers(r.Context(), actor(r), uq)
	if err != nil {
		return err
	}
	out, err := a.userPage(r, page)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (in userInput) patch() manage.UserPatch {
	return manage.UserPatch{Username: in.Username, Email: in.Email, FirstName: in.FirstName, LastName: in.LastName,
		Enabled: in.Enabled, EmailVerified: in.EmailVerified, OTPRequired: in.OTPRequired, Company: in.Company,
		Department: in.Department, Address: in.Address, Phone1: in.Phone1, Phone2: in.Phone2, Note: in.Note,
		CustomerID: in.CustomerID, Timezone: in.Timezone, ExternalID: in.ExternalID}
}

func (a *API) createUser(w http.ResponseWriter, r *http.Request) error {
	if err := actor(r).NeedUserWrite(); err != nil { // before the body is read: 404/403 rather than 422
		return err
	}
	var in userInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	u := directory.User{Enabled: true}
	in.patch().Apply(&u)
	created, err := a.Manage.CreateUserResolving(r.Context(), actor(r), u, in.Resolution)
	if err != nil {
		return err
	}
	v, err := a.view(r, created)
	if err != nil {
		return err
	}
	w.Header().Set("Location", Prefix+"/users/"+string(created.ID))
	return writeVersioned(w, http.StatusCreated, created.Version, v)
}

func (a *API) getUser(w http.ResponseWriter, r *http.Request) error {
	u, _, err := a.readableUser(r, userID(r))
	if err != nil {
		return err
	}
	v, err := a.view(r, u)
	if err != nil {
		return err
	}
	return writeVersioned(w, http.StatusOK, u.Version, v)
}

// updateUser serves PUT and PATCH alike: fields present in the body are
// set, absent ones kept. A customer_admin may change only enabled.
func (a *API) updateUser(w http.ResponseWriter, r *http.Request) error {
	_, scope, err := a.readableUser(r, userID(r))
	if err != nil {
		return err
	}
	var in userInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	version, err := ifMatch(r)
	if err != nil {
		return err
	}
	patch := in.patch()
	// The use case decides what this caller may change (a customer manager:
	// only enabled, in its customer; issue 13 rule 6).
	u, err := a.Manage.UpdateUserResolving(r.Context(), actor(r), scope, userID(r), version, patch, in.Resolution)
	if err != nil {
		return err
	}
	v, err := a.view(r, u)
	if err != nil {
		return err
	}
	return writeVersioned(w, http.StatusOK, u.Version, v)
}

func (a *API) deleteUser(w http.ResponseWriter, r *http.Request) error {
	if _, err := a.writableUser(r, userID(r)); err != nil {
		return err
	}
	version, err := ifMatch(r)
	if err != nil {
		return err
	}
	if err := a.Manage.DeleteUser(r.Context(), actor(r), directory.Scope{}, userID(r), version); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) userGroups(w http.ResponseWriter, r *http.Request) error {
	u, _, err := a.readableUser(r, userID(r))
	if err != nil {
		return err
	}
	groups, err := a.Manage.Store.UserGroups(r.Context(), u.ID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, list[groupView]{Items: groupViews(groups)})
}

func (a *API) userRoles(w http.ResponseWriter, r *http.Request) error {
	u, _, err := a.readableUser(r, userID(r))
	if err != nil {
		return err
	}
	roles, err := a.Manage.Store.UserRoles(r.Context(), u.ID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, list[roleView]{Items: roleViews(roles)})
}

func (a *API) userEffectiveRoles(w http.ResponseWriter, r *http.Request) error {
	u, _, err := a.readableUser(r, userID(r))
	if err != nil {
		return err
	}
	roles, err := a.Manage.EffectiveRoles(r.Context(), u.ID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, list[roleView]{Items: roleViews(roles.Roles())})
}

type stepView struct {
	Kind      string            `json:"kind"`
	GroupID   directory.GroupID `json:"group_id,omitempty"`
	GroupName string            `json:"group_name,omitempty"`
	RoleID    directory.RoleID  `json:"role_id"`
	RoleName  string            `json:"role_name"`
}

type pathView struct {
	Text  string     `json:"text"`
	Steps []stepView `json:"steps"`
}

type whyView struct {
	UserID directory.UserID `json:"user_id"`
	RoleID directory.RoleID `json:"role_id"`
	Held   bool             `json:"held"`
	Paths  []pathView       `json:"paths"`
	// Truncated: there are more than the paths listed (at most 100).
	Truncated bool `json:"truncated"`
}

// userWhy answers R6: the paths that grant a role to a user.
func (a *API) userWhy(w http.ResponseWriter, r *http.Request) error {
	u, _, err := a.readableUser(r, userID(r))
	if err != nil {
		return err
	}
	rid := directory.RoleID(r.PathValue("role_id"))
	paths, cut, err := a.Manage.WhyCut(r.Context(), u.ID, rid)
	if err != nil {
		return err
	}
	out := whyView{UserID: u.ID, RoleID: rid, Held: len(paths) > 0, Paths: make([]pathView, len(paths)), Truncated: cut}
	for i, p := range paths {
		pv := pathView{Text: p.String(), Steps: make([]stepView, len(p))}
		for k, s := range p {
			pv.Steps[k] = stepView{Kind: s.Kind, GroupID: s.Group, GroupName: s.GroupName, RoleID: s.Role, RoleName: s.RoleName}
		}
		out.Paths[i] = pv
	}
	return writeJSON(w, http.StatusOK, out)
}

func (a *API) assignUserRoles(w http.ResponseWriter, r *http.Request) error {
	if _, err := a.writableUser(r, userID(r)); err != nil {
		return err
	}
	var in roleIDsInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	if err := a.Manage.AssignUserRoles(r.Context(), actor(r), userID(r), in.RoleIDs); err != nil {
		return err
	}
	return a.userRoles(w, r)
}

func (a *API) unassignUserRole(w http.ResponseWriter, r *http.Request) error {
	if _, err := a.writableUser(r, userID(r)); err != nil {
		return err
	}
	if err := a.Manage.UnassignUserRole(r.Context(), actor(r), userID(r), directory.RoleID(r.PathValue("role_id"))); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type tokenView struct {
	UserID    directory.UserID `json:"user_id"`
	Token     string           `json:"token,omitempty"` // only in the answer to POST, once (A6)
	CreatedAt time.Time        `json:"created_at"`
	ExpiresAt *time.Time       `json:"expires_at"`
}

func newTokenView(t manage.TokenInfo, text string) tokenView {
	v := tokenView{UserID: t.UserID, Token: text, CreatedAt: t.CreatedAt}
	if !t.ExpiresAt.IsZero() {
		v.ExpiresAt = &t.ExpiresAt
	}
	return v
}

// tokenTarget checks token.admin; who cannot even read the user gets 404.
func (a *API) tokenTarget(r *http.Request) error {
	return a.Manage.TokenAccess(r.Context(), actor(r), userID(r))
}

func (a *API) getToken(w http.ResponseWriter, r *http.Request) error {
	t, err := a.Manage.TokenOf(r.Context(), actor(r), userID(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, newTokenView(t, ""))
}

type tokenInput struct {
	ExpiresAt *time.Time `json:"expires_at"`
}

// issueToken issues a platform token (A6); the body is optional.
func (a *API) issueToken(w http.ResponseWriter, r *http.Request) error {
	if err := a.tokenTarget(r); err != nil {
		return err
	}
	var in tokenInput
	if r.ContentLength != 0 {
		if err := decodeJSON(w, r, &in); err != nil {
			return err
		}
	}
	var exp time.Time
	if in.ExpiresAt != nil {
		exp = *in.ExpiresAt
	}
	text, info, err := a.Manage.IssueToken(r.Context(), actor(r), userID(r), exp)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, newTokenView(info, text))
}

func (a *API) revokeToken(w http.ResponseWriter, r *http.Request) error {
	if err := a.tokenTarget(r); err != nil {
		return err
	}
	if err := a.Manage.RevokeToken(r.Context(), actor(r), userID(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) unlockUser(w http.ResponseWriter, r *http.Request) error {
	if _, err := a.writableUser(r, userID(r)); err != nil {
		return err
	}
	u, err := a.Manage.Unlock(r.Context(), actor(r), directory.Scope{}, userID(r))
	if err != nil {
		return err
	}
	v, err := a.view(r, u)
	if err != nil {
		return err
	}
	return writeVersioned(w, http.StatusOK, u.Version, v)
}

// passwordReset sends a password-reset mail (A4); user_admin for anyone,
// customer_admin inside its customer. Answers 202: the mail is queued.
func (a *API) passwordReset(w http.ResponseWriter, r *http.Request) error {
	if _, _, err := a.readableUser(r, userID(r)); err != nil {
		return err
	}
	if err := a.Manage.ResetPassword(r.Context(), actor(r), directory.Scope{}, userID(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusAccepted)
	return nil
}

type bulkInput struct {
	Action string             `json:"action"`
	IDs    []directory.UserID `json:"ids"`
}

type bulkItem struct {
	ID     directory.UserID `json:"id"`
	Status int              `json:"status"`
	OK     bool             `json:"ok"`
	Error  *Problem         `json:"error,omitempty"`
}

// bulkUsers applies one action to many users (U6) and reports per item;
// the answer is 200 even when some items were refused.
func (a *API) bulkUsers(w http.ResponseWriter, r *http.Request) error {
	if _, ok := actor(r).ReadScope(); !ok {
		return store.ErrNotFound // before the body is read
	}
	var in bulkInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	// The use case decides who may do what to whom (issue 13).
	scope := directory.Scope{}
	results, err := a.Manage.Bulk(r.Context(), actor(r), scope, in.Action, in.IDs)
	if err != nil {
		return err
	}
	out := list[bulkItem]{Items: make([]bulkItem, len(results))}
	for i, res := range results {
		it := bulkItem{ID: res.ID, Status: http.StatusOK, OK: true}
		if in.Action == manage.BulkDelete {
			it.Status = http.StatusNoContent
		}
		if res.Err != nil {
			pr := problemFor(res.Err)
			if pr.Status >= 500 {
				a.logger().ErrorContext(r.Context(), "bulk item failed", "id", res.ID, "err", res.Err)
			}
			pr.Type = "about:blank"
			it = bulkItem{ID: res.ID, Status: pr.Status, Error: &pr}
		}
		out.Items[i] = it
	}
	return writeJSON(w, http.StatusOK, out)
}
