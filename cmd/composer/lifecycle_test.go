package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/composer-orchestrator/composer/engine"
	"github.com/composer-orchestrator/composer/engine/fake"
	"github.com/composer-orchestrator/composer/labels"
)

// TestRestartDependents checks that restarting a service restarts the
// services that depend on it with restart: true, unless --no-deps.
func TestRestartDependents(t *testing.T) {
	t.Parallel()
	const yaml = `services:
  db:
    image: img
  web:
    image: img
    depends_on:
      db:
        condition: service_started
        restart: true
  worker:
    image: img
    depends_on: [db]
`
	tests := []struct {
		name string
		args []string
		// restarted are the containers started a second time.
		restarted []string
	}{
		{name: "restart db", args: []string{"restart", "db"}, restarted: []string{"proj-db-1", "proj-web-1"}},
		{name: "restart --no-deps db", args: []string{"restart", "--no-deps", "db"}, restarted: []string{"proj-db-1"}},
		{name: "restart web", args: []string{"restart", "web"}, restarted: []string{"proj-web-1"}},
		{name: "restart everything", args: []string{"restart"}, restarted: []string{"proj-db-1", "proj-web-1", "proj-worker-1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newCLI(t, yaml)
			c.eng.AddImage("img")
			c.must("up", "-d")
			c.must(tt.args...)
			var restarted []string
			for _, name := range []string{"proj-db-1", "proj-web-1", "proj-worker-1"} {
				if d, _ := c.inspect(name); d.State != engine.StateRunning {
					t.Errorf("%s is %q after restart, want running", name, d.State)
				}
				if c.starts(name) > 1 {
					restarted = append(restarted, name)
				}
			}
			if !slices.Equal(restarted, tt.restarted) {
				t.Errorf("restarted %v, want %v", restarted, tt.restarted)
			}
		})
	}
}

// TestKill checks kill's signal and --remove-orphans.
func TestKill(t *testing.T) {
	t.Parallel()
	const before = "services:\n  web:\n    image: img\n  old:\n    image: img\n"
	const after = "services:\n  web:\n    image: img\n"
	tests := []struct {
		name     string
		env      []string
		args     []string
		webCode  int
		orphaned bool // old still exists
	}{
		{name: "kill", args: []string{"kill"}, webCode: 137, orphaned: true},
		{name: "kill -s SIGUSR1", args: []string{"kill", "-s", "SIGUSR1"}, webCode: 138, orphaned: true},
		{name: "kill --remove-orphans", args: []string{"kill", "--remove-orphans"}, webCode: 137, orphaned: false},
		{name: "COMPOSE_REMOVE_ORPHANS", env: []string{"COMPOSE_REMOVE_ORPHANS=1"}, args: []string{"kill"}, webCode: 137, orphaned: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newCLI(t, before)
			c.eng.AddImage("img")
			c.must("up", "-d")
			c.write("compose.yaml", after)
			c.env = tt.env
			c.must(tt.args...)
			if d, ok := c.inspect("proj-web-1"); !ok || d.State != engine.StateExited || d.ExitCode != tt.webCode {
				t.Errorf("proj-web-1: state %q exit %d, want exited %d", d.State, d.ExitCode, tt.webCode)
			}
			if _, ok := c.inspect("proj-old-1"); ok != tt.orphaned {
				t.Errorf("orphan proj-old-1 exists = %v, want %v", ok, tt.orphaned)
			}
		})
	}
}

// TestKillRemoveOrphansNeedsAFile checks that kill --remove-orphans
// without a compose file is refused rather than taking every container
// for an orphan.
func TestKillRemoveOrphansNeedsAFile(t *testing.T) {
	t.Parallel()
	c := newCLI(t, "services:\n  web:\n    image: img\n")
	c.eng.AddImage("img")
	c.must("up", "-d")
	if err := os.Remove(filepath.Join(c.dir, "compose.yaml")); err != nil {
		t.Fatal(err)
	}
	r := c.run("--project-directory", c.dir, "-p", "proj", "kill", "--remove-orphans")
	if !strings.Contains(r.stderr, "needs a compose file") {
		t.Errorf("stderr does not say a compose file is needed:\n%s", r)
	}
	if r.code != 1 {
		t.Errorf("exit code %d, want 1:\n%s", r.code, r)
	}
	if d, ok := c.inspect("proj-web-1"); !ok || d.State != engine.StateRunning {
		t.Errorf("proj-web-1 changed: state %q, exists %v", d.State, ok)
	}
}

// TestLifecycle checks stop, start, pause, unpause and rm end states.
func TestLifecycle(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		steps [][]string
		web   engine.ContainerState // "" for removed
		db    engine.ContainerState
	}{
		{name: "stop", steps: [][]string{{"stop"}}, web: engine.StateExited, db: engine.StateExited},
		{name: "stop one", steps: [][]string{{"stop", "web"}}, web: engine.StateExited, db: engine.StateRunning},
		{name: "stop then start", steps: [][]string{{"stop"}, {"start"}}, web: engine.StateRunning, db: engine.StateRunning},
		{name: "pause", steps: [][]string{{"pause", "db"}}, web: engine.StateRunning, db: engine.StatePaused},
		{name: "pause then unpause", steps: [][]string{{"pause"}, {"unpause"}}, web: engine.StateRunning, db: engine.StateRunning},
		{name: "rm -s -f", steps: [][]string{{"rm", "-s", "-f", "web"}}, web: "", db: engine.StateRunning},
		{name: "stop then rm -f", steps: [][]string{{"stop"}, {"rm", "-f"}}, web: "", db: ""},
		{name: "down", steps: [][]string{{"down"}}, web: "", db: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newCLI(t, twoServicesYAML)
			c.must("up", "-d")
			for _, s := range tt.steps {
				c.must(s...)
			}
			for name, want := range map[string]engine.ContainerState{"proj-web-1": tt.web, "proj-db-1": tt.db} {
				d, ok := c.inspect(name)
				if want == "" {
					if ok {
						t.Errorf("%s exists (%s), want it removed", name, d.State)
					}
					continue
				}
				if !ok || d.State != want {
					t.Errorf("%s is %q (exists %v), want %q", name, d.State, ok, want)
				}
			}
		})
	}
}

// TestLifecycleUnknownService checks that naming a service the file does
// not define is an error that changes nothing.
func TestLifecycleUnknownService(t *testing.T) {
	t.Parallel()
	for _, cmd := range []string{"stop", "start", "restart", "kill", "pause", "unpause", "rm", "logs", "top", "images", "ps"} {
		t.Run(cmd, func(t *testing.T) {
			t.Parallel()
			c := newCLI(t, twoServicesYAML)
			c.must("up", "-d")
			r := c.run(cmd, "nosuch")
			if r.code != 1 || !strings.Contains(r.stderr, "no such service: nosuch") {
				t.Errorf("want exit 1 and no such service:\n%s", r)
			}
			for _, name := range []string{"proj-web-1", "proj-db-1"} {
				if d, ok := c.inspect(name); !ok || d.State != engine.StateRunning {
					t.Errorf("%s changed: %q", name, d.State)
				}
			}
		})
	}
}

// TestRunExitCode checks that run ends with its container's exit code.
func TestRunExitCode(t *testing.T) {
	t.Parallel()
	const yaml = `services:
  job:
    image: img
    command: [exit, "3"]
  db:
    image: img
  app:
    image: img
    command: [exit, "0"]
    depends_on: [db]
`
	tests := []struct {
		name      string
		args      []string
		want      int
		kept      bool // the one-off container is still there
		dbRunning bool
	}{
		{name: "the service's command", args: []string{"run", "job"}, want: 3, kept: true},
		{name: "a command given", args: []string{"run", "job", "exit", "7"}, want: 7, kept: true},
		{name: "success", args: []string{"run", "job", "exit", "0"}, want: 0, kept: true},
		{name: "--rm", args: []string{"run", "--rm", "job"}, want: 3, kept: false},
		{name: "dependencies start", args: []string{"run", "--rm", "app"}, want: 0, dbRunning: true},
		{name: "--no-deps", args: []string{"run", "--rm", "--no-deps", "app"}, want: 0, dbRunning: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newCLI(t, yaml)
			c.eng.AddImage("img")
			r := c.run(tt.args...)
			if r.code != tt.want {
				t.Errorf("exit code %d, want %d:\n%s", r.code, tt.want, r)
			}
			var oneoffs []engine.Container
			for _, ct := range c.containers("proj") {
				if ct.Labels[labels.Oneoff] == labels.True {
					oneoffs = append(oneoffs, ct)
				}
			}
			if kept := len(oneoffs) > 0; kept != tt.kept {
				t.Errorf("one-off container kept = %v, want %v", kept, tt.kept)
			}
			for _, o := range oneoffs {
				if o.State != engine.StateExited {
					t.Errorf("one-off %s is %q, want exited", o.Name, o.State)
				}
			}
			d, ok := c.inspect("proj-db-1")
			if running := ok && d.State == engine.StateRunning; running != tt.dbRunning {
				t.Errorf("db running = %v, want %v", running, tt.dbRunning)
			}
		})
	}
}

// TestRunDetached checks that run -d prints the container's name and
// leaves it running.
func TestRunDetached(t *testing.T) {
	t.Parallel()
	c := newCLI(t, "services:\n  web:\n    image: img\n")
	c.eng.AddImage("img")
	r := c.must("run", "-d", "web")
	name := strings.TrimSpace(r.stdout)
	if !strings.HasPrefix(name, "proj-web-run-") {
		t.Fatalf("stdout %q, want the one-off's name", r.stdout)
	}
	if d, ok := c.inspect(name); !ok || d.State != engine.StateRunning {
		t.Errorf("%s is %q, want running", name, d.State)
	}
}

// TestExecExitCode checks that exec ends with the command's exit code.
func TestExecExitCode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		code int
		args []string
		want int
	}{
		{name: "success", code: 0, args: []string{"exec", "web", "true"}, want: 0},
		{name: "failure", code: 5, args: []string{"exec", "web", "false"}, want: 5},
		{name: "-T", code: 5, args: []string{"exec", "-T", "web", "sh", "-c", "exit 5"}, want: 5},
		{name: "--index", code: 9, args: []string{"exec", "--index", "1", "web", "x"}, want: 9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newCLI(t, "services:\n  web:\n    image: img\n")
			c.eng.AddImage("img")
			c.eng.OnStart("img", fake.Behaviour{ExecExitCode: tt.code, ExecStdout: "out\n"})
			c.must("up", "-d")
			r := c.run(tt.args...)
			if r.code != tt.want {
				t.Errorf("exit code %d, want %d:\n%s", r.code, tt.want, r)
			}
			if r.stdout != "out\n" {
				t.Errorf("stdout %q, want the command's output", r.stdout)
			}
		})
	}
}

// TestExecNotRunning checks that exec into a service with no running
// container fails with 1.
func TestExecNotRunning(t *testing.T) {
	t.Parallel()
	c := newCLI(t, "services:\n  web:\n    image: img\n")
	c.eng.AddImage("img")
	c.must("up", "-d")
	c.must("stop")
	r := c.run("exec", "web", "true")
	if r.code != 1 || r.stderr == "" {
		t.Errorf("want exit 1 with a message:\n%s", r)
	}
	if n := c.eng.Calls("Exec"); n != 0 {
		t.Errorf("Exec called %d times on a stopped container", n)
	}
}

// TestPull checks which images pull fetches.
func TestPull(t *testing.T) {
	t.Parallel()
	const yaml = `services:
  web:
    image: web-img
    depends_on: [db]
  db:
    image: db-img
  other:
    image: other-img
`
	tests := []struct {
		name    string
		present []string // images on the engine before the pull
		args    []string
		pulled  []string // images pulled
	}{
		{name: "everything", args: []string{"pull"}, pulled: []string{"db-img", "other-img", "web-img"}},
		{name: "a service", args: []string{"pull", "web"}, pulled: []string{"web-img"}},
		{name: "--include-deps", args: []string{"pull", "--include-deps", "web"}, pulled: []string{"db-img", "web-img"}},
		{name: "present images pulled again", present: []string{"web-img"}, args: []string{"pull", "web"}, pulled: []string{"web-img"}},
		{name: "--policy missing", present: []string{"web-img"}, args: []string{"pull", "--policy", "missing"}, pulled: []string{"db-img", "other-img"}},
		{name: "--policy always", present: []string{"web-img"}, args: []string{"pull", "--policy", "always", "web"}, pulled: []string{"web-img"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newCLI(t, yaml)
			for _, img := range tt.present {
				c.eng.AddImage(img)
			}
			c.must(tt.args...)
			var pulled []string
			for _, ev := range c.eng.Published() {
				if ev.Type == "image" && ev.Action == "pull" {
					pulled = append(pulled, strings.TrimPrefix(strings.TrimSuffix(ev.Attributes["name"], ":latest"), "docker.io/library/"))
				}
			}
			slices.Sort(pulled)
			if !slices.Equal(pulled, tt.pulled) {
				t.Errorf("pulled %v, want %v", pulled, tt.pulled)
			}
			for _, img := range tt.pulled {
				if !c.hasImage(img) {
					t.Errorf("%s is not on the engine after the pull", img)
				}
			}
			if n := c.eng.Calls("CreateContainer"); n != 0 {
				t.Errorf("pull created %d containers", n)
			}
		})
	}
}

// TestPullFailure checks that a failed pull fails the command, unless
// --ignore-pull-failures.
func TestPullFailure(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		code int
	}{
		{args: []string{"pull"}, code: 1},
		{args: []string{"pull", "--ignore-pull-failures"}, code: 0},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			c := newCLI(t, twoServicesYAML)
			c.eng.Fail("PullImage", "db-img", nil)
			r := c.run(tt.args...)
			if r.code != tt.code {
				t.Errorf("exit code %d, want %d:\n%s", r.code, tt.code, r)
			}
			// Without --ignore-pull-failures the failure may cancel the
			// other pull, so only the ignoring run must have pulled web.
			if tt.code == 0 && !c.hasImage("web-img") {
				t.Errorf("web-img was not pulled")
			}
			if tt.code != 0 && !strings.Contains(r.stderr, "db-img") {
				t.Errorf("stderr does not name the image that failed:\n%s", r)
			}
		})
	}
}

// TestUpPullPolicy checks up --pull against images already present.
func TestUpPullPolicy(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args  []string
		pulls int
		code  int
	}{
		{args: []string{"up", "-d"}, pulls: 0},
		{args: []string{"up", "-d", "--pull", "missing"}, pulls: 0},
		{args: []string{"up", "-d", "--pull", "always"}, pulls: 1},
		{args: []string{"up", "-d", "--pull", "never"}, pulls: 0},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			c := newCLI(t, "services:\n  web:\n    image: img\n")
			c.eng.AddImage("img")
			r := c.run(tt.args...)
			if r.code != tt.code {
				t.Errorf("exit code %d, want %d:\n%s", r.code, tt.code, r)
			}
			if n := c.eng.Calls("PullImage"); n != tt.pulls {
				t.Errorf("%d pulls, want %d", n, tt.pulls)
			}
		})
	}
	t.Run("--pull never with a missing image", func(t *testing.T) {
		t.Parallel()
		c := newCLI(t, "services:\n  web:\n    image: img\n")
		r := c.run("up", "-d", "--pull", "never")
		if r.code != 1 {
			t.Errorf("exit code %d, want 1:\n%s", r.code, r)
		}
		if c.eng.Calls("PullImage") != 0 || len(c.containers("proj")) != 0 {
			t.Errorf("pulled or created despite --pull never")
		}
	})
}
