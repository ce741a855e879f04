package directory

import (
	"fmt"
	"slices"
)

// SkillConfig is the skills configuration of G7: skills, and skill sets
// that bundle skills and name the groups whose members may be given them.
// The configuration file (YAML) is parsed elsewhere; these are the rules.
type SkillConfig struct {
	Skills    []Skill    `json:"skills" yaml:"skills"`
	SkillSets []SkillSet `json:"skill_sets" yaml:"skill_sets"`
}

// Skill is one skill. Groups, if any, may be given this skill directly.
type Skill struct {
	Name        string   `json:"name" yaml:"name"`
	Description string   `json:"description,omitempty" yaml:"description"`
	Groups      []string `json:"groups,omitempty" yaml:"groups"`
}

// SkillSet bundles skills for the members of its groups.
type SkillSet struct {
	Name   string   `json:"name" yaml:"name"`
	Skills []string `json:"skills" yaml:"skills"`
	Groups []string `json:"groups" yaml:"groups"`
}

// Validate checks the configuration: names present and unique (ignoring
// case), skill sets naming only known skills, and every group name valid
// and never global (G5: global would expose every user). It reports every
// problem at once, with fields such as skill_sets[1].skills[0].
func (c SkillConfig) Validate() error {
	var errs FieldErrors
	skills := map[string]bool{}
	checkGroups := func(field string, groups []string) {
		for i, g := range groups {
			f := fmt.Sprintf("%s.groups[%d]", field, i)
			if Key(g) == GlobalGroupName {
				errs.add(f, CodeReserved, "Group %q cannot be named in the skill configuration: it contains every user.", g)
			} else if e := ValidateGroup(Group{Name: g}); len(e) > 0 {
				errs.add(f, CodeInvalid, "%q is not a valid group name.", g)
			}
		}
	}
	for i, s := range c.Skills {
		f := fmt.Sprintf("skills[%d]", i)
		switch k := Key(s.Name); {
		case k == "":
			errs.add(f+".name", CodeRequired, "Skill name is required.")
		case skills[k]:
			errs.add(f+".name", CodeInvalid, "Skill %q is defined twice.", s.Name)
		default:
			skills[k] = true
		}
		checkGroups(f, s.Groups)
	}
	sets := map[string]bool{}
	for i, s := range c.SkillSets {
		f := fmt.Sprintf("skill_sets[%d]", i)
		switch k := Key(s.Name); {
		case k == "":
			errs.add(f+".name", CodeRequired, "Skill set name is required.")
		case sets[k]:
			errs.add(f+".name", CodeInvalid, "Skill set %q is defined twice.", s.Name)
		default:
			sets[k] = true
		}
		for j, sk := range s.Skills {
			if !skills[Key(sk)] {
				errs.add(fmt.Sprintf("%s.skills[%d]", f, j), CodeInvalid, "Skill set %q names the unknown skill %q.", s.Name, sk)
			}
		}
		checkGroups(f, s.Groups)
	}
	return errs.Err()
}

// Known reports whether skill is defined (ignoring case).
func (c SkillConfig) Known(skill string) bool {
	return slices.ContainsFunc(c.Skills, func(s Skill) bool { return Key(s.Name) == Key(skill) })
}

// GroupsFor returns the names of the groups whose members may be given
// skill: the skill's own groups and those of every skill set holding it.
func (c SkillConfig) GroupsFor(skill string) []string {
	var out []string
	for _, s := range c.Skills {
		if Key(s.Name) == Key(skill) {
			out = append(out, s.Groups...)
		}
	}
	for _, set := range c.SkillSets {
		if slices.ContainsFunc(set.Skills, func(s string) bool { return Key(s) == Key(skill) }) {
			out = append(out, set.Groups...)
		}
	}
	return out
}

// CheckSkill decides G7: a user who is a member of the groups named
// userGroups may be given skill only if one of them is named for that skill
// in the configuration. Unknown skills are refused (field skill), users
// outside the groups too (field user_id).
func (c SkillConfig) CheckSkill(skill, username string, userGroups []string) error {
	if !c.Known(skill) {
		return fieldErr("skill", CodeInvalid, "Skill %q is not in the skill configuration.", skill)
	}
	allowed := c.GroupsFor(skill)
	for _, g := range userGroups {
		if slices.ContainsFunc(allowed, func(a string) bool { return Key(a) == Key(g) }) {
			return nil
		}
	}
	if len(allowed) == 0 {
		return fieldErr("user_id", CodeNotAllowed, "Skill %q names no groups, so nobody can be given it.", skill)
	}
	return fieldErr("user_id", CodeNotAllowed,
		"User %q cannot be given skill %q: only members of %s can.", username, skill, quoteList(allowed))
}
