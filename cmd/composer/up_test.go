package main

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/composer-orchestrator/composer/engine"
	"github.com/composer-orchestrator/composer/engine/fake"
)

// TestAttachedUpExitCode checks the exit code of up without -d: that of
// the service named by --exit-code-from, that of the container which made
// it abort, or 0 once everything ended by itself.
func TestAttachedUpExitCode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		yaml string
		args []string
		want int
		// stopped are containers that keep running unless up stops them.
		stopped []string
	}{
		{
			name: "everything exits 0",
			yaml: "services:\n  a:\n    image: img\n    command: [exit, \"0\"]\n  b:\n    image: img\n    command: [exit, \"0\"]\n",
			args: []string{"up"},
			want: 0,
		},
		{
			name: "a failure without abort flags is not the exit code",
			yaml: "services:\n  a:\n    image: img\n    command: [exit, \"2\"]\n  b:\n    image: img\n    command: [exit, \"0\"]\n",
			args: []string{"up"},
			want: 0,
		},
		{
			name:    "--exit-code-from",
			yaml:    "services:\n  web:\n    image: img\n  job:\n    image: img\n    command: [exit, \"4\"]\n",
			args:    []string{"up", "--exit-code-from", "job"},
			want:    4,
			stopped: []string{"proj-web-1"},
		},
		{
			name:    "--exit-code-from a service that succeeds",
			yaml:    "services:\n  web:\n    image: img\n  job:\n    image: img\n    command: [exit, \"0\"]\n",
			args:    []string{"up", "--exit-code-from", "job"},
			want:    0,
			stopped: []string{"proj-web-1"},
		},
		{
			name:    "--abort-on-container-failure",
			yaml:    "services:\n  web:\n    image: img\n  bad:\n    image: img\n    command: [exit, \"3\"]\n",
			args:    []string{"up", "--abort-on-container-failure"},
			want:    3,
			stopped: []string{"proj-web-1"},
		},
		{
			name:    "--abort-on-container-exit",
			yaml:    "services:\n  web:\n    image: img\n  bad:\n    image: img\n    command: [exit, \"6\"]\n",
			args:    []string{"up", "--abort-on-container-exit"},
			want:    6,
			stopped: []string{"proj-web-1"},
		},
		{
			name:    "--abort-on-container-exit on a clean exit",
			yaml:    "services:\n  web:\n    image: img\n  done:\n    image: img\n    command: [exit, \"0\"]\n",
			args:    []string{"up", "--abort-on-container-exit"},
			want:    0,
			stopped: []string{"proj-web-1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newCLI(t, tt.yaml)
			c.eng.AddImage("img")
			r := c.run(tt.args...)
			if r.code != tt.want {
				t.Errorf("exit code %d, want %d:\n%s", r.code, tt.want, r)
			}
			if !strings.Contains(r.stdout, "Attaching to ") {
				t.Errorf("stdout does not say what it attaches to:\n%s", r)
			}
			for _, name := range tt.stopped {
				if d, ok := c.inspect(name); !ok || d.State != engine.StateExited {
					t.Errorf("%s is %q, want exited", name, d.State)
				}
			}
			for _, ct := range c.containers("proj") {
				if ct.State == engine.StateRunning {
					t.Errorf("%s still runs after up returned", ct.Name)
				}
			}
		})
	}
}

// blockingStopEngine makes every stop hang until its context ends, as a
// container that ignores SIGTERM does for the length of its stop timeout.
type blockingStopEngine struct {
	engine.Engine
	stopping chan string
}

func (e *blockingStopEngine) StopContainer(ctx context.Context, id string, timeout *time.Duration) error {
	select {
	case e.stopping <- id:
	default:
	}
	<-ctx.Done()
	return ctx.Err()
}

// attachedUp runs up without -d in the background and returns where its
// result arrives, after the container called running runs.
func (c *cli) attachedUp(interrupts chan os.Signal, running string, args ...string) <-chan result {
	c.t.Helper()
	done := make(chan result, 1)
	go func() { done <- c.runWithInterrupts(interrupts, args...) }()
	c.eventually(running+" runs", func() bool {
		d, ok := c.inspect(running)
		return ok && d.State == engine.StateRunning
	})
	return done
}

func waitResult(t *testing.T, done <-chan result) result {
	t.Helper()
	select {
	case r := <-done:
		return r
	case <-time.After(15 * time.Second):
		t.Fatal("up did not return after the interrupt")
	}
	return result{}
}

// TestInterruptAttachedUp checks Ctrl-C on up without -d: the first stops
// the project gracefully, a second one kills it; either way the command
// exits 130.
func TestInterruptAttachedUp(t *testing.T) {
	t.Parallel()
	const yaml = "services:\n  web:\n    image: img\n  db:\n    image: img\n"
	t.Run("one interrupt stops", func(t *testing.T) {
		t.Parallel()
		c := newCLI(t, yaml)
		c.eng.AddImage("img")
		interrupts := make(chan os.Signal, 2)
		done := c.attachedUp(interrupts, "proj-web-1", "up")
		c.eventually("db runs", func() bool { d, ok := c.inspect("proj-db-1"); return ok && d.State == engine.StateRunning })
		interrupts <- os.Interrupt
		r := waitResult(t, done)
		if r.code != 130 {
			t.Errorf("exit code %d, want 130:\n%s", r.code, r)
		}
		if !strings.Contains(r.stderr, "Gracefully stopping") {
			t.Errorf("stderr does not say it stops:\n%s", r)
		}
		for _, name := range []string{"proj-web-1", "proj-db-1"} {
			d, ok := c.inspect(name)
			if !ok {
				t.Errorf("%s was removed, want it stopped", name)
				continue
			}
			// The fake's process handles SIGTERM and exits 0; a kill
			// would have made it 137.
			if d.State != engine.StateExited || d.ExitCode != 0 {
				t.Errorf("%s: state %q exit %d, want exited 0 after a graceful stop", name, d.State, d.ExitCode)
			}
		}
	})
	t.Run("a second interrupt kills", func(t *testing.T) {
		t.Parallel()
		c := newCLI(t, yaml)
		c.eng.AddImage("img")
		blocking := &blockingStopEngine{stopping: make(chan string, 1)}
		c.wrap = func(e engine.Engine) engine.Engine {
			blocking.Engine = e
			return blocking
		}
		interrupts := make(chan os.Signal, 2)
		done := c.attachedUp(interrupts, "proj-web-1", "up")
		c.eventually("db runs", func() bool { d, ok := c.inspect("proj-db-1"); return ok && d.State == engine.StateRunning })
		interrupts <- os.Interrupt
		select {
		case <-blocking.stopping:
		case <-time.After(10 * time.Second):
			t.Fatal("the first interrupt did not stop anything")
		}
		interrupts <- os.Interrupt
		r := waitResult(t, done)
		if r.code != 130 {
			t.Errorf("exit code %d, want 130:\n%s", r.code, r)
		}
		for _, name := range []string{"proj-web-1", "proj-db-1"} {
			d, ok := c.inspect(name)
			if !ok || d.State != engine.StateExited || d.ExitCode != 137 {
				t.Errorf("%s: state %q exit %d, want exited 137 (killed)", name, d.State, d.ExitCode)
			}
		}
	})
}

// TestInterruptDetachedCommand checks that Ctrl-C during a command that
// does not handle it itself ends with 130 too.
func TestInterruptDetachedCommand(t *testing.T) {
	t.Parallel()
	c := newCLI(t, "services:\n  web:\n    image: img\n")
	c.eng.AddImage("img")
	// logs -f follows until interrupted.
	c.must("up", "-d")
	interrupts := make(chan os.Signal, 1)
	done := make(chan result, 1)
	go func() { done <- c.runWithInterrupts(interrupts, "logs", "-f") }()
	c.eventually("logs follows", func() bool { return c.eng.Calls("ContainerLogs") > 0 })
	interrupts <- os.Interrupt
	r := waitResult(t, done)
	if r.code != 130 {
		t.Errorf("exit code %d, want 130:\n%s", r.code, r)
	}
	if d, _ := c.inspect("proj-web-1"); d.State != engine.StateRunning {
		t.Errorf("proj-web-1 is %q, want it left running by logs", d.State)
	}
}

// TestRemoveOrphans checks up -d with --remove-orphans and
// COMPOSE_REMOVE_ORPHANS: containers of services no longer in the file are
// removed only when asked.
func TestRemoveOrphans(t *testing.T) {
	t.Parallel()
	const before = "services:\n  web:\n    image: img\n  old:\n    image: img\n"
	const after = "services:\n  web:\n    image: img\n"
	tests := []struct {
		name string
		env  []string
		args []string
		want []string
	}{
		{name: "kept by default", args: []string{"up", "-d"}, want: []string{"proj-old-1", "proj-web-1"}},
		{name: "--remove-orphans", args: []string{"up", "-d", "--remove-orphans"}, want: []string{"proj-web-1"}},
		{name: "COMPOSE_REMOVE_ORPHANS=1", env: []string{"COMPOSE_REMOVE_ORPHANS=1"}, args: []string{"up", "-d"}, want: []string{"proj-web-1"}},
		{name: "COMPOSE_REMOVE_ORPHANS=true", env: []string{"COMPOSE_REMOVE_ORPHANS=true"}, args: []string{"up", "-d"}, want: []string{"proj-web-1"}},
		{name: "COMPOSE_REMOVE_ORPHANS=false", env: []string{"COMPOSE_REMOVE_ORPHANS=false"}, args: []string{"up", "-d"}, want: []string{"proj-old-1", "proj-web-1"}},
		{name: "down with COMPOSE_REMOVE_ORPHANS", env: []string{"COMPOSE_REMOVE_ORPHANS=1"}, args: []string{"down"}, want: nil},
		{name: "down keeps orphans by default", args: []string{"down"}, want: []string{"proj-old-1"}},
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
			if got := c.containerNames("proj"); !slices.Equal(got, tt.want) {
				t.Errorf("containers = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestProgressModes checks what up -d writes on stderr for each
// --progress mode and COMPOSE_PROGRESS.
func TestProgressModes(t *testing.T) {
	t.Parallel()
	plain := func(t *testing.T, stderr string) {
		lines := strings.Split(stderr, "\n")
		for _, want := range []string{" Container proj-web-1  Started", " Container proj-db-1  Started", " Network proj_default  Created"} {
			if !slices.Contains(lines, want) {
				t.Errorf("no line %q in:\n%s", want, stderr)
			}
		}
		if strings.Contains(stderr, "\x1b[") {
			t.Errorf("plain progress has escape sequences:\n%q", stderr)
		}
	}
	jsonLines := func(t *testing.T, stderr string) {
		objs := jsonObjects(t, stderr)
		if len(objs) == 0 {
			t.Fatal("no progress on stderr")
		}
		started := false
		for _, o := range objs {
			if _, ok := o["status"].(string); !ok {
				t.Errorf("object %v has no status", o)
			}
			if o["name"] == "proj-web-1" && o["status"] == "Started" && o["kind"] == "Container" && o["done"] == true {
				started = true
			}
		}
		if !started {
			t.Errorf("no object says proj-web-1 Started:\n%s", stderr)
		}
	}
	quiet := func(t *testing.T, stderr string) {
		if stderr != "" {
			t.Errorf("stderr = %q, want nothing", stderr)
		}
	}
	tests := []struct {
		name  string
		env   []string
		args  []string
		check func(t *testing.T, stderr string)
	}{
		{name: "--progress plain", args: []string{"--progress", "plain", "up", "-d"}, check: plain},
		{name: "--ansi never", args: []string{"--ansi", "never", "up", "-d"}, check: plain},
		{name: "not a terminal", args: []string{"up", "-d"}, check: plain},
		{name: "--progress json", args: []string{"--progress", "json", "up", "-d"}, check: jsonLines},
		{name: "COMPOSE_PROGRESS=json", env: []string{"COMPOSE_PROGRESS=json"}, args: []string{"up", "-d"}, check: jsonLines},
		{name: "--progress wins over COMPOSE_PROGRESS", env: []string{"COMPOSE_PROGRESS=quiet"}, args: []string{"--progress", "json", "up", "-d"}, check: jsonLines},
		{name: "--progress quiet", args: []string{"--progress", "quiet", "up", "-d"}, check: quiet},
		{name: "COMPOSE_PROGRESS=quiet", env: []string{"COMPOSE_PROGRESS=quiet"}, args: []string{"up", "-d"}, check: quiet},
		{name: "--progress json down", args: []string{"--progress", "json", "down"}, check: func(t *testing.T, stderr string) {
			found := false
			for _, o := range jsonObjects(t, stderr) {
				found = found || o["name"] == "proj-web-1" && o["status"] == "Removed"
			}
			if !found {
				t.Errorf("no object says proj-web-1 Removed:\n%s", stderr)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newCLI(t, "services:\n  web:\n    image: img\n  db:\n    image: img\n")
			c.eng.AddImage("img")
			if tt.args[len(tt.args)-1] == "down" {
				c.must("up", "-d")
			}
			c.env = tt.env
			r := c.must(tt.args...)
			tt.check(t, r.stderr)
			if r.stdout != "" {
				t.Errorf("stdout = %q, want nothing", r.stdout)
			}
		})
	}
}

// TestLoadWarnings checks that the loader's warnings reach the user as
// plain lines, or as JSON objects in json progress mode, never as logger
// records.
func TestLoadWarnings(t *testing.T) {
	t.Parallel()
	const yaml = "services:\n  web:\n    image: img${UNSET_VARIABLE}\n"
	tests := []struct {
		name string
		env  []string
		args []string
		json bool
	}{
		{name: "up -d", args: []string{"up", "-d"}},
		{name: "config", args: []string{"config", "--services"}},
		{name: "ps", args: []string{"ps"}},
		{name: "--progress quiet", args: []string{"--progress", "quiet", "up", "-d"}},
		{name: "--progress json", args: []string{"--progress", "json", "up", "-d"}, json: true},
		{name: "COMPOSE_PROGRESS=json", env: []string{"COMPOSE_PROGRESS=json"}, args: []string{"up", "-d"}, json: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newCLI(t, yaml)
			c.eng.AddImage("img")
			c.env = tt.env
			r := c.must(tt.args...)
			if strings.Contains(r.stderr, "level=") {
				t.Errorf("stderr has a logger record:\n%s", r)
			}
			if !tt.json {
				n := 0
				for _, line := range strings.Split(r.stderr, "\n") {
					if strings.HasPrefix(line, "warning: ") && strings.Contains(line, "UNSET_VARIABLE") {
						n++
					}
				}
				if n != 1 {
					t.Errorf("%d warning lines about UNSET_VARIABLE, want 1:\n%s", n, r)
				}
				return
			}
			n := 0
			for _, o := range jsonObjects(t, r.stderr) {
				if text, _ := o["text"].(string); o["status"] == "Warning" && strings.Contains(text, "UNSET_VARIABLE") {
					n++
				}
			}
			if n != 1 {
				t.Errorf("%d JSON warnings about UNSET_VARIABLE, want 1:\n%s", n, r)
			}
		})
	}
}

// TestUpIsIdempotent checks that a second up -d changes nothing and a
// --force-recreate replaces the containers.
func TestUpIsIdempotent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args     []string
		recreate bool
	}{
		{args: []string{"up", "-d"}},
		{args: []string{"up", "-d", "--no-recreate"}},
		{args: []string{"up", "-d", "--force-recreate"}, recreate: true},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			c := newCLI(t, "services:\n  web:\n    image: img\n")
			c.eng.AddImage("img")
			c.must("up", "-d")
			first, _ := c.inspect("proj-web-1")
			c.must(tt.args...)
			second, ok := c.inspect("proj-web-1")
			if !ok || second.State != engine.StateRunning {
				t.Fatalf("proj-web-1 is not running after %v", tt.args)
			}
			if recreated := second.ID != first.ID; recreated != tt.recreate {
				t.Errorf("recreated = %v, want %v", recreated, tt.recreate)
			}
			if got := c.containerNames("proj"); !slices.Equal(got, []string{"proj-web-1"}) {
				t.Errorf("containers = %v", got)
			}
		})
	}
}

// TestAttachedUpSupervises checks that up without -d keeps the project
// healthy while it follows the logs, as composer supervise does: a
// container that opted in and turns unhealthy is restarted.
func TestAttachedUpSupervises(t *testing.T) {
	t.Parallel()
	c := newCLI(t, `services:
  web:
    image: img
    labels: {autoheal: "true"}
    healthcheck: {test: ["CMD", "true"], interval: 1h}
`)
	c.eng.AddImage("img")
	c.eng.OnStart("img", fake.Behaviour{HealthAfter: 10 * time.Millisecond, ExecExitCode: 1})
	interrupts := make(chan os.Signal, 2)
	done := c.attachedUp(interrupts, "proj-web-1", "--progress", "plain", "up")
	c.eventually("web is healthy", func() bool { d, ok := c.inspect("proj-web-1"); return ok && d.Health == engine.HealthHealthy })
	before, _ := c.inspect("proj-web-1")
	// No probe of the supervise lock here: a probe holding it for a
	// moment would make the attached up's one try fail. The supervisor
	// restarts a container that is unhealthy when it begins as well as
	// one that turns unhealthy later, so either order works.
	if err := c.eng.SetHealth("proj-web-1", engine.HealthUnhealthy); err != nil {
		t.Fatal(err)
	}
	c.eventually("web is restarted", func() bool {
		d, ok := c.inspect("proj-web-1")
		return ok && d.StartedAt.After(before.StartedAt)
	})
	interrupts <- os.Interrupt
	r := waitResult(t, done)
	if !strings.Contains(r.stderr, "Container proj-web-1  Restarted (unhealthy for 3 checks)") {
		t.Errorf("the restart is not reported:\n%s", r)
	}
}
