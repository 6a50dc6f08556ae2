// Package shape describes the benchmark projects: a small project model
// that can be written out as a compose file for compose tools and read by
// the engine floor, so every tool runs exactly the same services.
package shape

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Condition is a depends_on condition, spelled as in compose files.
type Condition string

const (
	Started   Condition = "service_started"
	Healthy   Condition = "service_healthy"
	Completed Condition = "service_completed_successfully"
)

// Dep is one depends_on entry.
type Dep struct {
	Service   string
	Condition Condition
}

// Health is a container healthcheck. The test is run without a shell, since
// the image has none.
type Health struct {
	Test     []string
	Interval time.Duration
	Timeout  time.Duration
	Retries  int
}

// Service is one service of a benchmark project.
type Service struct {
	Name      string
	Command   []string
	Env       map[string]string
	DependsOn []Dep
	Health    *Health
	// OneShot marks a service that runs to completion (exit 0) instead of
	// staying up; a finished one-shot service is in its desired state.
	OneShot bool
}

// Project is a benchmark project.
type Project struct {
	// Shape is the name the project was built from.
	Shape string
	// Name is the compose project name; set per tool so tools never see
	// each other's containers.
	Name  string
	Image string
	// Labels go on every container and on the network, so that anything
	// the benchmark created can be found and removed by label.
	Labels   map[string]string
	Services []Service
}

// BenchLabel marks every resource the benchmark creates.
const BenchLabel = "composer-bench"

// GenEnv is the environment variable changed to force the recreation of one
// service.
const GenEnv = "BENCH_GEN"

// DefaultImage is the image the benchmark builds and every service runs.
const DefaultImage = "composer-bench/app:latest"

// healthInterval is how often healthchecks run. The engine runs the first
// check one interval after start (API 1.41 has no start_interval), so it
// bounds how fast a service can turn healthy for every tool alike.
const healthInterval = 500 * time.Millisecond

// Names lists the known shapes in a sensible running order.
func Names() []string {
	return []string{"fan10", "fan50", "fan100", "fan200", "chain10", "chain20", "layers4x8", "healthy5", "job10"}
}

// Build returns the project for a shape name.
func Build(name, image string) (Project, error) {
	p := Project{Shape: name, Image: image, Labels: map[string]string{BenchLabel: "1"}}
	switch {
	case strings.HasPrefix(name, "fan"):
		n, err := strconv.Atoi(strings.TrimPrefix(name, "fan"))
		if err != nil || n < 1 {
			return Project{}, fmt.Errorf("bad shape %q", name)
		}
		for i := range n {
			p.Services = append(p.Services, sleeper(fmt.Sprintf("s%03d", i)))
		}
	case strings.HasPrefix(name, "chain"):
		n, err := strconv.Atoi(strings.TrimPrefix(name, "chain"))
		if err != nil || n < 1 {
			return Project{}, fmt.Errorf("bad shape %q", name)
		}
		for i := range n {
			s := sleeper(fmt.Sprintf("c%02d", i))
			if i > 0 {
				s.DependsOn = []Dep{{fmt.Sprintf("c%02d", i-1), Started}}
			}
			p.Services = append(p.Services, s)
		}
	case strings.HasPrefix(name, "layers"):
		var levels, width int
		if _, err := fmt.Sscanf(strings.TrimPrefix(name, "layers"), "%dx%d", &levels, &width); err != nil || levels < 1 || width < 1 {
			return Project{}, fmt.Errorf("bad shape %q (want layersLxW)", name)
		}
		// Every service of a level depends on every service of the level
		// before it.
		for l := range levels {
			for w := range width {
				s := sleeper(fmt.Sprintf("l%ds%d", l, w))
				if l > 0 {
					for d := range width {
						s.DependsOn = append(s.DependsOn, Dep{fmt.Sprintf("l%ds%d", l-1, d), Started})
					}
				}
				p.Services = append(p.Services, s)
			}
		}
	case strings.HasPrefix(name, "healthy"):
		n, err := strconv.Atoi(strings.TrimPrefix(name, "healthy"))
		if err != nil || n < 1 {
			return Project{}, fmt.Errorf("bad shape %q", name)
		}
		for i := range n {
			s := Service{
				Name:    fmt.Sprintf("h%d", i),
				Command: []string{"healthy-after", "100ms", "/healthy"},
				Env:     map[string]string{GenEnv: "0"},
				Health: &Health{
					Test:     []string{"CMD", "/app", "check", "/healthy"},
					Interval: healthInterval,
					Timeout:  5 * time.Second,
					Retries:  20,
				},
			}
			if i > 0 {
				s.DependsOn = []Dep{{fmt.Sprintf("h%d", i-1), Healthy}}
			}
			p.Services = append(p.Services, s)
		}
	case strings.HasPrefix(name, "job"):
		n, err := strconv.Atoi(strings.TrimPrefix(name, "job"))
		if err != nil || n < 1 {
			return Project{}, fmt.Errorf("bad shape %q", name)
		}
		p.Services = append(p.Services, Service{
			Name:    "job",
			Command: []string{"exit", "0", "200ms"},
			Env:     map[string]string{GenEnv: "0"},
			OneShot: true,
		})
		for i := range n {
			s := sleeper(fmt.Sprintf("w%02d", i))
			s.DependsOn = []Dep{{"job", Completed}}
			p.Services = append(p.Services, s)
		}
	default:
		return Project{}, fmt.Errorf("unknown shape %q (known: %s)", name, strings.Join(Names(), ", "))
	}
	return p, nil
}

func sleeper(name string) Service {
	return Service{Name: name, Command: []string{"sleep"}, Env: map[string]string{GenEnv: "0"}}
}

// Leaf returns the service to change for the "change one leaf" step: the
// last service that no other service depends on.
func (p Project) Leaf() string {
	needed := map[string]bool{}
	for _, s := range p.Services {
		for _, d := range s.DependsOn {
			needed[d.Service] = true
		}
	}
	for i := len(p.Services) - 1; i >= 0; i-- {
		if !needed[p.Services[i].Name] {
			return p.Services[i].Name
		}
	}
	return ""
}

// WithGen returns a copy of p in which the leaf service's GenEnv is gen.
func (p Project) WithGen(gen int) Project {
	leaf := p.Leaf()
	out := p
	out.Services = slices.Clone(p.Services)
	for i, s := range out.Services {
		if s.Name == leaf {
			env := map[string]string{}
			for k, v := range s.Env {
				env[k] = v
			}
			env[GenEnv] = strconv.Itoa(gen)
			out.Services[i].Env = env
		}
	}
	return out
}

// Service returns the named service.
func (p Project) Service(name string) (Service, bool) {
	for _, s := range p.Services {
		if s.Name == name {
			return s, true
		}
	}
	return Service{}, false
}

// ConfigHash is the hash the engine floor stores to recognise an unchanged
// service: everything except the dependencies.
func (s Service) ConfigHash(image string) string {
	c := s
	c.DependsOn = nil
	b, _ := json.Marshal(struct {
		Image   string
		Service Service
	}{image, c})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// EnvList returns the environment as sorted KEY=VALUE strings.
func (s Service) EnvList() []string {
	var out []string
	for k, v := range s.Env {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// ComposeYAML renders p as a compose file that docker-compose 1.29 (compose
// specification mode), docker compose v2 and composer all accept. The
// project name is not written: every tool gets it from -p.
func (p Project) ComposeYAML() []byte {
	var b bytes.Buffer
	b.WriteString("services:\n")
	for _, s := range p.Services {
		fmt.Fprintf(&b, "  %s:\n", s.Name)
		fmt.Fprintf(&b, "    image: %s\n", p.Image)
		fmt.Fprintf(&b, "    command: %s\n", flow(s.Command))
		if len(s.Env) > 0 {
			b.WriteString("    environment:\n")
			for _, kv := range s.EnvList() {
				k, v, _ := strings.Cut(kv, "=")
				fmt.Fprintf(&b, "      %s: %s\n", k, strconv.Quote(v))
			}
		}
		writeLabels(&b, "    ", p.Labels)
		if len(s.DependsOn) > 0 {
			b.WriteString("    depends_on:\n")
			for _, d := range s.DependsOn {
				fmt.Fprintf(&b, "      %s:\n        condition: %s\n", d.Service, d.Condition)
			}
		}
		if h := s.Health; h != nil {
			b.WriteString("    healthcheck:\n")
			fmt.Fprintf(&b, "      test: %s\n", flow(h.Test))
			fmt.Fprintf(&b, "      interval: %s\n", h.Interval)
			fmt.Fprintf(&b, "      timeout: %s\n", h.Timeout)
			fmt.Fprintf(&b, "      retries: %d\n", h.Retries)
		}
	}
	b.WriteString("networks:\n  default:\n")
	writeLabels(&b, "    ", p.Labels)
	return b.Bytes()
}

func writeLabels(b *bytes.Buffer, indent string, labels map[string]string) {
	if len(labels) == 0 {
		return
	}
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	b.WriteString(indent + "labels:\n")
	for _, k := range keys {
		fmt.Fprintf(b, "%s  %s: %s\n", indent, k, strconv.Quote(labels[k]))
	}
}

// flow writes a string list as a YAML flow sequence of quoted strings.
func flow(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = strconv.Quote(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}
