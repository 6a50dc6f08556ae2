package shape

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestShapes(t *testing.T) {
	t.Parallel()
	sizes := map[string]int{"fan10": 10, "fan200": 200, "chain20": 20, "layers4x8": 32, "healthy5": 5, "job10": 11,
		"hchain5": 5, "airflow": 8, "reads10": 10, "reads200": 200, "reads500": 500}
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

func TestHealthyChain(t *testing.T) {
	t.Parallel()
	p, err := Build("hchain5", DefaultImage)
	if err != nil {
		t.Fatal(err)
	}
	if p.Wait || p.Reads {
		t.Error("hchain5 is an ordinary cycle")
	}
	for i, s := range p.Services {
		h := s.Health
		if h == nil || h.Interval != 5*time.Second || h.Timeout != 2*time.Second || h.Retries != 3 || h.StartPeriod != 0 {
			t.Errorf("%s: healthcheck %+v", s.Name, h)
		}
		if !slices.Equal(s.Command, []string{"healthy-after", "200ms", "/healthy"}) {
			t.Errorf("%s: command %q", s.Name, s.Command)
		}
		switch {
		case i == 0 && len(s.DependsOn) != 0:
			t.Errorf("%s: first level depends on %v", s.Name, s.DependsOn)
		case i > 0 && (len(s.DependsOn) != 1 || s.DependsOn[0] != Dep{p.Services[i-1].Name, Healthy}):
			t.Errorf("%s: depends on %v", s.Name, s.DependsOn)
		}
	}
	y := string(p.ComposeYAML())
	for _, want := range []string{"interval: 5s", "timeout: 2s", "retries: 3", "condition: service_healthy"} {
		if !strings.Contains(y, want) {
			t.Errorf("compose file lacks %q", want)
		}
	}
	if strings.Contains(y, "start_period") {
		t.Error("start_period written although it is 0")
	}
}

func TestAirflow(t *testing.T) {
	t.Parallel()
	p, err := Build("airflow", DefaultImage)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Wait {
		t.Error("airflow is measured with --wait")
	}
	deps := func(s Service) map[string]Condition {
		m := map[string]Condition{}
		for _, d := range s.DependsOn {
			m[d.Service] = d.Condition
		}
		return m
	}
	stores := map[string]Condition{"postgres": Healthy, "redis": Healthy}
	for _, s := range p.Services {
		d := deps(s)
		switch s.Name {
		case "postgres", "redis":
			if s.Health == nil || s.Health.Interval != 10*time.Second || len(d) != 0 {
				t.Errorf("%s: %+v", s.Name, s)
			}
		case "airflow-init":
			if !s.OneShot || s.Health != nil || !mapsEqual(d, stores) {
				t.Errorf("%s: %+v", s.Name, s)
			}
		default:
			want := map[string]Condition{"postgres": Healthy, "redis": Healthy, "airflow-init": Completed}
			if s.Name == "airflow-worker" {
				want["airflow-apiserver"] = Healthy
			}
			if !mapsEqual(d, want) {
				t.Errorf("%s: depends on %v, want %v", s.Name, d, want)
			}
			if s.Health == nil || s.Health.Interval != 30*time.Second {
				t.Errorf("%s: healthcheck %+v", s.Name, s.Health)
			}
		}
		if s.Health != nil {
			after, err := time.ParseDuration(s.Command[1])
			if s.Command[0] != "healthy-after" || err != nil || after < 200*time.Millisecond || after > 500*time.Millisecond {
				t.Errorf("%s: command %q", s.Name, s.Command)
			}
		}
	}
	if api, _ := p.Service("airflow-apiserver"); len(api.Ports) != 1 {
		t.Errorf("apiserver publishes %v", api.Ports)
	}
	if !strings.Contains(string(p.ComposeYAML()), `"127.0.0.1::8080"`) {
		t.Error("compose file lacks the apiserver's port")
	}
}

func mapsEqual(a, b map[string]Condition) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestReads(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"reads10", "reads200", "reads500"} {
		p, err := Build(name, DefaultImage)
		if err != nil {
			t.Fatal(err)
		}
		if !p.Reads || p.Wait {
			t.Errorf("%s: Reads %v Wait %v", name, p.Reads, p.Wait)
		}
		rs, ok := p.Service(p.ReadService)
		if !ok || !slices.Contains(rs.Ports, p.ReadPort) {
			t.Errorf("%s: port service %s does not publish %d", name, p.ReadService, p.ReadPort)
		}
		ports, levels := 0, map[string]int{}
		for _, s := range p.Services {
			if s.Health == nil {
				t.Errorf("%s: %s has no healthcheck", name, s.Name)
			}
			if len(s.Ports) > 0 {
				ports++
			}
			levels[s.Name] = 0
			for _, d := range s.DependsOn {
				levels[s.Name] = levels[d.Service] + 1
			}
			for k, tmpl := range s.EnvText {
				if !strings.Contains(tmpl, "${") {
					t.Errorf("%s: %s=%s is not interpolated", name, k, tmpl)
				}
				if _, ok := s.Env[k]; !ok {
					t.Errorf("%s: %s has no resolved value", name, k)
				}
			}
		}
		if want := (len(p.Services) + 9) / 10; ports != want {
			t.Errorf("%s: %d services publish a port, want %d", name, ports, want)
		}
		deepest := 0
		for _, l := range levels {
			deepest = max(deepest, l)
		}
		if deepest != 9 {
			t.Errorf("%s: %d levels, want 10", name, deepest+1)
		}
		y := string(p.ComposeYAML())
		for _, want := range []string{`image: "${BENCH_IMAGE:-` + DefaultImage + `}"`, `APP_MODE: "${BENCH_MODE:-production}"`, "healthcheck:", "depends_on:"} {
			if !strings.Contains(y, want) {
				t.Errorf("%s: compose file lacks %q", name, want)
			}
		}
	}
}

func TestLiteralDollarEscaped(t *testing.T) {
	t.Parallel()
	p := Project{Image: DefaultImage, Services: []Service{{Name: "a", Command: []string{"sleep"}, Env: map[string]string{"X": "a$b"}}}}
	if y := string(p.ComposeYAML()); !strings.Contains(y, `X: "a$$b"`) {
		t.Errorf("literal $ not escaped:\n%s", y)
	}
}
