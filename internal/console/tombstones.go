package console

import (
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strconv"

	"opsiam/internal/directory"
)

// The screens of a user create or mail change that meets deleted users
// who live on in the ITSM app (D2, D3; reference §6.3):
//
//   - choice screens A (same user name), B (customer user, same mail only),
//     C (customer user, both on one deleted user) and D (customer user, name
//     and mail on two deleted users): which deleted user, if any, the new
//     user takes over. The choice is posted as tomb_take (a tombstone id or
//     "none"); every deleted user not taken over must be renamed in the
//     fields that meet the change.
//   - rename screens E (new user name), F (new mail), G (both, one deleted
//     user) and H (two deleted users): the new values, posted as
//     tomb_username.ID and tomb_email.ID.
//
// Every screen carries the user form's values as hidden fields, and each
// step asks manage for the current tombstones (writing nothing); only the
// final OK calls CreateUserResolving / UpdateUserResolving with the
// resolution. The server checks every value again; Next and OK are merely
// disabled by console.js until a choice is made or the inputs are filled.

// Values of tomb_step (which screen posted) and tomb_go (which button).
const (
	tombStepChoose = "choose"
	tombStepRename = "rename"
	tombNone       = "none"
	tombBack       = "back"
	tombOK         = "ok"
)

// tombFlow is one create or edit that may meet tombstones.
type tombFlow struct {
	action  string // the form's action
	cancel  string // where Cancel leads
	user    directory.User
	preview func() (directory.TombstoneConflict, error)
	// save writes with the resolution and redirects on success.
	save func(res []directory.TombstoneResolution) error
	// form shows the user form again with the posted values.
	form func(status int) error
}

// tombScreen is the data of a choice or rename screen.
type tombScreen struct {
	Action, Cancel string
	Screen         string // A–H
	Intro          string
	Taking         string // rename screens: the deleted user taken over, if any
	Hidden         []hiddenField
	Tombstones     []directory.Tombstone
	Options        []tombOption // choice screens
	Chosen         string
	HasNext, HasOK bool
	Renames        []tombRename // rename screens
}

type hiddenField struct{ Name, Value string }

// tombOption is one choice: take over one deleted user (Value is its id)
// or none; Then lists what follows from it.
type tombOption struct {
	Value, Label string
	Then         []string
	Renames      bool // a rename screen follows (Next), else OK
}

// tombRename asks the new values of one deleted user.
type tombRename struct {
	ID                    directory.TombstoneID
	Who                   string
	Username, Email       bool
	NewUsername, NewEmail string
}

// saveUser runs flow f for the posted step.
func (c *Console) saveUser(w http.ResponseWriter, r *http.Request, v *view, f tombFlow) error {
	step, btn := r.PostFormValue("tomb_step"), r.PostFormValue("tomb_go")
	if step == "" {
		return c.tombSaved(w, r, v, f, nil, f.save(nil))
	}
	if step == tombStepChoose && btn == tombBack {
		return f.form(http.StatusOK)
	}
	tc, err := f.preview()
	if err != nil {
		if v.fieldErrors(err, userFields()...) {
			return f.form(http.StatusUnprocessableEntity)
		}
		return err
	}
	if tc.Empty() {
		// The deleted users were taken over or renamed meanwhile.
		v.Notice = v.T("tomb.gone")
		return f.form(http.StatusConflict)
	}
	choice := r.PostFormValue("tomb_take")
	if step == tombStepRename && btn == tombBack {
		return c.tombChoice(w, r, v, f, tc, choice, http.StatusOK)
	}
	if choice != tombNone && !slices.ContainsFunc(tc.Tombstones, func(t directory.Tombstone) bool { return string(t.ID) == choice }) {
		v.Fields["tomb_take"] = v.T("tomb.choose")
		return c.tombChoice(w, r, v, f, tc, "", http.StatusUnprocessableEntity)
	}
	res, renames := tombResolution(tc, choice, r)
	if step == tombStepChoose && len(renames) > 0 {
		return c.tombRename(w, r, v, f, tc, choice, renames, http.StatusOK)
	}
	if btn != tombOK {
		// Only OK writes: show the screen again (e.g. Next sent with a
		// take-over chosen).
		if step == tombStepRename && len(renames) > 0 {
			return c.tombRename(w, r, v, f, tc, choice, renames, http.StatusOK)
		}
		return c.tombChoice(w, r, v, f, tc, choice, http.StatusOK)
	}
	return c.tombSaved(w, r, v, f, res, f.save(res))
}

// tombSaved shows what a save with resolution res answered: nothing on
// success (save redirected), the choice screen for tombstones to decide,
// the refused values next to their fields on the screen they belong to.
func (c *Console) tombSaved(w http.ResponseWriter, r *http.Request, v *view, f tombFlow, res []directory.TombstoneResolution, err error) error {
	if err == nil {
		return nil
	}
	if tc, ok := asTombstoneConflict(err); ok {
		return c.tombChoice(w, r, v, f, tc, "", http.StatusConflict)
	}
	var fe directory.FieldErrors
	if !errors.As(err, &fe) || len(res) == 0 {
		if v.fieldErrors(err, userFields()...) {
			return f.form(http.StatusUnprocessableEntity)
		}
		return err
	}
	var user, choice directory.FieldErrors
	renameErr := false
	for _, e := range fe {
		m := resolutionField.FindStringSubmatch(e.Field)
		switch {
		case e.Field == "resolution":
			choice = append(choice, e)
		case m != nil:
			i, _ := strconv.Atoi(m[1])
			if i >= len(res) {
				choice = append(choice, e)
				continue
			}
			name := "tomb_" + m[2] + "." + string(res[i].TombstoneID)
			if _, dup := v.Fields[name]; !dup {
				v.Fields[name] = v.fieldMessage("tomb_"+m[2], e)
			}
			renameErr = true
		default:
			user = append(user, e)
		}
	}
	if len(user) > 0 {
		v.fieldErrors(user, userFields()...)
		return f.form(http.StatusUnprocessableEntity)
	}
	if len(choice) > 0 {
		// The situation changed since the choice: choose again.
		for _, e := range choice {
			v.Errors = append(v.Errors, v.fieldMessage("resolution", e))
		}
		tc, perr := f.preview()
		if perr != nil {
			return perr
		}
		if tc.Empty() {
			v.Notice = v.T("tomb.gone")
			return f.form(http.StatusConflict)
		}
		return c.tombChoice(w, r, v, f, tc, "", http.StatusUnprocessableEntity)
	}
	if renameErr {
		tc, perr := f.preview()
		if perr != nil {
			return perr
		}
		choice := r.PostFormValue("tomb_take")
		_, renames := tombResolution(tc, choice, r)
		return c.tombRename(w, r, v, f, tc, choice, renames, http.StatusUnprocessableEntity)
	}
	return err
}

// resolutionField reads "resolution[i].username" / "resolution[i].email".
var resolutionField = regexp.MustCompile(`^resolution\[(\d+)\]\.(username|email)$`)

// tombResolution turns a choice into a resolution: the chosen deleted user
// is taken over, every other one is renamed in the fields that meet the
// change, with the posted new values. renames lists what the rename screen
// asks.
func tombResolution(tc directory.TombstoneConflict, choice string, r *http.Request) ([]directory.TombstoneResolution, []tombRename) {
	var res []directory.TombstoneResolution
	var renames []tombRename
	for _, t := range tc.Tombstones {
		if string(t.ID) == choice {
			res = append(res, directory.TombstoneResolution{Action: directory.TombstoneTakeOver, TombstoneID: t.ID})
			continue
		}
		fields := renameFields(tc, t.ID)
		rn := tombRename{ID: t.ID, Who: who(t), Username: slices.Contains(fields, directory.TombstoneFieldUsername),
			Email: slices.Contains(fields, directory.TombstoneFieldEmail)}
		one := directory.TombstoneResolution{Action: directory.TombstoneRename, TombstoneID: t.ID}
		if rn.Username {
			rn.NewUsername = r.PostFormValue("tomb_username." + string(t.ID))
			one.Username = rn.NewUsername
		}
		if rn.Email {
			rn.NewEmail = r.PostFormValue("tomb_email." + string(t.ID))
			one.Email = rn.NewEmail
		}
		res = append(res, one)
		renames = append(renames, rn)
	}
	return res, renames
}

// renameFields returns the fields a rename of id changes.
func renameFields(tc directory.TombstoneConflict, id directory.TombstoneID) []string {
	for _, ch := range tc.Choices {
		if ch.Action == directory.TombstoneRename && ch.TombstoneID == id {
			return ch.Fields
		}
	}
	return nil
}

// takeOverAllowed reports whether id may be taken over.
func takeOverAllowed(tc directory.TombstoneConflict, id directory.TombstoneID) bool {
	for _, ch := range tc.Choices {
		if ch.Action == directory.TombstoneTakeOver && ch.TombstoneID == id {
			return true
		}
	}
	return false
}

// who names a deleted user on the screens.
func who(t directory.Tombstone) string { return t.Username + " <" + t.Email + ">" }

// choiceScreen names the choice screen of a case (reference §6.3).
func choiceScreen(c directory.TombstoneCase) string {
	switch c {
	case directory.TombstoneCaseUsername:
		return "A"
	case directory.TombstoneCaseEmail:
		return "B"
	case directory.TombstoneCaseSame:
		return "C"
	}
	return "D"
}

// renameScreen names the rename screen: E, F or G for one deleted user
// (user name, mail, both), H for several.
func renameScreen(renames []tombRename) string {
	if len(renames) != 1 {
		return "H"
	}
	switch rn := renames[0]; {
	case rn.Username && rn.Email:
		return "G"
	case rn.Username:
		return "E"
	}
	return "F"
}

// tombChoice shows the choice screen of tc.
func (c *Console) tombChoice(w http.ResponseWriter, r *http.Request, v *view, f tombFlow, tc directory.TombstoneConflict, chosen string, status int) error {
	s := c.tombBase(r, f, tc)
	s.Screen, s.Chosen = choiceScreen(tc.Case), chosen
	switch s.Screen {
	case "A":
		s.Intro = v.T("tomb.A.intro", f.user.Username)
	case "B":
		s.Intro = v.T("tomb.B.intro", f.user.Email)
	case "C":
		s.Intro = v.T("tomb.C.intro", f.user.Username, f.user.Email)
	default:
		s.Intro = v.T("tomb.D.intro", f.user.Username, f.user.Email)
	}
	thenRename := func(except directory.TombstoneID) []string {
		var out []string
		for _, t := range tc.Tombstones {
			if t.ID == except {
				continue
			}
			fields := renameFields(tc, t.ID)
			key := "tomb.then.email"
			if slices.Contains(fields, directory.TombstoneFieldUsername) {
				key = "tomb.then.username"
				if slices.Contains(fields, directory.TombstoneFieldEmail) {
					key = "tomb.then.both"
				}
			}
			out = append(out, v.T(key, who(t)))
		}
		return out
	}
	for _, t := range tc.Tombstones {
		if !takeOverAllowed(tc, t.ID) {
			continue
		}
		o := tombOption{Value: string(t.ID), Label: v.T("tomb.opt.take", who(t)), Then: []string{v.T("tomb.then.records")}}
		fields := renameFields(tc, t.ID)
		switch {
		case !slices.Contains(fields, directory.TombstoneFieldEmail) && directory.Key(t.Email) != directory.Key(f.user.Email):
			o.Then = append(o.Then, v.T("tomb.then.mailfollows", f.user.Email))
		case !slices.Contains(fields, directory.TombstoneFieldUsername):
			o.Then = append(o.Then, v.T("tomb.then.namefollows", f.user.Username))
		}
		rest := thenRename(t.ID)
		o.Then, o.Renames = append(o.Then, rest...), len(rest) > 0
		s.Options = append(s.Options, o)
	}
	none := tombOption{Value: tombNone, Label: v.T("tomb.opt.none"), Then: thenRename(""), Renames: true}
	if len(tc.Tombstones) > 1 {
		none.Label = v.T("tomb.opt.neither")
	}
	s.Options = append(s.Options, none)
	for _, o := range s.Options {
		s.HasNext = s.HasNext || o.Renames
		s.HasOK = s.HasOK || !o.Renames
	}
	v.Title, v.Nav, v.Data = "tomb."+s.Screen+".title", "users", s
	c.render(w, status, "tomb_choice", v)
	return nil
}

// tombRename shows the rename screen for the deleted users not taken over.
func (c *Console) tombRename(w http.ResponseWriter, r *http.Request, v *view, f tombFlow, tc directory.TombstoneConflict, chosen string, renames []tombRename, status int) error {
	s := c.tombBase(r, f, tc)
	s.Chosen, s.Renames, s.Screen = chosen, renames, renameScreen(renames)
	s.Intro = v.T("tomb.rename.intro")
	for _, t := range tc.Tombstones {
		if string(t.ID) == chosen {
			s.Taking = v.T("tomb.taking", who(t))
		}
	}
	v.Title, v.Nav, v.Data = "tomb."+s.Screen+".title", "users", s
	c.render(w, status, "tomb_rename", v)
	return nil
}

// tombBase fills what both screens show: the form's values as hidden
// fields and the deleted users met.
func (c *Console) tombBase(r *http.Request, f tombFlow, tc directory.TombstoneConflict) tombScreen {
	s := tombScreen{Action: f.action, Cancel: f.cancel, Tombstones: tc.Tombstones}
	for _, name := range append(userFields(), "version", "pi") {
		for _, val := range r.PostForm[name] {
			s.Hidden = append(s.Hidden, hiddenField{Name: name, Value: val})
		}
	}
	return s
}

// asTombstoneConflict reports whether err asks for tombstone choices.
func asTombstoneConflict(err error) (directory.TombstoneConflict, bool) {
	var tc directory.TombstoneConflict
	ok := errors.As(err, &tc)
	return tc, ok
}
