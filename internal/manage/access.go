package manage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"opsiam/internal/directory"
	"opsiam/internal/store"
)

// Subject loads a user and its effective roles for an access decision.
func (s *Service) Subject(ctx context.Context, id directory.UserID) (directory.User, directory.RoleSet, error) {
	u, err := s.Store.GetUser(ctx, directory.Scope{}, id)
	if err != nil {
		return u, directory.RoleSet{}, err
	}
	roles, err := s.EffectiveRoles(ctx, id)
	return u, roles, err
}

// Requester describes the requester of a workflow for C3; a requester that
// no longer exists is the zero Requester (a customer user may then not act).
func (s *Service) Requester(ctx context.Context, id directory.UserID) (directory.Requester, error) {
	u, roles, err := s.Subject(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return directory.Requester{}, nil
	}
	if err != nil {
		return directory.Requester{}, err
	}
	return directory.NewRequester(u, roles), nil
}

// Resources is a user's resource list (G6): the groups its groups manage
// and their members.
type Resources struct {
	Groups []directory.Group
	Users  []directory.User
}

// ResourceList returns the members of every group that one of the user's
// groups manages (G6), each user once, sorted by user name.
func (s *Service) ResourceList(ctx context.Context, id directory.UserID) (Resources, error) {
	groups, err := s.Store.UserGroups(ctx, id)
	if err != nil {
		return Resources{}, err
	}
	var mine []directory.GroupID
	var rels []directory.GroupRelation
	for _, g := range groups {
		mine = append(mine, g.ID)
		r, err := s.Store.GroupRelations(ctx, g.ID)
		if err != nil {
			return Resources{}, err
		}
		rels = append(rels, r...)
	}
	var out Resources
	seen := map[directory.UserID]bool{}
	for _, gid := range directory.ManagedGroups(mine, rels) {
		g, err := s.Store.GetGroup(ctx, gid)
		if err != nil {
			return Resources{}, err
		}
		out.Groups = append(out.Groups, g)
		cursor := ""
		for {
			page, err := s.Store.ListMembers(ctx, directory.Scope{}, gid, store.ListQuery{Limit: store.MaxLimit, Cursor: cursor})
			if err != nil {
				return Resources{}, err
			}
			for _, u := range page.Items {
				if !seen[u.ID] {
					seen[u.ID] = true
					out.Users = append(out.Users, u)
				}
			}
			if cursor = page.Next; cursor == "" {
				break
			}
		}
	}
	slices.SortFunc(out.Users, func(a, b directory.User) int {
		return strings.Compare(directory.Key(a.Username), directory.Key(b.Username))
	})
	slices.SortFunc(out.Groups, func(a, b directory.Group) int { return strings.Compare(directory.Key(a.Name), directory.Key(b.Name)) })
	return out, nil
}

// ParseSkills reads a skills configuration (G7) from YAML (JSON, being
// YAML, works too) and validates it. Unknown keys are refused.
func ParseSkills(data []byte) (*directory.SkillConfig, error) {
	var c directory.SkillConfig
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("skills configuration: %w", err)
	}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("skills configuration: %w", err)
	}
	return &c, nil
}

// CheckSkill decides whether skill may be given to a user (G7): only
// members of the groups the configuration names for it may have it.
func (s *Service) CheckSkill(ctx context.Context, c *directory.SkillConfig, id directory.UserID, skill string) error {
	u, err := s.Store.GetUser(ctx, directory.Scope{}, id)
	if err != nil {
		return notFoundAs(err, "user_id", "User", id)
	}
	groups, err := s.Store.UserGroups(ctx, id)
	if err != nil {
		return err
	}
	names := make([]string, len(groups))
	for i, g := range groups {
		names[i] = g.Name
	}
	if c == nil {
		c = &directory.SkillConfig{}
	}
	return c.CheckSkill(skill, u.Username, names)
}
