// Package gitlabfake is an in-memory GitLab for tests: an http.Handler that
// serves the part of the GitLab REST API v4 the GitLab target uses, as the
// GitLab documentation describes it (docs.gitlab.com/api/groups,
// /api/members, /api/users): groups (list, get by id or URL-encoded path,
// create, update name and path with PUT /groups/:id, delete), group members (list with pagination headers, add with
// 409 "Member already exists", remove with 404 "Member Not Found") and the
// user lookup by user name. It can be told to fail with 500s for a while,
// and it records every change that took effect, so tests can check that
// nothing was lost or doubled.
package gitlabfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Change is one change that took effect, in the order it did.
type Change struct {
	Op    string // "group_created", "group_renamed", "group_deleted", "member_added", "member_removed"
	Group string // group path (the new one for a rename)
	User  string // user name, for member changes
	From  string // the path before a rename
}

func (c Change) String() string {
	if c.Op == "group_renamed" {
		return c.Op + " " + c.From + " -> " + c.Group
	}
	return c.Op + " " + c.Group + " " + c.User
}

type group struct {
	ID   int64
	Name string
	Path string
}

type user struct {
	ID       int64
	Username string
	Name     string
}

// Fake is the in-memory GitLab. Build it with New; serve it with httptest.
type Fake struct {
	token string

	mu       sync.Mutex
	nextID   int64
	groups   map[int64]*group
	users    map[int64]*user
	members  map[int64]map[int64]int // group id → user id → access level
	changes  []Change
	requests int
	failLeft int           // answer this many more requests with 500
	dups     int           // requests that found their change already made
	latency  time.Duration // added to every request
}

// New returns a fake that accepts only requests carrying token in the
// PRIVATE-TOKEN header (or as a Bearer token), as GitLab does.
func New(token string) *Fake {
	return &Fake{token: token, nextID: 100, groups: map[int64]*group{}, users: map[int64]*user{}, members: map[int64]map[int64]int{}}
}

// AddUser creates a GitLab user account and returns its id.
func (f *Fake) AddUser(username string) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	f.users[f.nextID] = &user{ID: f.nextID, Username: username, Name: "Name of " + username}
	return f.nextID
}

// DeleteUser removes a user account and its memberships, as GitLab does.
func (f *Fake) DeleteUser(username string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for id, u := range f.users {
		if strings.EqualFold(u.Username, username) {
			delete(f.users, id)
			for _, ms := range f.members {
				delete(ms, id)
			}
		}
	}
}

// FailNext makes the next n requests fail with 500.
func (f *Fake) FailNext(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failLeft = n
}

// SetLatency makes every request take at least d, like a real server.
func (f *Fake) SetLatency(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.latency = d
}

// Duplicates counts requests that asked for a change already made: adding
// an existing member (409), removing a missing member (404), creating a
// group whose path is taken (400), an update that changes nothing (200). A
// worker that delivers each event once causes none.
func (f *Fake) Duplicates() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.dups
}

// Changes returns the changes that took effect, in order.
func (f *Fake) Changes() []Change {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Change(nil), f.changes...)
}

// Requests counts the requests served (failed ones included).
func (f *Fake) Requests() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests
}

// Members returns the user names and access levels of a group's members.
func (f *Fake) Members(path string) map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	g := f.groupByRef(path)
	if g == nil {
		return nil
	}
	out := map[string]int{}
	for uid, level := range f.members[g.ID] {
		out[f.users[uid].Username] = level
	}
	return out
}

// GroupNames returns the names of the existing groups, sorted.
func (f *Fake) GroupNames() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, g := range f.groups {
		out = append(out, g.Name)
	}
	sort.Strings(out)
	return out
}

// message writes GitLab's error body: {"message": ...}.
func message(w http.ResponseWriter, code int, msg any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]any{"message": msg})
}

func reply(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// ServeHTTP routes the API v4 requests the target makes.
func (f *Fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	latency := f.latency
	f.mu.Unlock()
	time.Sleep(latency)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests++
	if f.failLeft > 0 {
		f.failLeft--
		message(w, http.StatusInternalServerError, "500 Internal Server Error")
		return
	}
	tok := r.Header.Get("PRIVATE-TOKEN")
	if tok == "" {
		tok = strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	}
	if tok != f.token {
		message(w, http.StatusUnauthorized, "401 Unauthorized")
		return
	}
	// Paths arrive with the group path URL-encoded in one segment
	// (groups/a%2Fb): split the escaped path, then unescape each part.
	raw := strings.TrimPrefix(r.URL.EscapedPath(), "/api/v4/")
	if raw == r.URL.EscapedPath() {
		message(w, http.StatusNotFound, "404 Not Found")
		return
	}
	var seg []string
	for _, s := range strings.Split(raw, "/") {
		u, err := url.PathUnescape(s)
		if err != nil {
			message(w, http.StatusBadRequest, "bad path")
			return
		}
		seg = append(seg, u)
	}
	switch {
	case len(seg) == 1 && seg[0] == "users" && r.Method == http.MethodGet:
		f.listUsers(w, r)
	case len(seg) == 1 && seg[0] == "groups" && r.Method == http.MethodGet:
		f.listGroups(w, r)
	case len(seg) == 1 && seg[0] == "groups" && r.Method == http.MethodPost:
		f.createGroup(w, r)
	case len(seg) == 2 && seg[0] == "groups" && r.Method == http.MethodGet:
		f.withGroup(w, seg[1], func(g *group) { reply(w, http.StatusOK, groupJSON(g)) })
	case len(seg) == 2 && seg[0] == "groups" && r.Method == http.MethodPut:
		f.withGroup(w, seg[1], func(g *group) { f.updateGroup(w, r, g) })
	case len(seg) == 2 && seg[0] == "groups" && r.Method == http.MethodDelete:
		f.withGroup(w, seg[1], func(g *group) {
			delete(f.groups, g.ID)
			delete(f.members, g.ID)
			f.changes = append(f.changes, Change{Op: "group_deleted", Group: g.Path})
			message(w, http.StatusAccepted, "202 Accepted")
		})
	case len(seg) == 3 && seg[0] == "groups" && seg[2] == "members" && r.Method == http.MethodGet:
		f.withGroup(w, seg[1], func(g *group) { f.listMembers(w, r, g) })
	case len(seg) == 3 && seg[0] == "groups" && seg[2] == "members" && r.Method == http.MethodPost:
		f.withGroup(w, seg[1], func(g *group) { f.addMember(w, r, g) })
	case len(seg) == 4 && seg[0] == "groups" && seg[2] == "members" && r.Method == http.MethodDelete:
		f.withGroup(w, seg[1], func(g *group) { f.removeMember(w, seg[3], g) })
	default:
		message(w, http.StatusNotFound, "404 Not Found")
	}
}

func groupJSON(g *group) map[string]any {
	return map[string]any{"id": g.ID, "name": g.Name, "path": g.Path, "full_path": g.Path, "full_name": g.Name,
		"visibility": "private", "parent_id": nil, "web_url": "https://gitlab.example/groups/" + g.Path}
}

// groupByRef finds a group by numeric id or by (full) path, ignoring case
// as GitLab's routes do.
func (f *Fake) groupByRef(ref string) *group {
	if id, err := strconv.ParseInt(ref, 10, 64); err == nil {
		return f.groups[id]
	}
	for _, g := range f.groups {
		if strings.EqualFold(g.Path, ref) {
			return g
		}
	}
	return nil
}

func (f *Fake) withGroup(w http.ResponseWriter, ref string, fn func(*group)) {
	g := f.groupByRef(ref)
	if g == nil {
		message(w, http.StatusNotFound, "404 Group Not Found")
		return
	}
	fn(g)
}

// params reads a request's parameters from the query and from a JSON or
// form body, as GitLab accepts both.
func params(r *http.Request) (map[string]string, error) {
	out := map[string]string{}
	for k, v := range r.URL.Query() {
		out[k] = v[0]
	}
	if r.Body == nil || r.ContentLength == 0 {
		return out, nil
	}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		var m map[string]any
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			return nil, err
		}
		for k, v := range m {
			switch v := v.(type) {
			case string:
				out[k] = v
			case float64:
				out[k] = strconv.FormatInt(int64(v), 10)
			case bool:
				out[k] = strconv.FormatBool(v)
			}
		}
		return out, nil
	}
	if err := r.ParseForm(); err != nil {
		return nil, err
	}
	for k, v := range r.PostForm {
		out[k] = v[0]
	}
	return out, nil
}

func (f *Fake) listUsers(w http.ResponseWriter, r *http.Request) {
	want := r.URL.Query().Get("username")
	out := []map[string]any{}
	for _, u := range f.users {
		if want == "" || strings.EqualFold(u.Username, want) {
			out = append(out, map[string]any{"id": u.ID, "username": u.Username, "name": u.Name, "state": "active"})
		}
	}
	reply(w, http.StatusOK, out)
}

func (f *Fake) listGroups(w http.ResponseWriter, r *http.Request) {
	search := strings.ToLower(r.URL.Query().Get("search"))
	out := []map[string]any{}
	for _, g := range f.groups {
		if search == "" || strings.Contains(strings.ToLower(g.Name), search) || strings.Contains(g.Path, search) {
			out = append(out, groupJSON(g))
		}
	}
	reply(w, http.StatusOK, out)
}

// createGroup answers 400 with GitLab's validation messages when name or
// path is missing or taken.
func (f *Fake) createGroup(w http.ResponseWriter, r *http.Request) {
	p, err := params(r)
	if err != nil {
		message(w, http.StatusBadRequest, "400 Bad request")
		return
	}
	name, path := p["name"], p["path"]
	if name == "" || path == "" {
		message(w, http.StatusBadRequest, "400 Bad request - name, path are missing")
		return
	}
	for _, g := range f.groups {
		if strings.EqualFold(g.Path, path) {
			f.dups++
			message(w, http.StatusBadRequest, map[string][]string{"path": {"has already been taken"}})
			return
		}
	}
	f.nextID++
	g := &group{ID: f.nextID, Name: name, Path: path}
	f.groups[g.ID] = g
	f.changes = append(f.changes, Change{Op: "group_created", Group: path})
	reply(w, http.StatusCreated, groupJSON(g))
}

// updateGroup is PUT /groups/:id for the attributes name and path
// (docs.gitlab.com/api/groups, "Update group attributes"): 200 with the
// group; 400 with GitLab's validation messages when a given name or path is
// empty, the path is not a valid path, or another group holds the path;
// members stay with the group. An update that changes nothing counts as a
// duplicate.
func (f *Fake) updateGroup(w http.ResponseWriter, r *http.Request, g *group) {
	p, err := params(r)
	if err != nil {
		message(w, http.StatusBadRequest, "400 Bad request")
		return
	}
	name, hasName := p["name"]
	path, hasPath := p["path"]
	errs := map[string][]string{}
	if hasName && name == "" {
		errs["name"] = []string{"can't be blank"}
	}
	if hasPath && !validPath(path) {
		errs["path"] = []string{"can contain only letters, digits, '_', '-' and '.'. Cannot start with '-', end in '.git' or end in '.atom'"}
	}
	if hasPath {
		for _, o := range f.groups {
			if o.ID != g.ID && strings.EqualFold(o.Path, path) {
				errs["path"] = []string{"has already been taken"}
			}
		}
	}
	if len(errs) > 0 {
		message(w, http.StatusBadRequest, errs)
		return
	}
	from := g.Path
	changed := false
	if hasName && name != g.Name {
		g.Name, changed = name, true
	}
	if hasPath && path != g.Path {
		g.Path, changed = path, true
	}
	if changed {
		f.changes = append(f.changes, Change{Op: "group_renamed", Group: g.Path, From: from})
	} else {
		f.dups++
	}
	reply(w, http.StatusOK, groupJSON(g))
}

// validPath applies GitLab's namespace path rule: letters, digits, "_",
// "-", "."; not starting with "-", not ending in ".", ".git" or ".atom".
func validPath(p string) bool {
	if p == "" || p[0] == '-' || strings.HasSuffix(p, ".") || strings.HasSuffix(p, ".git") || strings.HasSuffix(p, ".atom") {
		return false
	}
	for _, r := range p {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.", r)) {
			return false
		}
	}
	return true
}

func (f *Fake) memberJSON(uid int64, level int) map[string]any {
	u := f.users[uid]
	return map[string]any{"id": u.ID, "username": u.Username, "name": u.Name, "state": "active", "access_level": level}
}

// listMembers pages as GitLab does: page and per_page parameters, X-Page,
// X-Per-Page, X-Total, X-Total-Pages and X-Next-Page headers.
func (f *Fake) listMembers(w http.ResponseWriter, r *http.Request, g *group) {
	var ids []int64
	for uid := range f.members[g.ID] {
		ids = append(ids, uid)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	per, _ := strconv.Atoi(r.URL.Query().Get("per_page"))
	if page < 1 {
		page = 1
	}
	if per < 1 || per > 100 {
		per = 20
	}
	pages := (len(ids) + per - 1) / per
	out := []map[string]any{}
	for i := (page - 1) * per; i < len(ids) && i < page*per; i++ {
		out = append(out, f.memberJSON(ids[i], f.members[g.ID][ids[i]]))
	}
	h := w.Header()
	h.Set("X-Page", strconv.Itoa(page))
	h.Set("X-Per-Page", strconv.Itoa(per))
	h.Set("X-Total", strconv.Itoa(len(ids)))
	h.Set("X-Total-Pages", strconv.Itoa(pages))
	if page < pages {
		h.Set("X-Next-Page", strconv.Itoa(page+1))
	} else {
		h.Set("X-Next-Page", "")
	}
	reply(w, http.StatusOK, out)
}

func (f *Fake) addMember(w http.ResponseWriter, r *http.Request, g *group) {
	p, err := params(r)
	if err != nil {
		message(w, http.StatusBadRequest, "400 Bad request")
		return
	}
	uid, _ := strconv.ParseInt(p["user_id"], 10, 64)
	level, lerr := strconv.Atoi(p["access_level"])
	if p["user_id"] == "" || p["access_level"] == "" {
		message(w, http.StatusBadRequest, "400 Bad request - user_id, access_level are missing")
		return
	}
	if lerr != nil || !validLevel(level) {
		message(w, http.StatusBadRequest, "400 Bad request - access_level does not have a valid value")
		return
	}
	if f.users[uid] == nil {
		message(w, http.StatusNotFound, "404 User Not Found")
		return
	}
	if f.members[g.ID] == nil {
		f.members[g.ID] = map[int64]int{}
	}
	if _, ok := f.members[g.ID][uid]; ok {
		f.dups++
		message(w, http.StatusConflict, "Member already exists")
		return
	}
	f.members[g.ID][uid] = level
	f.changes = append(f.changes, Change{Op: "member_added", Group: g.Path, User: f.users[uid].Username})
	reply(w, http.StatusCreated, f.memberJSON(uid, level))
}

func validLevel(l int) bool {
	switch l {
	case 5, 10, 15, 20, 30, 40, 50:
		return true
	}
	return false
}

func (f *Fake) removeMember(w http.ResponseWriter, ref string, g *group) {
	uid, err := strconv.ParseInt(ref, 10, 64)
	if err != nil {
		message(w, http.StatusNotFound, "404 Not Found")
		return
	}
	if _, ok := f.members[g.ID][uid]; !ok {
		f.dups++
		message(w, http.StatusNotFound, "404 Member Not Found")
		return
	}
	name := f.users[uid].Username
	delete(f.members[g.ID], uid)
	f.changes = append(f.changes, Change{Op: "member_removed", Group: g.Path, User: name})
	w.WriteHeader(http.StatusNoContent)
}

// String summarises the fake's state for test failure messages.
func (f *Fake) String() string {
	return fmt.Sprintf("gitlabfake: %d groups, %d changes, %d requests", len(f.GroupNames()), len(f.Changes()), f.Requests())
}
