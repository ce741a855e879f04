// Package gitlab is the GitLab provisioning target (SPEC P2) on the official
// client gitlab.com/gitlab-org/api/client-go: a new opsiam group becomes a
// GitLab group of the same name, memberships become GitLab group
// memberships with a default access level, and the Git members tab (G2)
// reads members and access levels back. Every operation is idempotent, so
// the worker may repeat a delivery after a crash without doubling anything.
package gitlab

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	gl "gitlab.com/gitlab-org/api/client-go"

	"opsiam/internal/provision"
	"opsiam/internal/store"
)

// Config is what the GitLab target needs (SPEC §7: OPSIAM_GITLAB_URL,
// OPSIAM_GITLAB_TOKEN).
type Config struct {
	URL   string // GitLab's base URL, e.g. https://gitlab.example.com
	Token string // a personal or service-account access token with admin rights
	// AccessLevel given to members added by opsiam; default 30 (Developer).
	AccessLevel int
	// SkipGroups are opsiam groups not mirrored; default ["global"], which
	// holds every user (U4, G4).
	SkipGroups []string
	HTTPClient *http.Client // optional
}

// Target mirrors groups and memberships to GitLab. Build it with New.
type Target struct {
	c     *gl.Client
	level gl.AccessLevelValue
	skip  []string
}

var _ provision.Target = (*Target)(nil)

// New builds the target. The client's own retries are off: the outbox
// worker retries with back-off and records failures (P1).
func New(cfg Config) (*Target, error) {
	if cfg.URL == "" {
		return nil, errors.New("gitlab-url: required")
	}
	if cfg.Token == "" {
		return nil, errors.New("gitlab-token: required")
	}
	level := cfg.AccessLevel
	if level == 0 {
		level = int(gl.DeveloperPermissions)
	}
	if _, ok := accessNames[gl.AccessLevelValue(level)]; !ok || level == 0 {
		return nil, fmt.Errorf("gitlab access level %d: want 5, 10, 15, 20, 30, 40 or 50", level)
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	c, err := gl.NewClient(cfg.Token, gl.WithBaseURL(strings.TrimSuffix(cfg.URL, "/")+"/api/v4"),
		gl.WithHTTPClient(hc), gl.WithoutRetries())
	if err != nil {
		return nil, fmt.Errorf("gitlab client: %w", err)
	}
	skip := cfg.SkipGroups
	if skip == nil {
		skip = []string{"global"}
	}
	return &Target{c: c, level: gl.AccessLevelValue(level), skip: skip}, nil
}

// Name is the target's name in delivery records.
func (t *Target) Name() string { return "gitlab" }

// Handles group creation, renames and deletion and membership changes.
func (t *Target) Handles(topic string) bool {
	switch topic {
	case provision.TopicGroupCreated, provision.TopicGroupUpdated, provision.TopicGroupDeleted,
		provision.TopicMemberAdded, provision.TopicMemberRemoved:
		return true
	}
	return false
}

// payload holds the fields of the group topics (see provision/target.go).
type payload struct {
	GroupID   string `json:"group_id"`
	Name      string `json:"name"`          // group.created, group.updated, group.deleted
	Previous  string `json:"previous_name"` // group.updated
	GroupName string `json:"group_name"`    // member events
	UserID    string `json:"user_id"`
	Username  string `json:"username"`
}

// Deliver applies one event to GitLab. An event whose payload cannot be
// read is permanent: retrying would not help.
func (t *Target) Deliver(ctx context.Context, e store.Event) error {
	var p payload
	if err := json.Unmarshal(e.Payload, &p); err != nil {
		return fmt.Errorf("gitlab: payload of %s: %v: %w", e.Topic, err, provision.ErrPermanent)
	}
	group := p.GroupName
	if e.Topic == provision.TopicGroupCreated || e.Topic == provision.TopicGroupUpdated || e.Topic == provision.TopicGroupDeleted {
		group = p.Name
	}
	if group == "" {
		return fmt.Errorf("gitlab: %s without a group name: %w", e.Topic, provision.ErrPermanent)
	}
	if slices.ContainsFunc(t.skip, func(s string) bool { return strings.EqualFold(s, group) }) {
		return nil
	}
	switch e.Topic {
	case provision.TopicGroupCreated:
		return t.ensureGroup(ctx, group)
	case provision.TopicGroupUpdated:
		return t.renameGroup(ctx, p.Previous, group)
	case provision.TopicGroupDeleted:
		return t.deleteGroup(ctx, group)
	case provision.TopicMemberAdded:
		return t.addMember(ctx, group, p.Username)
	case provision.TopicMemberRemoved:
		return t.removeMember(ctx, group, p.Username)
	}
	return nil
}

// ensureGroup creates the group unless a group with its path exists. A
// group of that path but another name is a clash no retry fixes.
func (t *Target) ensureGroup(ctx context.Context, name string) error {
	path := Path(name)
	check := func() (bool, error) {
		g, _, err := t.c.Groups.GetGroup(path, nil, gl.WithContext(ctx))
		switch {
		case errors.Is(err, gl.ErrNotFound):
			return false, nil
		case err != nil:
			return false, fmt.Errorf("gitlab: get group %s: %w", path, err)
		case g.Name != name:
			return true, fmt.Errorf("gitlab: path %s is taken by group %q, not %q: %w", path, g.Name, name, provision.ErrPermanent)
		}
		return true, nil
	}
	if exists, err := check(); exists || err != nil {
		return err
	}
	_, _, err := t.c.Groups.CreateGroup(&gl.CreateGroupOptions{Name: gl.Ptr(name), Path: gl.Ptr(path)}, gl.WithContext(ctx))
	if err == nil {
		return nil
	}
	// Created meanwhile (by a delivery whose answer was lost)? Then done.
	if exists, cerr := check(); exists || cerr != nil {
		return cerr
	}
	return classify(fmt.Errorf("gitlab: create group %s: %w", path, err))
}

func (t *Target) deleteGroup(ctx context.Context, name string) error {
	_, err := t.c.Groups.DeleteGroup(Path(name), nil, gl.WithContext(ctx))
	if err != nil && !errors.Is(err, gl.ErrNotFound) {
		return classify(fmt.Errorf("gitlab: delete group %s: %w", Path(name), err))
	}
	return nil
}

// userID finds the GitLab user with this user name; 0 if there is none.
func (t *Target) userID(ctx context.Context, username string) (int64, error) {
	if username == "" {
		return 0, fmt.Errorf("gitlab: member event without a user name: %w", provision.ErrPermanent)
	}
	us, _, err := t.c.Users.ListUsers(&gl.ListUsersOptions{Username: gl.Ptr(username)}, gl.WithContext(ctx))
	if err != nil {
		return 0, fmt.Errorf("gitlab: find user %s: %w", username, err)
	}
	for _, u := range us {
		if strings.EqualFold(u.Username, username) {
			return u.ID, nil
		}
	}
	return 0, nil
}

// addMember adds the user with the default access level. "Member already
// exists" (409) is success; a group missing in GitLab is created first. A user without a GitLab account is skipped:
// not every platform user uses GitLab, and the members tab shows them as
// "No Access".
func (t *Target) addMember(ctx context.Context, group, username string) error {
	id, err := t.userID(ctx, username)
	if err != nil || id == 0 {
		return err
	}
	add := func() error {
		_, _, err := t.c.GroupMembers.AddGroupMember(Path(group), &gl.AddGroupMemberOptions{
			UserID: gl.Ptr(id), AccessLevel: gl.Ptr(t.level),
		}, gl.WithContext(ctx))
		if err == nil || status(err) == http.StatusConflict {
			return nil
		}
		return err
	}
	err = add()
	if errors.Is(err, gl.ErrNotFound) {
		// The group is missing in GitLab (made before GitLab was switched
		// on, or deleted there): create it, then add once more.
		if gerr := t.ensureGroup(ctx, group); gerr != nil {
			return gerr
		}
		err = add()
	}
	if err != nil {
		return classify(fmt.Errorf("gitlab: add %s to %s: %w", username, Path(group), err))
	}
	return nil
}

// removeMember removes the user; a member, user or group already gone is success.
func (t *Target) removeMember(ctx context.Context, group, username string) error {
	id, err := t.userID(ctx, username)
	if err != nil || id == 0 {
		return err
	}
	_, err = t.c.GroupMembers.RemoveGroupMember(Path(group), id, nil, gl.WithContext(ctx))
	if err != nil && !errors.Is(err, gl.ErrNotFound) {
		return classify(fmt.Errorf("gitlab: remove %s from %s: %w", username, Path(group), err))
	}
	return nil
}

// status reads the HTTP status of a client error; 0 if there is none.
func status(err error) int {
	var er *gl.ErrorResponse
	if errors.As(err, &er) && er.Response != nil {
		return er.Response.StatusCode
	}
	if errors.Is(err, gl.ErrNotFound) {
		return http.StatusNotFound
	}
	return 0
}

// classify marks client errors that retrying cannot fix (400, 403, 422) as
// permanent; 401 stays retryable (a token can be fixed), as do 404, 409,
// 429 and 5xx.
func classify(err error) error {
	switch status(err) {
	case http.StatusBadRequest, http.StatusForbidden, http.StatusUnprocessableEntity:
		return fmt.Errorf("%w: %w", err, provision.ErrPermanent)
	}
	return err
}
