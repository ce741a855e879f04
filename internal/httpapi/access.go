package httpapi

import (
	"errors"
	"net/http"

	"opsiam/internal/directory"
	"opsiam/internal/store"
)

// Access decisions for the platform's applications (C3–C5, G6, G7).
// Callers with user.read (an application's service account holding
// user_viewer, say) may ask about anyone; every user may ask about itself.

// Actions and resource types of POST /access/check.
const (
	ActionView           = "view"
	ActionAct            = "act"
	ResourceWorkflow     = "workflow"
	ResourceCatalogItem  = "catalog_item"
	reasonOperator       = "operator"
	reasonSameCustomer   = "same_customer"
	reasonOtherCustomer  = "other_customer"
	reasonUnrestricted   = "unrestricted"
	reasonListedCustomer = "listed_customer_or_group"
	reasonNotListed      = "not_listed"
)

type accessResource struct {
	Type        string                 `json:"type"`
	RequesterID directory.UserID       `json:"requester_id"`
	Customers   []directory.CustomerID `json:"customers"`
	Groups      []directory.GroupID    `json:"groups"`
}

type accessCheckInput struct {
	Subject  directory.UserID `json:"subject"`
	Action   string           `json:"action"`
	Resource accessResource   `json:"resource"`
}

type accessDecision struct {
	Allowed bool   `json:"allowed"`
	Reason  string `json:"reason"`
}

// subjectAllowed asks the use cases' policy whether the caller may ask
// about subject (manage.Caller.MayAskAbout).
func subjectAllowed(r *http.Request, subject directory.UserID) error {
	return actor(r).MayAskAbout(subject)
}

// accessCheck decides one access (C3, C4, C5).
func (a *API) accessCheck(w http.ResponseWriter, r *http.Request) error {
	var in accessCheckInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	var errs directory.FieldErrors
	if in.Subject == "" {
		errs = append(errs, directory.FieldError{Field: "subject", Code: directory.CodeRequired, Message: "subject (a user id) is required."})
	}
	if in.Action != ActionView && in.Action != ActionAct {
		errs = append(errs, directory.FieldError{Field: "action", Code: directory.CodeInvalid, Message: "action must be view or act."})
	}
	switch in.Resource.Type {
	case ResourceWorkflow:
		if in.Resource.RequesterID == "" {
			errs = append(errs, directory.FieldError{Field: "resource.requester_id", Code: directory.CodeRequired,
				Message: "resource.requester_id (the user who requested the workflow) is required."})
		}
	case ResourceCatalogItem:
		if in.Action != ActionView && in.Action != "" {
			errs = append(errs, directory.FieldError{Field: "action", Code: directory.CodeInvalid, Message: "Catalog items know only the action view."})
		}
	default:
		errs = append(errs, directory.FieldError{Field: "resource.type", Code: directory.CodeInvalid, Message: "resource.type must be workflow or catalog_item."})
	}
	if err := errs.Err(); err != nil {
		return err
	}
	if err := subjectAllowed(r, in.Subject); err != nil {
		return err
	}
	u, roles, err := a.Manage.Subject(r.Context(), in.Subject)
	if errors.Is(err, store.ErrNotFound) {
		return invalid("subject", directory.CodeInvalid, "User %q does not exist.", string(in.Subject))
	}
	if err != nil {
		return err
	}
	var d accessDecision
	switch in.Resource.Type {
	case ResourceWorkflow:
		scope := directory.SeparationScope(u, roles)
		if !u.Enabled {
			d = accessDecision{Reason: "disabled"}
			break
		}
		req, err := a.Manage.Requester(r.Context(), in.Resource.RequesterID)
		if err != nil {
			return err
		}
		d.Allowed = directory.CanActOnWorkflow(scope, req)
		switch {
		case !scope.Restricted():
			d.Reason = reasonOperator
		case d.Allowed:
			d.Reason = reasonSameCustomer
		default:
			d.Reason = reasonOtherCustomer
		}
	case ResourceCatalogItem:
		groups, err := a.Manage.Store.UserGroups(r.Context(), u.ID)
		if err != nil {
			return err
		}
		ids := make([]directory.GroupID, len(groups))
		for i, g := range groups {
			ids[i] = g.ID
		}
		item := directory.CatalogItem{Customers: in.Resource.Customers, Groups: in.Resource.Groups}
		d.Allowed = u.Enabled && directory.CanSeeCatalogItem(u.CustomerID, ids, item)
		switch {
		case !u.Enabled:
			d.Reason = "disabled"
		case len(item.Customers) == 0 && len(item.Groups) == 0:
			d.Reason = reasonUnrestricted
		case d.Allowed:
			d.Reason = reasonListedCustomer
		default:
			d.Reason = reasonNotListed
		}
	}
	return writeJSON(w, http.StatusOK, d)
}

type scopeView struct {
	UserID     directory.UserID      `json:"user_id"`
	Restricted bool                  `json:"restricted"`
	CustomerID *directory.CustomerID `json:"customer_id"`
}

func subjectParam(r *http.Request) (directory.UserID, error) {
	id := directory.UserID(r.URL.Query().Get("user_id"))
	if id == "" {
		return "", invalid("user_id", directory.CodeRequired, "user_id is required.")
	}
	return id, subjectAllowed(r, id)
}

// accessScope answers C5: whether the user is restricted to one customer,
// so that an application can filter its own queries.
func (a *API) accessScope(w http.ResponseWriter, r *http.Request) error {
	id, err := subjectParam(r)
	if err != nil {
		return err
	}
	u, roles, err := a.Manage.Subject(r.Context(), id)
	if err != nil {
		return err
	}
	s := directory.SeparationScope(u, roles)
	v := scopeView{UserID: u.ID, Restricted: s.Restricted()}
	if s.Restricted() {
		v.CustomerID = &s.Customer
	}
	return writeJSON(w, http.StatusOK, v)
}

type resourceUser struct {
	ID        directory.UserID `json:"id"`
	Username  string           `json:"username"`
	FirstName string           `json:"first_name"`
	LastName  string           `json:"last_name"`
	Email     string           `json:"email"`
}

type resourcesView struct {
	UserID directory.UserID `json:"user_id"`
	Groups []groupView      `json:"groups"`
	Items  []resourceUser   `json:"items"`
}

// accessResources answers G6: the people the user may assign work to.
func (a *API) accessResources(w http.ResponseWriter, r *http.Request) error {
	id, err := subjectParam(r)
	if err != nil {
		return err
	}
	if _, err := a.Manage.Store.GetUser(r.Context(), directory.Scope{}, id); err != nil {
		return err
	}
	res, err := a.Manage.ResourceList(r.Context(), id)
	if err != nil {
		return err
	}
	out := resourcesView{UserID: id, Groups: groupViews(res.Groups), Items: make([]resourceUser, len(res.Users))}
	for i, u := range res.Users {
		out.Items[i] = resourceUser{ID: u.ID, Username: u.Username, FirstName: u.FirstName, LastName: u.LastName, Email: u.Email}
	}
	return writeJSON(w, http.StatusOK, out)
}

// accessSkills shows the skills configuration (G7).
func (a *API) accessSkills(w http.ResponseWriter, r *http.Request) error {
	if err := needDirectoryRead(r); err != nil {
		return err
	}
	c := directory.SkillConfig{Skills: []directory.Skill{}, SkillSets: []directory.SkillSet{}}
	if a.Skills != nil {
		c.Skills = append(c.Skills, a.Skills.Skills...)
		c.SkillSets = append(c.SkillSets, a.Skills.SkillSets...)
	}
	return writeJSON(w, http.StatusOK, c)
}

type skillCheckInput struct {
	UserID directory.UserID `json:"user_id"`
	Skill  string           `json:"skill"`
}

// accessSkillCheck decides whether a skill may be given to a user (G7):
// 200 {"allowed": true}, or a 422 problem naming user_id (outside the
// groups) or skill (unknown).
func (a *API) accessSkillCheck(w http.ResponseWriter, r *http.Request) error {
	var in skillCheckInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	if in.UserID == "" {
		return invalid("user_id", directory.CodeRequired, "user_id is required.")
	}
	if err := subjectAllowed(r, in.UserID); err != nil {
		return err
	}
	if err := a.Manage.CheckSkill(r.Context(), a.Skills, in.UserID, in.Skill); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, accessDecision{Allowed: true, Reason: "member_of_skill_group"})
}
