package main

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/composer-orchestrator/composer/engine"
	"github.com/composer-orchestrator/composer/project"
)

const webYAML = `services:
  web:
    image: web-img
`

// TestProjectName checks where the project's name comes from: -p before
// the command, COMPOSE_PROJECT_NAME, and the order between them.
func TestProjectName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{name: "default from the harness variable", args: []string{"up", "-d"}, want: "proj"},
		{name: "-p before the command", args: []string{"-p", "other", "up", "-d"}, want: "other"},
		{name: "--project-name before the command", args: []string{"--project-name", "long", "up", "-d"}, want: "long"},
		{name: "COMPOSE_PROJECT_NAME", env: []string{"COMPOSE_PROJECT_NAME=fromenv"}, args: []string{"up", "-d"}, want: "fromenv"},
		{name: "-p wins over COMPOSE_PROJECT_NAME", env: []string{"COMPOSE_PROJECT_NAME=fromenv"}, args: []string{"-p", "fromflag", "up", "-d"}, want: "fromflag"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newCLI(t, webYAML)
			c.env = tt.env
			c.must(tt.args...)
			if got, want := c.containerNames(tt.want), []string{tt.want + "-web-1"}; !slices.Equal(got, want) {
				t.Errorf("containers of %s = %v, want %v", tt.want, got, want)
			}
			for _, other := range []string{"proj", "other", "long", "fromenv", "fromflag"} {
				if other != tt.want && len(c.containers(other)) > 0 {
					t.Errorf("project %s has containers, want only %s", other, tt.want)
				}
			}
		})
	}
}

// TestInvalidProjectName checks that an explicit invalid name is refused
// before anything is created.
func TestInvalidProjectName(t *testing.T) {
	t.Parallel()
	c := newCLI(t, webYAML)
	r := c.run("-p", "Bad Name", "up", "-d")
	if r.code != 1 || !strings.Contains(r.stderr, "invalid project name") {
		t.Fatalf("want exit 1 and an invalid project name error:\n%s", r)
	}
	if n := c.eng.Calls("CreateContainer"); n != 0 {
		t.Errorf("%d containers created, want none", n)
	}
}

// TestComposeFileSelection checks how the compose files are found: -f
// (repeatable, later files override earlier ones), COMPOSE_FILE and
// --project-directory.
func TestComposeFileSelection(t *testing.T) {
	t.Parallel()
	const base = "services:\n  app:\n    image: app-img\n"
	const extra = "services:\n  app:\n    image: app-img:2\n  worker:\n    image: worker-img\n"
	tests := []struct {
		name  string
		files map[string]string
		env   func(dir string) []string
		args  func(dir string) []string
		want  []string
		image string // app's image
	}{
		{
			name:  "-f FILE",
			files: map[string]string{"other.yaml": base},
			args:  func(dir string) []string { return []string{"-f", filepath.Join(dir, "other.yaml"), "up", "-d"} },
			want:  []string{"proj-app-1"},
			image: "app-img",
		},
		{
			name:  "-f twice merges in order",
			files: map[string]string{"base.yaml": base, "extra.yaml": extra},
			args: func(dir string) []string {
				return []string{"-f", filepath.Join(dir, "base.yaml"), "--file", filepath.Join(dir, "extra.yaml"), "up", "-d"}
			},
			want:  []string{"proj-app-1", "proj-worker-1"},
			image: "app-img:2",
		},
		{
			name:  "COMPOSE_FILE",
			files: map[string]string{"other.yaml": base},
			env:   func(dir string) []string { return []string{"COMPOSE_FILE=" + filepath.Join(dir, "other.yaml")} },
			args:  func(string) []string { return []string{"up", "-d"} },
			want:  []string{"proj-app-1"},
			image: "app-img",
		},
		{
			name:  "COMPOSE_FILE with two files",
			files: map[string]string{"base.yaml": base, "extra.yaml": extra},
			env: func(dir string) []string {
				return []string{"COMPOSE_FILE=" + filepath.Join(dir, "base.yaml") + string(filepath.ListSeparator) + filepath.Join(dir, "extra.yaml")}
			},
			args:  func(string) []string { return []string{"up", "-d"} },
			want:  []string{"proj-app-1", "proj-worker-1"},
			image: "app-img:2",
		},
		{
			name:  "-f wins over COMPOSE_FILE",
			files: map[string]string{"base.yaml": base, "extra.yaml": extra},
			env:   func(dir string) []string { return []string{"COMPOSE_FILE=" + filepath.Join(dir, "extra.yaml")} },
			args:  func(dir string) []string { return []string{"-f", filepath.Join(dir, "base.yaml"), "up", "-d"} },
			want:  []string{"proj-app-1"},
			image: "app-img",
		},
		{
			name:  "--project-directory finds compose.yaml there",
			files: map[string]string{"sub/compose.yaml": base},
			args: func(dir string) []string {
				return []string{"--project-directory", filepath.Join(dir, "sub"), "up", "-d"}
			},
			want:  []string{"proj-app-1"},
			image: "app-img",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newCLI(t, "") // no compose.yaml: the harness passes no -f
			for name, content := range tt.files {
				c.mkdirFor(name)
				c.write(name, content)
			}
			if tt.env != nil {
				c.env = tt.env(c.dir)
			}
			c.must(tt.args(c.dir)...)
			if got := c.containerNames("proj"); !slices.Equal(got, tt.want) {
				t.Errorf("containers = %v, want %v", got, tt.want)
			}
			d, ok := c.inspect("proj-app-1")
			if !ok || d.Image != tt.image {
				t.Errorf("app's image = %q, want %q", d.Image, tt.image)
			}
		})
	}
}

// TestProfiles checks --profile and COMPOSE_PROFILES.
func TestProfiles(t *testing.T) {
	t.Parallel()
	const yaml = `services:
  web:
    image: web-img
  debug:
    image: debug-img
    profiles: [debug]
  trace:
    image: trace-img
    profiles: [trace]
`
	tests := []struct {
		name string
		env  []string
		args []string
		want []string
	}{
		{name: "no profile", args: []string{"up", "-d"}, want: []string{"proj-web-1"}},
		{name: "--profile", args: []string{"--profile", "debug", "up", "-d"}, want: []string{"proj-debug-1", "proj-web-1"}},
		{name: "--profile twice", args: []string{"--profile", "debug", "--profile", "trace", "up", "-d"}, want: []string{"proj-debug-1", "proj-trace-1", "proj-web-1"}},
		{name: "COMPOSE_PROFILES", env: []string{"COMPOSE_PROFILES=trace"}, args: []string{"up", "-d"}, want: []string{"proj-trace-1", "proj-web-1"}},
		{name: "COMPOSE_PROFILES list", env: []string{"COMPOSE_PROFILES=debug,trace"}, args: []string{"up", "-d"}, want: []string{"proj-debug-1", "proj-trace-1", "proj-web-1"}},
		{name: "--profile wins over COMPOSE_PROFILES", env: []string{"COMPOSE_PROFILES=trace"}, args: []string{"--profile", "debug", "up", "-d"}, want: []string{"proj-debug-1", "proj-web-1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newCLI(t, yaml)
			c.env = tt.env
			c.must(tt.args...)
			if got := c.containerNames("proj"); !slices.Equal(got, tt.want) {
				t.Errorf("containers = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestEnvFile checks that interpolation reads --env-file, or .env in the
// project directory by default.
func TestEnvFile(t *testing.T) {
	t.Parallel()
	const yaml = "services:\n  web:\n    image: web-img:${TAG:-latest}\n"
	tests := []struct {
		name  string
		files map[string]string
		env   []string
		args  func(dir string) []string
		want  string
	}{
		{name: "no env file", args: func(string) []string { return []string{"up", "-d"} }, want: "web-img:latest"},
		{name: ".env", files: map[string]string{".env": "TAG=dot\n"}, args: func(string) []string { return []string{"up", "-d"} }, want: "web-img:dot"},
		{
			name:  "--env-file",
			files: map[string]string{".env": "TAG=dot\n", "custom.env": "TAG=custom\n"},
			args:  func(dir string) []string { return []string{"--env-file", filepath.Join(dir, "custom.env"), "up", "-d"} },
			want:  "web-img:custom",
		},
		{
			name:  "the environment wins over the env file",
			files: map[string]string{"custom.env": "TAG=custom\n"},
			env:   []string{"TAG=shell"},
			args:  func(dir string) []string { return []string{"--env-file", filepath.Join(dir, "custom.env"), "up", "-d"} },
			want:  "web-img:shell",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newCLI(t, yaml)
			for name, content := range tt.files {
				c.write(name, content)
			}
			c.env = tt.env
			c.must(tt.args(c.dir)...)
			if d, ok := c.inspect("proj-web-1"); !ok || d.Image != tt.want {
				t.Errorf("image = %q, want %q", d.Image, tt.want)
			}
		})
	}
}

// TestUsageErrors checks that command lines that cannot mean anything
// exit 1 with a message, before the engine is asked to do anything.
func TestUsageErrors(t *testing.T) {
	t.Parallel()
	const yaml = `services:
  web:
    image: web-img
  job:
    image: job-img
    command: ["exit", "0"]
`
	tests := []struct {
		name string
		args []string
		want []string // substrings of stderr
	}{
		{name: "unknown command", args: []string{"bogus"}, want: []string{`unknown command "bogus"`}},
		{name: "unknown flag", args: []string{"up", "--bogus"}, want: []string{"unknown flag: --bogus", "See 'composer up --help'."}},
		{name: "unknown short flag", args: []string{"ps", "-Z"}, want: []string{"unknown shorthand flag: 'Z'", "See 'composer ps --help'."}},
		{name: "unknown global flag", args: []string{"--bogus", "up"}, want: []string{"unknown flag: --bogus", "See 'composer --help'."}},
		{name: "flag without its value", args: []string{"up", "--scale"}, want: []string{"flag needs an argument", "See 'composer up --help'."}},
		{name: "up -d --abort-on-container-exit", args: []string{"up", "-d", "--abort-on-container-exit"}, want: []string{"incompatible with --detach", "See 'composer up --help'."}},
		{name: "up -d --abort-on-container-failure", args: []string{"up", "-d", "--abort-on-container-failure"}, want: []string{"incompatible with --detach"}},
		{name: "up -d --exit-code-from", args: []string{"up", "-d", "--exit-code-from", "job"}, want: []string{"incompatible with --detach"}},
		{name: "up --force-recreate --no-recreate", args: []string{"up", "--force-recreate", "--no-recreate"}, want: []string{"--force-recreate and --no-recreate are incompatible"}},
		{name: "up --always-recreate-deps --no-recreate", args: []string{"up", "--always-recreate-deps", "--no-recreate"}, want: []string{"incompatible"}},
		{name: "up --attach --attach-dependencies", args: []string{"up", "--attach", "web", "--attach-dependencies"}, want: []string{"incompatible"}},
		{name: "up --pull bogus", args: []string{"up", "-d", "--pull", "bogus"}, want: []string{`invalid --pull value "bogus"`}},
		{name: "up --scale without a number", args: []string{"up", "-d", "--scale", "web"}, want: []string{"web"}},
		{name: "run --pull bogus", args: []string{"run", "--pull", "bogus", "job"}, want: []string{`invalid --pull value "bogus"`, "See 'composer run --help'."}},
		{name: "run without a service", args: []string{"run"}, want: []string{"requires at least 1 arg"}},
		{name: "down --rmi bogus", args: []string{"down", "--rmi", "bogus"}, want: []string{`invalid --rmi value "bogus"`}},
		{name: "pull --policy bogus", args: []string{"pull", "--policy", "bogus"}, want: []string{`invalid --policy value "bogus"`}},
		{name: "ls --filter status", args: []string{"ls", "--filter", "status=running"}, want: []string{`invalid filter "status=running"`, "See 'composer ls --help'."}},
		{name: "ls --filter without =", args: []string{"ls", "--filter", "name"}, want: []string{`invalid filter "name"`}},
		{name: "ls --format bogus", args: []string{"ls", "--format", "bogus"}, want: []string{`unsupported format "bogus"`}},
		{name: "ps --filter name", args: []string{"ps", "--filter", "name=web"}, want: []string{`invalid filter "name=web"`}},
		{name: "ps --format bogus", args: []string{"ps", "--format", "bogus"}, want: []string{`unsupported format "bogus"`}},
		{name: "version --format bogus", args: []string{"version", "--format", "bogus"}, want: []string{`unsupported format "bogus"`, "See 'composer version --help'."}},
		{name: "images --format bogus", args: []string{"images", "--format", "bogus"}, want: []string{`unsupported format "bogus"`}},
		{name: "port without a number", args: []string{"port", "web", "http"}, want: []string{`invalid port "http"`}},
		{name: "config --resolve-image-digests", args: []string{"config", "--resolve-image-digests"}, want: []string{"--resolve-image-digests is not supported"}},
		{name: "unknown service", args: []string{"up", "-d", "nosuch"}, want: []string{"no such service: nosuch"}},
		{name: "--exit-code-from unknown service", args: []string{"up", "--exit-code-from", "nosuch"}, want: []string{"no such service: nosuch"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newCLI(t, yaml)
			r := c.run(tt.args...)
			if r.code != 1 {
				t.Errorf("exit code %d, want 1:\n%s", r.code, r)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr does not say %q:\n%s", w, r)
				}
			}
			if r.stdout != "" {
				t.Errorf("stdout = %q, want nothing", r.stdout)
			}
			if n := c.eng.Calls("CreateContainer"); n != 0 {
				t.Errorf("%d containers created, want none", n)
			}
		})
	}
}

// TestBadComposeFile checks that a compose file that cannot be loaded
// fails every command that needs it with exit 1 and a message naming the
// file.
func TestBadComposeFile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		yaml string
		want string // besides the file's path
	}{
		{name: "YAML syntax", yaml: "services:\n  web:\n    image: [web-img\n", want: ""},
		{name: "unknown attribute", yaml: "services:\n  web:\n    image: web-img\n    bogus_key: 1\n", want: "bogus_key"},
		{name: "cycle", yaml: "services:\n  a:\n    image: a\n    depends_on: [b]\n  b:\n    image: b\n    depends_on: [a]\n", want: "cycle"},
	}
	for _, tt := range tests {
		for _, args := range [][]string{{"up", "-d"}, {"config"}, {"pull"}, {"run", "web"}} {
			t.Run(tt.name+"/"+args[0], func(t *testing.T) {
				t.Parallel()
				c := newCLI(t, tt.yaml)
				r := c.run(args...)
				if r.code != 1 {
					t.Errorf("exit code %d, want 1:\n%s", r.code, r)
				}
				if tt.name != "cycle" && !strings.Contains(r.stderr, filepath.Join(c.dir, "compose.yaml")) {
					t.Errorf("stderr does not name the file %s:\n%s", filepath.Join(c.dir, "compose.yaml"), r)
				}
				if !strings.Contains(r.stderr, tt.want) {
					t.Errorf("stderr does not say %q:\n%s", tt.want, r)
				}
				if n := c.eng.Calls("CreateContainer") + c.eng.Calls("PullImage"); n != 0 {
					t.Errorf("%d engine changes, want none", n)
				}
			})
		}
	}
}

// TestMissingComposeFile checks that -f naming no file fails with its path.
func TestMissingComposeFile(t *testing.T) {
	t.Parallel()
	c := newCLI(t, "")
	missing := filepath.Join(c.dir, "nope.yaml")
	r := c.run("-f", missing, "up", "-d")
	if r.code != 1 || !strings.Contains(r.stderr, missing) {
		t.Fatalf("want exit 1 naming %s:\n%s", missing, r)
	}
}

// TestDryRunChangesNothing checks that --dry-run shows what each changing
// command would do, marked as a dry run, and sends the engine nothing but
// reads: the container, its volume and the engine's call counts say so.
func TestDryRunChangesNothing(t *testing.T) {
	t.Parallel()
	const yaml = `services:
  web:
    image: web-img
    volumes: [data:/data]
volumes:
  data: {}
`
	reads := []string{"ListContainers", "InspectContainer", "ListNetworks", "InspectNetwork", "ListVolumes", "InspectVolume", "InspectImage", "Events"}
	for _, tc := range []struct {
		args []string
		says string
	}{
		{[]string{"--dry-run", "down", "-v"}, "Volume proj_data  Removed"},
		{[]string{"--dry-run", "stop"}, "Container proj-web-1  Stopped"},
		{[]string{"--dry-run", "kill"}, "Container proj-web-1  Killed"},
		{[]string{"--dry-run", "rm", "-f", "-s"}, "Container proj-web-1  Removed"},
		{[]string{"--dry-run", "up", "-d", "--force-recreate"}, "Container proj-web-1  Recreate (--force-recreate)"},
		{[]string{"--dry-run", "restart"}, "Container proj-web-1  Restarted"},
		{[]string{"--dry-run", "pause"}, "Container proj-web-1  Paused"},
		{[]string{"--dry-run", "run", "--rm", "web", "true"}, "Container proj-web-run-"},
	} {
		t.Run(strings.Join(tc.args[1:], " "), func(t *testing.T) {
			t.Parallel()
			c := newCLI(t, yaml)
			c.must("up", "-d")
			before, _ := c.inspect("proj-web-1")
			c.eng.ResetCalls()
			r := c.run(append([]string{"--progress", "plain"}, tc.args...)...)
			if r.code != 0 {
				t.Errorf("exit code %d, want 0:\n%s", r.code, r)
			}
			if !strings.Contains(r.stderr, " DRY-RUN MODE - ") || !strings.Contains(r.stderr, tc.says) {
				t.Errorf("stderr does not say %q in a dry run:\n%s", tc.says, r)
			}
			d, ok := c.inspect("proj-web-1")
			if !ok || d.State != engine.StateRunning || d.ID != before.ID || !d.StartedAt.Equal(before.StartedAt) {
				t.Errorf("proj-web-1 changed: before %+v, after %+v (exists %v)", before.Container, d.Container, ok)
			}
			if got := c.volumeNames("proj"); !slices.Equal(got, []string{"proj_data"}) {
				t.Errorf("volumes = %v, want [proj_data]", got)
			}
			for op, n := range c.eng.CallCounts() {
				if n > 0 && !slices.Contains(reads, op) {
					t.Errorf("%s called %d times, want none", op, n)
				}
			}
		})
	}
	t.Run("exec is refused", func(t *testing.T) {
		t.Parallel()
		c := newCLI(t, yaml)
		c.must("up", "-d")
		c.eng.ResetCalls()
		r := c.run("--dry-run", "exec", "web", "true")
		if r.code != 1 || !strings.Contains(r.stderr, "--dry-run is not supported by exec") {
			t.Errorf("want exec refused with exit 1:\n%s", r)
		}
		if n := c.eng.Calls("Exec"); n != 0 {
			t.Errorf("Exec called %d times", n)
		}
	})
}

// countingEngine delays container creates and starts and records how
// many ran at once, to check the concurrency bound.
type countingEngine struct {
	engine.Engine
	delay time.Duration
	// mu guards cur and peak: the orchestrator creates and starts from
	// many goroutines.
	mu        sync.Mutex
	cur, peak int
}

func (e *countingEngine) track() func() {
	e.mu.Lock()
	e.cur++
	e.peak = max(e.peak, e.cur)
	e.mu.Unlock()
	time.Sleep(e.delay)
	return func() {
		e.mu.Lock()
		e.cur--
		e.mu.Unlock()
	}
}

func (e *countingEngine) CreateContainer(ctx context.Context, spec engine.ContainerSpec) (string, error) {
	defer e.track()()
	return e.Engine.CreateContainer(ctx, spec)
}

func (e *countingEngine) StartContainer(ctx context.Context, id string) error {
	defer e.track()()
	return e.Engine.StartContainer(ctx, id)
}

func (e *countingEngine) maxConcurrent() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.peak
}

// TestParallelLimit checks that COMPOSE_PARALLEL_LIMIT and --parallel
// bound how many containers are created or started at once.
func TestParallelLimit(t *testing.T) {
	t.Parallel()
	const yaml = `services:
  a: {image: img}
  b: {image: img}
  c: {image: img}
  d: {image: img}
`
	tests := []struct {
		name     string
		env      []string
		args     []string
		atMost   int
		atLeast  int
		wantLine string
	}{
		{name: "unbounded", args: []string{"up", "-d"}, atMost: 4, atLeast: 2},
		{name: "COMPOSE_PARALLEL_LIMIT=1", env: []string{"COMPOSE_PARALLEL_LIMIT=1"}, args: []string{"up", "-d"}, atMost: 1, atLeast: 1},
		{name: "COMPOSE_PARALLEL_LIMIT=2", env: []string{"COMPOSE_PARALLEL_LIMIT=2"}, args: []string{"up", "-d"}, atMost: 2, atLeast: 1},
		{name: "--parallel 1", args: []string{"--parallel", "1", "up", "-d"}, atMost: 1, atLeast: 1},
		{name: "--parallel wins over COMPOSE_PARALLEL_LIMIT", env: []string{"COMPOSE_PARALLEL_LIMIT=3"}, args: []string{"--parallel", "1", "up", "-d"}, atMost: 1, atLeast: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newCLI(t, yaml)
			c.eng.AddImage("img")
			counting := &countingEngine{delay: 20 * time.Millisecond}
			c.wrap = func(e engine.Engine) engine.Engine {
				counting.Engine = e
				return counting
			}
			c.env = tt.env
			c.must(tt.args...)
			if got := len(c.containers("proj")); got != 4 {
				t.Fatalf("%d containers, want 4", got)
			}
			if got := counting.maxConcurrent(); got > tt.atMost || got < tt.atLeast {
				t.Errorf("at most %d creates or starts at once, want between %d and %d", got, tt.atLeast, tt.atMost)
			}
		})
	}
}

// TestEngineErrorsWrappedOnce checks that an engine failure reaches the
// user once, named by the operation and the container, without the same
// words repeated by each layer on the way.
func TestEngineErrorsWrappedOnce(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		op, words string
		args      []string
	}{
		{op: "CreateContainer", words: "creating container proj-web-1", args: []string{"up", "-d"}},
		{op: "StartContainer", words: "starting container proj-web-1", args: []string{"up", "-d"}},
		{op: "StopContainer", words: "stopping container proj-web-1", args: []string{"stop"}},
	} {
		t.Run(tt.op, func(t *testing.T) {
			t.Parallel()
			c := newCLI(t, webYAML)
			c.eng.AddImage("web-img")
			if tt.op == "StopContainer" {
				c.must("up", "-d")
			}
			c.eng.Fail(tt.op, "", errors.New("the engine said no"))
			r := c.run(tt.args...)
			if r.code != 1 {
				t.Fatalf("exit code %d, want 1:\n%s", r.code, r)
			}
			want := tt.words + ": the engine said no"
			if !strings.Contains(r.stderr, want) || strings.Count(r.stderr, tt.words) != strings.Count(r.stderr, want) {
				t.Errorf("stderr should say %q, with no repeated words:\n%s", want, r)
			}
		})
	}
}

// TestDescribeErrorShowsTheLine checks that a compose file problem shows
// its source line and a caret on a terminal, and only its one-line form
// otherwise; other errors are printed as they are.
func TestDescribeErrorShowsTheLine(t *testing.T) {
	t.Parallel()
	c := newCLI(t, "services:\n  web:\n    image: x\n    restrat: always\n")
	_, err := project.Load(context.Background(), project.Options{WorkingDir: c.dir, Env: []string{}})
	if err == nil {
		t.Fatal("a misspelt key loaded")
	}
	file := filepath.Join(c.dir, "compose.yaml")
	tty := describeError(err, true)
	want := file + ":4:5: services.web.restrat: unknown key; did you mean `restart`?\n    restrat: always\n    ^\n"
	if tty != want {
		t.Errorf("on a terminal:\n%q\nwant\n%q", tty, want)
	}
	if plain := describeError(err, false); plain != file+":4:5: services.web.restrat: unknown key; did you mean `restart`?\n" {
		t.Errorf("in a log: %q", plain)
	}
	if got := describeError(errors.New("boom"), true); got != "boom\n" {
		t.Errorf("another error on a terminal: %q", got)
	}
}

// TestReadCommandsWithNameOnlyReadLabels checks that -p and no compose
// file make the read commands work from the engine's labels alone: a
// broken file in the project directory is never read, while a command
// without -p does read it and fails.
func TestReadCommandsWithNameOnlyReadLabels(t *testing.T) {
	t.Parallel()
	c := newCLI(t, "")
	c.write("compose.yml", "services: [broken\n")
	for _, args := range [][]string{{"ps"}, {"ps", "--format", "json"}, {"logs"}, {"images"}, {"top"}} {
		r := c.run(append([]string{"-p", "proj", "--project-directory", c.dir}, args...)...)
		if r.code != 0 {
			t.Errorf("with -p, %s read the file:\n%s", args[0], r)
		}
	}
	if r := c.run("--project-directory", c.dir, "ps"); r.code != 1 || !strings.Contains(r.stderr, "compose.yml") {
		t.Errorf("without -p, ps did not load the file:\n%s", r)
	}
}
