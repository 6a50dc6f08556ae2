package orchestrator

import (
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
)

func hashBase() types.ServiceConfig {
	one := 1
	s := types.ServiceConfig{Name: "web", Scale: &one, Deploy: &types.DeployConfig{Replicas: &one}}
	s.Image = "nginx:1.27"
	s.Command = types.ShellCommand{"nginx", "-g", "daemon off;"}
	s.Environment = types.NewMappingWithEquals([]string{"A=1", "B=2"})
	s.Labels = types.Labels{"x": "y"}
	return s
}

func TestServiceHash(t *testing.T) {
	t.Parallel()
	three := 3
	tests := []struct {
		name    string
		change  func(s *types.ServiceConfig)
		changes bool
	}{
		{"build", func(s *types.ServiceConfig) { s.Build = &types.BuildConfig{Context: "."} }, false},
		{"pull_policy", func(s *types.ServiceConfig) { s.PullPolicy = types.PullPolicyAlways }, false},
		{"scale", func(s *types.ServiceConfig) { s.Scale = &three }, false},
		{"deploy.replicas", func(s *types.ServiceConfig) { s.Deploy.Replicas = &three }, false},
		{"depends_on", func(s *types.ServiceConfig) {
			s.DependsOn = types.DependsOnConfig{"db": {Condition: types.ServiceConditionHealthy, Required: true}}
		}, false},
		{"profiles", func(s *types.ServiceConfig) { s.Profiles = []string{"debug"} }, false},
		{"image", func(s *types.ServiceConfig) { s.Image = "nginx:1.28" }, true},
		{"command", func(s *types.ServiceConfig) { s.Command = types.ShellCommand{"nginx", "-t"} }, true},
		{"environment value", func(s *types.ServiceConfig) { s.Environment = types.NewMappingWithEquals([]string{"A=1", "B=3"}) }, true},
		{"environment added", func(s *types.ServiceConfig) {
			s.Environment = types.NewMappingWithEquals([]string{"A=1", "B=2", "C=3"})
		}, true},
		{"labels", func(s *types.ServiceConfig) { s.Labels = types.Labels{"x": "z"} }, true},
		{"deploy.resources", func(s *types.ServiceConfig) {
			s.Deploy.Resources.Limits = &types.Resource{MemoryBytes: 1 << 20}
		}, true},
	}
	base, err := ServiceHash(hashBase())
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := hashBase()
			tt.change(&s)
			got, err := ServiceHash(s)
			if err != nil {
				t.Fatal(err)
			}
			if changed := got != base; changed != tt.changes {
				t.Errorf("changing %s: hash changed = %t, want %t", tt.name, changed, tt.changes)
			}
		})
	}
}

func TestServiceHashDeterministic(t *testing.T) {
	t.Parallel()
	// Maps (environment, labels) iterate in random order; the hash must
	// not depend on it, nor on the caller's copy being modified.
	s := hashBase()
	s.Environment = types.NewMappingWithEquals([]string{"A=1", "B=2", "C=3", "D=4", "E=5", "F=6"})
	s.Labels = types.Labels{"a": "1", "b": "2", "c": "3", "d": "4"}
	first, err := ServiceHash(s)
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != 64 {
		t.Errorf("hash %q is not hex sha256", first)
	}
	for range 50 {
		if got, _ := ServiceHash(s); got != first {
			t.Fatalf("ServiceHash not deterministic: %s then %s", first, got)
		}
	}
	if s.Deploy.Replicas == nil || s.Scale == nil {
		t.Errorf("ServiceHash modified its argument: %+v", s)
	}
}

// The hash of a loaded project's service does not change on reload, and
// a service's scale or dependencies set in YAML do not enter it.
func TestServiceHashFromYAML(t *testing.T) {
	t.Parallel()
	a := loadYAML(t, "proj", `
services:
  web:
    image: nginx
    environment: {A: "1"}
    depends_on: [db]
    scale: 2
    pull_policy: always
    profiles: [x]
  db:
    image: postgres
`)
	b := loadYAML(t, "proj", `
services:
  web:
    image: nginx
    environment: {A: "1"}
  db:
    image: postgres
`)
	ha, err := ServiceHash(a.DisabledServices["web"])
	if err != nil {
		t.Fatal(err)
	}
	hb, err := ServiceHash(b.Services["web"])
	if err != nil {
		t.Fatal(err)
	}
	if ha != hb {
		t.Errorf("hash differs with depends_on/scale/pull_policy/profiles: %s vs %s", ha, hb)
	}
}
