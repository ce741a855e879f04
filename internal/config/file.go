package config

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// The configuration file (SPEC §9, O3): --config FILE or OPSIAM_CONFIG, a
// YAML mapping whose keys are the flag names without the dashes ("addr",
// "database", "smtp-addr", …). It sits under the environment: flags beat
// environment beat file beat defaults. Every flag reads its OPSIAM_*
// variable through getenv, so the file is one more layer of getenv: a
// variable that is not set takes the file's value of its flag.

// configPath finds the file a command line or the environment names.
func configPath(args []string, getenv func(string) string) string {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			break
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || name != "config" {
			continue
		}
		if hasValue {
			return value
		}
		if i+1 < len(args) {
			return args[i+1]
		}
	}
	return getenv("OPSIAM_CONFIG")
}

// readConfigFile reads path into flag name → value. Unknown keys, lists
// and nested mappings are errors naming the key.
func readConfigFile(path string, flags map[string]bool) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	var raw map[string]any
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("config %s: not a YAML mapping of flag names to values: %v", path, err)
	}
	out := map[string]string{}
	var errs []error
	for k, v := range raw {
		switch {
		case k == "config" || !flags[k]:
			known := make([]string, 0, len(flags))
			for f := range flags {
				if f != "config" {
					known = append(known, f)
				}
			}
			slices.Sort(known)
			errs = append(errs, fmt.Errorf("config %s: unknown key %q (keys are flag names without dashes: %s)", path, k, strings.Join(known, ", ")))
		case v == nil:
		default:
			switch v.(type) {
			case map[string]any, []any:
				errs = append(errs, fmt.Errorf("config %s: key %q: want a single value", path, k))
			default:
				out[k] = fmt.Sprint(v)
			}
		}
	}
	slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
	return out, errors.Join(errs...)
}

// withFile layers the file's values under the environment.
func withFile(getenv func(string) string, file map[string]string) func(string) string {
	return func(key string) string {
		if v := getenv(key); v != "" {
			return v
		}
		name, ok := strings.CutPrefix(key, "OPSIAM_")
		if !ok {
			return ""
		}
		return file[strings.ToLower(strings.ReplaceAll(name, "_", "-"))]
	}
}
