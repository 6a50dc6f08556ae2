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
	Test        []string
	Interval    time.Duration
	Timeout     time.Duration
	Retries     int
	StartPeriod time.Duration
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
	// EnvText, where set for a variable of Env, is what the compose file
	// says instead of the plain value: an interpolation such as
	// "${BENCH_MODE:-production}" whose result (with nothing set in the
	// environment) is the value in Env, which the floor uses.
	EnvText map[string]string
	// Ports are container ports (tcp) published on 127.0.0.1 with a host
	// port the engine chooses, so that projects never collide.
	Ports []int
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
	// ImageVar, if set, is the variable the compose file reads the image
	// from ("${ImageVar:-Image}"); nothing sets it, so it is Image.
	ImageVar string `json:",omitempty"`
	// Wait makes the measured up an "up -d --wait" and the floor wait
	// until every service is healthy, completed or started; the cycle is
	// then only that up and a down.
	Wait bool `json:",omitempty"`
	// Reads makes the cycle a read-command benchmark: the project is
	// brought up once per tool and read commands are timed over it.
	Reads bool `json:",omitempty"`
	// ReadService and ReadPort are the service and published container
	// port that the port command asks about.
	ReadService string `json:",omitempty"`
	ReadPort    int    `json:",omitempty"`
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
	return []string{"fan10", "fan50", "fan100", "fan200", "chain10", "chain20", "layers4x8", "healthy5", "job10",
		"hchain5", "airflow", "reads10", "reads200", "reads500"}
}

// hchainHealth is the healthcheck of the hchainN shape: an interval as long
// as real projects use, so that a tool waiting for the engine's word waits
// an interval per level.
var hchainHealth = Health{
	Test:     []string{"CMD", "/app", "check", "/healthy"},
	Interval: 5 * time.Second,
	Timeout:  2 * time.Second,
	Retries:  3,
}

// readsHealth is the healthcheck of the readsN shapes. Its interval is long
// so that hundreds of checks do not load the engine while read commands are
// timed: the checks are there for the tools to read and render, and the
// containers stay "health: starting" during the measurement.
var readsHealth = Health{
	Test:     []string{"CMD", "/app", "check", "/healthy"},
	Interval: 10 * time.Minute,
	Timeout:  2 * time.Second,
	Retries:  3,
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
	case strings.HasPrefix(name, "hchain"):
		n, err := strconv.Atoi(strings.TrimPrefix(name, "hchain"))
		if err != nil || n < 1 {
			return Project{}, fmt.Errorf("bad shape %q", name)
		}
		for i := range n {
			h := hchainHealth
			s := Service{
				Name:    fmt.Sprintf("h%d", i),
				Command: []string{"healthy-after", "200ms", "/healthy"},
				Env:     map[string]string{GenEnv: "0"},
				Health:  &h,
			}
			if i > 0 {
				s.DependsOn = []Dep{{fmt.Sprintf("h%d", i-1), Healthy}}
			}
			p.Services = append(p.Services, s)
		}
	case name == "airflow":
		p.Services = airflow()
		p.Wait = true
	case strings.HasPrefix(name, "reads"):
		n, err := strconv.Atoi(strings.TrimPrefix(name, "reads"))
		if err != nil || n < 1 {
			return Project{}, fmt.Errorf("bad shape %q", name)
		}
		p.Services = reads(n)
		p.Reads = true
		p.ImageVar = "BENCH_IMAGE"
		p.ReadService, p.ReadPort = p.Services[0].Name, readsPort
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

// airflow is shaped like Apache Airflow's documented compose file (see
// examples/airflow): PostgreSQL and Redis with healthchecks, a one-shot
// init job waiting for both, and the Airflow components waiting for the job
// to complete and for both stores to be healthy, the worker also for the
// API server to be healthy. Intervals, timeouts, retries and start periods
// are the file's; every service is the bench image turning healthy 200 to
// 500 ms after its start, the init job exits 0 after 1 s.
func airflow() []Service {
	check := []string{"CMD", "/app", "check", "/healthy"}
	common := map[string]string{
		GenEnv:                                    "0",
		"AIRFLOW__CORE__EXECUTOR":                 "CeleryExecutor",
		"AIRFLOW__DATABASE__SQL_ALCHEMY_CONN":     "postgresql+psycopg2://airflow:airflow@postgres/airflow",
		"AIRFLOW__CELERY__RESULT_BACKEND":         "db+postgresql://airflow:airflow@postgres/airflow",
		"AIRFLOW__CELERY__BROKER_URL":             "redis://redis:6379/0",
		"AIRFLOW__CORE__FERNET_KEY":               "",
		"AIRFLOW__CORE__LOAD_EXAMPLES":            "false",
		"AIRFLOW__CORE__EXECUTION_API_SERVER_URL": "http://airflow-apiserver:8080/execution/",
	}
	stores := []Dep{{"postgres", Healthy}, {"redis", Healthy}}
	component := func(name, after string, deps ...Dep) Service {
		return Service{
			Name:      name,
			Command:   []string{"healthy-after", after, "/healthy"},
			Env:       common,
			DependsOn: append(append([]Dep(nil), stores...), append(deps, Dep{"airflow-init", Completed})...),
			Health:    &Health{Test: check, Interval: 30 * time.Second, Timeout: 10 * time.Second, Retries: 5, StartPeriod: 30 * time.Second},
		}
	}
	api := component("airflow-apiserver", "400ms")
	api.Ports = []int{8080}
	return []Service{
		{
			Name:    "postgres",
			Command: []string{"healthy-after", "500ms", "/healthy"},
			Env:     map[string]string{GenEnv: "0", "POSTGRES_USER": "airflow", "POSTGRES_PASSWORD": "airflow", "POSTGRES_DB": "airflow"},
			Health:  &Health{Test: check, Interval: 10 * time.Second, Timeout: 5 * time.Second, Retries: 5, StartPeriod: 5 * time.Second},
		},
		{
			Name:    "redis",
			Command: []string{"healthy-after", "200ms", "/healthy"},
			Env:     map[string]string{GenEnv: "0"},
			Health:  &Health{Test: check, Interval: 10 * time.Second, Timeout: 30 * time.Second, Retries: 50, StartPeriod: 30 * time.Second},
		},
		{
			Name:      "airflow-init",
			Command:   []string{"exit", "0", "1s"},
			Env:       merged(common, map[string]string{"_AIRFLOW_DB_MIGRATE": "true"}),
			DependsOn: stores,
			OneShot:   true,
		},
		api,
		component("airflow-scheduler", "300ms"),
		component("airflow-dag-processor", "300ms"),
		component("airflow-triggerer", "300ms"),
		component("airflow-worker", "400ms", Dep{"airflow-apiserver", Healthy}),
	}
}

// readsPort is the container port that every tenth service of the readsN
// shapes publishes.
const readsPort = 8080

// reads returns n services in ten levels (fewer when n < 10): level l's
// service at position w depends on level l-1's at w, so the project is n/10
// chains of ten started side by side. Every service has a healthcheck and
// environment interpolated from variables nobody sets; every tenth
// publishes a port (only a few, because each published port costs the
// engine a proxy process).
func reads(n int) []Service {
	levels := min(10, n)
	width := (n + levels - 1) / levels
	var out []Service
	for i := range n {
		h := readsHealth
		s := Service{
			Name:    fmt.Sprintf("r%03d", i),
			Command: []string{"healthy-after", "0s", "/healthy"},
			Env: map[string]string{
				GenEnv:        "0",
				"APP_MODE":    "production",
				"APP_NAME":    fmt.Sprintf("app-r%03d", i),
				"APP_REPLICA": strconv.Itoa(i % width),
			},
			EnvText: map[string]string{
				"APP_MODE":    "${BENCH_MODE:-production}",
				"APP_NAME":    fmt.Sprintf("${BENCH_PREFIX:-app}-r%03d", i),
				"APP_REPLICA": fmt.Sprintf("${BENCH_REPLICA_%d:-%d}", i%width, i%width),
			},
			Health: &h,
		}
		if i >= width {
			s.DependsOn = []Dep{{fmt.Sprintf("r%03d", i-width), Started}}
		}
		if i%10 == 0 {
			s.Ports = []int{readsPort}
		}
		out = append(out, s)
	}
	return out
}

func merged(ms ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
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
		if p.ImageVar != "" {
			fmt.Fprintf(&b, "    image: %s\n", strconv.Quote("${"+p.ImageVar+":-"+p.Image+"}"))
		} else {
			fmt.Fprintf(&b, "    image: %s\n", p.Image)
		}
		fmt.Fprintf(&b, "    command: %s\n", flow(s.Command))
		if len(s.Env) > 0 {
			b.WriteString("    environment:\n")
			for _, kv := range s.EnvList() {
				k, v, _ := strings.Cut(kv, "=")
				if t, ok := s.EnvText[k]; ok {
					v = t
				} else {
					// A literal value: escape what the loader would
					// interpolate.
					v = strings.ReplaceAll(v, "$", "$$")
				}
				fmt.Fprintf(&b, "      %s: %s\n", k, strconv.Quote(v))
			}
		}
		if len(s.Ports) > 0 {
			b.WriteString("    ports:\n")
			for _, port := range s.Ports {
				fmt.Fprintf(&b, "      - %s\n", strconv.Quote(fmt.Sprintf("127.0.0.1::%d", port)))
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
			if h.StartPeriod > 0 {
				fmt.Fprintf(&b, "      start_period: %s\n", h.StartPeriod)
			}
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
