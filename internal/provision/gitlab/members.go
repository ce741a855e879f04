package gitlab

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	gl "gitlab.com/gitlab-org/api/client-go"
)

// accessNames are GitLab's names of its access levels.
var accessNames = map[gl.AccessLevelValue]string{
	gl.NoPermissions:            "No Access",
	gl.MinimalAccessPermissions: "Minimal Access",
	gl.GuestPermissions:         "Guest",
	gl.PlannerPermissions:       "Planner",
	gl.ReporterPermissions:      "Reporter",
	gl.DeveloperPermissions:     "Developer",
	gl.MaintainerPermissions:    "Maintainer",
	gl.OwnerPermissions:         "Owner",
}

// AccessName is GitLab's name of an access level ("Developer"); unknown
// levels are shown as their number.
func AccessName(level int) string {
	if n, ok := accessNames[gl.AccessLevelValue(level)]; ok {
		return n
	}
	return fmt.Sprintf("Level %d", level)
}

// Member is one row of a group's Git members tab (G2, P2).
// Its JSON form serves the API (snake_case, SPEC §7).
type Member struct {
	Username    string `json:"username"`
	Name        string `json:"name"`         // display name in GitLab; empty if not a GitLab member
	AccessLevel int    `json:"access_level"` // 0: no access
	Role        string `json:"role"`         // "Developer", …, "No Access"
	InOpsiam    bool   `json:"in_opsiam"`    // a member of the opsiam group
	InGitLab    bool   `json:"in_gitlab"`    // a member of the GitLab group
}

// Members lists the Git members of an opsiam group (G2): every member of
// the GitLab group with its access level, and every opsiam member
// (usernames) that GitLab does not list, with "No Access" (its GitLab
// account is gone, or it never had one). If the GitLab group does not
// exist, every opsiam member has no access. Sorted by user name.
func (t *Target) Members(ctx context.Context, group string, usernames []string) ([]Member, error) {
	byName := map[string]*Member{}
	opt := &gl.ListGroupMembersOptions{ListOptions: gl.ListOptions{PerPage: 100, Page: 1}}
	for {
		ms, resp, err := t.c.Groups.ListGroupMembers(Path(group), opt, gl.WithContext(ctx))
		if errors.Is(err, gl.ErrNotFound) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("gitlab: members of %s: %w", Path(group), err)
		}
		for _, m := range ms {
			byName[strings.ToLower(m.Username)] = &Member{Username: m.Username, Name: m.Name,
				AccessLevel: int(m.AccessLevel), Role: AccessName(int(m.AccessLevel)), InGitLab: true}
		}
		if resp == nil || resp.NextPage == 0 {
			break
		}
		opt.Page = resp.NextPage
	}
	for _, u := range usernames {
		m, ok := byName[strings.ToLower(u)]
		if !ok {
			m = &Member{Username: u, Role: AccessName(0)}
			byName[strings.ToLower(u)] = m
		}
		m.InOpsiam = true
	}
	out := make([]Member, 0, len(byName))
	for _, m := range byName {
		out = append(out, *m)
	}
	sort.Slice(out, func(i, j int) bool { return strings.ToLower(out[i].Username) < strings.ToLower(out[j].Username) })
	return out, nil
}
