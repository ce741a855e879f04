package directory

import "testing"

func TestSkillConfig(t *testing.T) {
	c := SkillConfig{
		Skills: []Skill{{Name: "linux"}, {Name: "network"}, {Name: "db", Groups: []string{"DBA"}}, {Name: "orphan"}},
		SkillSets: []SkillSet{
			{Name: "infra", Skills: []string{"Linux", "network"}, Groups: []string{"Ops Team", "SRE"}},
		},
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, skill string
		groups      []string
		field       string // "" when allowed
	}{
		{"member of a skill set group", "linux", []string{"global", "ops team"}, ""},
		{"member of a skill's own group", "db", []string{"DBA"}, ""},
		{"outside the groups", "linux", []string{"global", "DBA"}, "user_id"},
		{"skill named by no group", "orphan", []string{"Ops Team"}, "user_id"},
		{"unknown skill", "cooking", []string{"Ops Team"}, "skill"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := c.CheckSkill(tc.skill, "alice", tc.groups)
			if tc.field == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			fe, _ := err.(FieldErrors)
			if len(fe) != 1 || fe[0].Field != tc.field {
				t.Fatalf("want error on %s, got %v", tc.field, err)
			}
		})
	}
	bad := SkillConfig{
		Skills:    []Skill{{Name: "a"}, {Name: "A"}, {Name: ""}},
		SkillSets: []SkillSet{{Name: "s", Skills: []string{"b"}, Groups: []string{"global", "!bad"}}},
	}
	fe, _ := bad.Validate().(FieldErrors)
	for _, want := range []struct{ field, code string }{
		{"skills[1].name", CodeInvalid}, {"skills[2].name", CodeRequired},
		{"skill_sets[0].skills[0]", CodeInvalid}, {"skill_sets[0].groups[0]", CodeReserved},
		{"skill_sets[0].groups[1]", CodeInvalid},
	} {
		if !fe.Has(want.field, want.code) {
			t.Errorf("missing %s/%s in %v", want.field, want.code, fe)
		}
	}
}
