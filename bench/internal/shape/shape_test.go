package shape

import (
	"strings"
	"testing"
)

func TestShapes(t *testing.T) {
	t.Parallel()
	sizes := map[string]int{"fan10": 10, "fan200": 200, "chain20": 20, "layers4x8": 32, "healthy5": 5, "job10": 11}
	for name, want := range sizes {
		p, err := Build(name, DefaultImage)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Services) != want {
			t.Errorf("%s: %d services, want %d", name, len(p.Services), want)
		}
		leaf := p.Leaf()
		for _, s := range p.Services {
			for _, d := range s.DependsOn {
				if d.Service == leaf {
					t.Errorf("%s: leaf %s has dependent %s", name, leaf, s.Name)
				}
				if _, ok := p.Service(d.Service); !ok {
					t.Errorf("%s: %s depends on unknown %s", name, s.Name, d.Service)
				}
			}
		}
		changed := p.WithGen(1)
		a, _ := p.Service(leaf)
		b, _ := changed.Service(leaf)
		if a.ConfigHash(p.Image) == b.ConfigHash(p.Image) {
			t.Errorf("%s: changing the leaf kept its hash", name)
		}
		if !strings.Contains(string(changed.ComposeYAML()), GenEnv+`: "1"`) {
			t.Errorf("%s: changed compose file lacks the new value", name)
		}
		if a.Env[GenEnv] != "0" {
			t.Errorf("%s: WithGen changed the original project", name)
		}
	}
	if _, err := Build("nope", DefaultImage); err == nil {
		t.Error("unknown shape accepted")
	}
}
