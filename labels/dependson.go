package labels

import (
	"fmt"
	"sort"
	"strings"
)

// Dependency is one entry of the DependsOn label: a service this container's
// service depends on, the condition it waits for, and whether it restarts
// when that service restarts.
type Dependency struct {
	Service   string
	Condition string
	Restart   bool
}

// EncodeDependsOn renders dependencies as docker compose writes the
// DependsOn label: "service:condition:restart" entries, sorted, joined by
// commas. The value enters the config hash and docker compose reads it, so
// the format must not change.
func EncodeDependsOn(deps []Dependency) string {
	entries := make([]string, 0, len(deps))
	for _, d := range deps {
		entries = append(entries, fmt.Sprintf("%s:%s:%t", d.Service, d.Condition, d.Restart))
	}
	sort.Strings(entries)
	return strings.Join(entries, ",")
}

// DecodeDependsOn parses a DependsOn label. Labels are written by other
// tools and older releases too, so it is lenient: a missing condition or
// restart part reads as empty or false, and entries it cannot make sense
// of (empty, no service name, too many parts) are skipped rather than
// failing the command that reads them.
func DecodeDependsOn(value string) []Dependency {
	var out []Dependency
	for _, entry := range strings.Split(value, ",") {
		parts := strings.Split(strings.TrimSpace(entry), ":")
		if parts[0] == "" || len(parts) > 3 {
			continue
		}
		d := Dependency{Service: parts[0]}
		if len(parts) > 1 {
			d.Condition = parts[1]
		}
		if len(parts) > 2 {
			d.Restart = parts[2] == "true"
		}
		out = append(out, d)
	}
	return out
}
